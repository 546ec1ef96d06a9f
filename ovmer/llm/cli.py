"""``ovmer merge``, ``ovmer extract`` and ``ovmer group``: the LLM text stages from the command line."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ovmer.data.released import RELEASED_BASELINES
from ovmer.devices import DTYPE_CHOICES
from ovmer.engines.cli import add_engine_arguments, engine_from_args
from ovmer.errors import OvmerError
from ovmer.extract import run_extract, run_extract_repeats
from ovmer.group import run_group
from ovmer.llm.presets import DEFAULT_PRESET, PRESETS, get_preset
from ovmer.llm.registry import BACKENDS
from ovmer.llm.server_options import add_server_arguments, server_options
from ovmer.merge import run_merge
from ovmer.settings import Setting
from ovmer.store import StageSummary, store_path

SHOWN_FAILURES = 5


def _add_backend_arguments(parser: argparse.ArgumentParser, backends: list[str], default: str | None) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--backend",
        choices=backends,
        default=default,
        required=default is None,
        help="which backend answers the prompts" + (f" (default: {default})" if default else ""),
    )
    group.add_argument(
        "--model",
        help="transformers/vllm: a local model folder or a .gguf file (converted once, cached); openai: the "
        "served model's name; replay: 'released' (default) or a results-store .jsonl / authors' .npz file",
    )
    group.add_argument(
        "--preset",
        choices=list(PRESETS),
        default=DEFAULT_PRESET,
        help=f"generation settings (default: {DEFAULT_PRESET}, i.e. greedy; "
        "paper: temperature 0.7, top_p 0.8, repetition penalty 1.05)",
    )
    group.add_argument("--max-new-tokens", type=int,
                       help="reply length limit (default: the stage's: extract 128 and group 256 tokens, a reply "
                       "cut there generated again with 512; merge 512); an explicit limit is never extended")
    group.add_argument("--no-stop", action="store_true",
                       help="extract/group: do not stop at the end of the label list (the paper preset never does)")
    group.add_argument("--seed", type=int, help="sampling seed (paper preset)")
    group.add_argument("--prompt", help="a packaged prompt id (default: the stage's current prompt)")
    group.add_argument("--batch-size", type=int, help="prompts sent to the backend at once")
    local = parser.add_argument_group("transformers / vllm")
    local.add_argument("--device", help="cpu, cuda or cuda:N (default: cuda when available)")
    local.add_argument("--dtype", choices=list(DTYPE_CHOICES),
                       help="transformers: auto (default) is bfloat16 on a CPU with bfloat16 instructions, "
                       "float32 on other CPUs, the checkpoint's own dtype on CUDA")
    local.add_argument("--tensor-parallel-size", type=int, help="vllm: GPUs per model")
    local.add_argument("--enforce-eager", action="store_true",
                       help="vllm: skip graph compilation (faster start, slower generation)")
    add_server_arguments(parser)


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    run = parser.add_argument_group("run")
    run.add_argument("--output", help="results root holding store/ (default: OVMER_OUTPUT or ./output)")
    run.add_argument("--limit", type=int, help="only the first N samples")
    run.add_argument("--names", nargs="+", help="only these samples")
    run.add_argument("--quiet", action="store_true", help="no progress bars")
    add_engine_arguments(parser)


def _baselines(values: list[str]) -> list[str]:
    return list(RELEASED_BASELINES) if values == ["all"] else values


def _settings(values: list[str]) -> list[Setting]:
    try:
        return [Setting.parse(v) for v in values]
    except ValueError as exc:
        raise OvmerError(str(exc)) from exc


def backend_options(args: argparse.Namespace) -> dict[str, Any]:
    """The command-line options that the chosen backend's constructor takes."""
    if args.backend == "transformers":
        return {"device": args.device, "dtype": args.dtype}
    if args.backend == "vllm":
        return {"dtype": args.dtype, "tensor_parallel_size": args.tensor_parallel_size,
                "enforce_eager": args.enforce_eager}
    if args.backend == "openai":
        return server_options(args)
    return {}


def stage_options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {
        "backend": args.backend,
        "model": args.model,
        "store_root": args.output,
        "limit": args.limit,
        "names": args.names,
        "progress": not args.quiet,
        "engine": engine_from_args(args),
    }
    if args.backend != "cpu":
        options["settings"] = get_preset(args.preset).replace(
            max_new_tokens=args.max_new_tokens, seed=args.seed, stop=() if args.no_stop else None
        )
        options["backend_options"] = backend_options(args)
    if args.prompt:
        options["prompt"] = args.prompt
    if args.batch_size:
        options["batch_size"] = args.batch_size
    elif args.backend == "openai":
        options["batch_size"] = 4 * (args.concurrency or 8)
    return options


def report(
    stage: str, baseline: str, setting: Setting, summary: StageSummary, root: str | None, seed: int | None = None
) -> None:
    path = store_path(stage, baseline, setting, root, seed=seed)
    print(f"{stage} {baseline}/{setting.value}: {summary} -> {path}")
    for name, error in list(summary.failures.items())[:SHOWN_FAILURES]:
        print(f"  failed {name}: {error}", file=sys.stderr)
    if summary.failed > SHOWN_FAILURES:
        print(
            f"  ... and {summary.failed - SHOWN_FAILURES} more (error records in the store file)",
            file=sys.stderr,
        )


def _finish(totals: StageSummary, runs: int) -> int:
    if runs > 1:
        print(f"total: {totals}")
    return 1 if totals.failed else 0


# --- merge ---------------------------------------------------------------------------------------


def add_merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline", nargs="+", required=True, help="baseline name(s), or 'all' released ones"
    )
    parser.add_argument(
        "--source",
        choices=["auto", "store", "released"],
        default="auto",
        help="nosubtitle descriptions from the results store or the released files (auto: store first)",
    )
    parser.add_argument("--input", help="descriptions file instead (.csv name+description, .jsonl, .npz)")
    parser.add_argument("--subtitles", help="subtitle CSV (name, english) instead of OV-MERD's")
    _add_backend_arguments(parser, sorted(BACKENDS), None)
    _add_run_arguments(parser)


def main_merge(args: argparse.Namespace) -> int:
    baselines = _baselines(args.baseline)
    if args.input and len(baselines) != 1:
        raise OvmerError("--input holds one baseline's descriptions; name exactly one --baseline")
    totals = StageSummary()
    for baseline in baselines:
        summary = run_merge(
            baseline,
            source=args.source,
            descriptions=args.input,
            subtitles=args.subtitles,
            **stage_options(args),
        )
        report("merge", baseline, Setting.NOSUBTITLE_ADDSUB, summary, args.output)
        totals.add(summary)
    return _finish(totals, len(baselines))


# --- extract -------------------------------------------------------------------------------------


def add_extract_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline", nargs="+", required=True, help="baseline name(s), or 'all' released ones"
    )
    parser.add_argument(
        "--setting",
        nargs="+",
        default=[s.value for s in Setting],
        help="setting(s): nosubtitle/S0, subtitle/S1, nosubtitle-addsub/S2 (default: all)",
    )
    parser.add_argument(
        "--source",
        choices=["auto", "store", "released"],
        default="auto",
        help="descriptions from the results store or the released files (auto: store first)",
    )
    parser.add_argument("--input", help="descriptions file instead (.csv name+description, .jsonl, .npz)")
    parser.add_argument(
        "--repeats", type=int,
        help="K sampled runs (a sampling preset such as paper), seeds --seed (default 0) to --seed+K-1, "
        "each in its own store file <setting>.seed-<s>.jsonl; `ovmer score` reports their spread",
    )
    _add_backend_arguments(parser, ["cpu", *sorted(BACKENDS)], "cpu")
    _add_run_arguments(parser)


def main_extract(args: argparse.Namespace) -> int:
    baselines, settings = _baselines(args.baseline), _settings(args.setting)
    if args.input and len(baselines) * len(settings) != 1:
        raise OvmerError("--input holds one file of descriptions; name exactly one --baseline and --setting")
    totals, runs = StageSummary(), 0
    for baseline in baselines:
        for setting in settings:
            if args.repeats is None:
                summaries = {None: run_extract(
                    baseline, setting, source=args.source, descriptions=args.input, **stage_options(args)
                )}
            else:
                options = stage_options(args)
                sampling = options.pop("settings", None)
                summaries = run_extract_repeats(
                    baseline, setting, repeats=args.repeats, seed=args.seed or 0, settings=sampling,
                    source=args.source, descriptions=args.input, **options,
                )
            for seed, summary in summaries.items():
                report("extract", baseline, setting, summary, args.output, seed=seed)
                totals.add(summary)
                runs += 1
    return _finish(totals, runs)


# --- group ---------------------------------------------------------------------------------------


def add_group_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        required=True,
        help="whose extracted labels to group (with --predictions: the name to store under)",
    )
    parser.add_argument(
        "--setting",
        default=Setting.NOSUBTITLE_ADDSUB.value,
        help="setting of the extracted labels (default: nosubtitle-addsub)",
    )
    parser.add_argument("--predictions", help="predicted labels file instead (.csv name+openset, or .jsonl)")
    parser.add_argument("--cache", help="grouping cache file (default: one per model in the data cache)")
    _add_backend_arguments(parser, sorted(BACKENDS), None)
    _add_run_arguments(parser)


def main_group(args: argparse.Namespace) -> int:
    setting = _settings([args.setting])[0]
    summary = run_group(
        args.baseline, setting, predictions=args.predictions, cache=args.cache, **stage_options(args)
    )
    report("group", args.baseline, setting, summary, args.output)
    return _finish(summary, 1)
