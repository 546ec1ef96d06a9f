"""``ovmer reproduce``: regenerate the paper's tables and figures through the notebooks."""

from __future__ import annotations

import argparse
from pathlib import Path

from ovmer.assets import fetch
from ovmer.reproduce.runner import ReproduceOptions, check_backends, refresh_notebooks, run_reproduction
from ovmer.reproduce.steps import StepRun
from ovmer.store.authors_npz import import_released


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--smoke", action="store_true",
                        help="two baselines, 100 bootstrap draws: seconds; written under <output>/smoke")
    parser.add_argument("--extract-backend", metavar="NAME",
                        help="re-extract the released baselines' labels with this backend (cpu, transformers, "
                             "vllm, openai, replay) and score those instead of the released label files")
    parser.add_argument("--llm-model", metavar="MODEL",
                        help="model folder or id for an LLM extract/merge backend")
    parser.add_argument("--merge-backend", metavar="NAME",
                        help="LLM backend that makes S2 (clue merging) for --extra-baseline systems; "
                             "without it they are scored in the settings they have")
    parser.add_argument("--extra-baseline", metavar="DIR", action="append", type=Path, default=[],
                        help="a folder of your describe-stage store files (<setting>.jsonl), named after the "
                             "system; repeatable. Its labels are extracted (--extract-backend, default cpu) "
                             "and scored beside the released baselines")
    parser.add_argument("--figures-dir", metavar="DIR", type=Path,
                        help="write the figures here instead of the committed figures/ folder")
    parser.add_argument("--force", action="store_true", help="run every notebook even if it is up to date")
    parser.add_argument("--refresh-notebooks", action="store_true",
                        help="maintainers: execute the committed notebooks in smoke mode and store their "
                             "clean outputs in notebooks/ (nothing else is written)")
    parser.add_argument("--no-fetch", action="store_true", help="do not fetch/verify the assets first")


def _print_step(run: StepRun) -> None:
    why = f"  ({run.reason})" if run.status == "ran" and run.reason else ""
    print(f"  {run.name:<18} {run.status:<7} {run.seconds:6.1f} s{why}", flush=True)


def _shown(path: Path) -> str:
    """``path`` relative to the working directory when it lies below it, else absolute."""
    resolved = path.resolve()
    try:
        return str(resolved.relative_to(Path.cwd()))
    except ValueError:
        return str(resolved)


def main(args: argparse.Namespace) -> int:
    if args.refresh_notebooks:
        print("executing the committed notebooks in smoke mode:")
        for run in refresh_notebooks():
            _print_step(run)
        return 0
    # A misspelt backend fails here, before the assets, the import and the first notebook.
    check_backends(ReproduceOptions(extract_backend=args.extract_backend, merge_backend=args.merge_backend))
    if not args.no_fetch:
        report = fetch(progress=False)
        print(f"assets: {report.summary()}")
    if not args.smoke:
        imported = import_released()
        added = sum(item.summary.done for item in imported)
        print(f"released outputs: {len(imported)} files in the results store ({added} new records)")
    options = ReproduceOptions(
        smoke=args.smoke,
        extract_backend=args.extract_backend,
        llm_model=args.llm_model,
        merge_backend=args.merge_backend,
        extra_baselines=tuple(args.extra_baseline),
        force=args.force,
        figures_dir=args.figures_dir,
    )
    print("running the notebooks:")
    summary = run_reproduction(options, on_step=_print_step)
    print(f"  {'total':<18} {'':<7} {sum(r.seconds for r in summary.runs):6.1f} s")
    layout = summary.layout
    main_table = layout.tables / "table1_summary.md"
    if main_table.is_file():
        print()
        print(main_table.read_text(encoding="utf-8").rstrip())
    print()
    print(f"executed notebooks: {_shown(layout.notebooks)}/")
    print(f"tables (CSV, Markdown, LaTeX): {_shown(layout.tables)}/")
    print(f"figures (PNG, PDF): {_shown(layout.figures)}/")
    print(f"scores cache: {_shown(layout.scores)}")
    return 0
