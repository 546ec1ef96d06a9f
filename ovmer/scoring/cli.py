"""``ovmer score PATH... [--gt CSV] [--json] [--missing-as-empty]``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from ovmer.errors import OvmerError
from ovmer.scoring.files import find_label_files, score_file
from ovmer.scoring.mapping import METRIC_NAMES
from ovmer.scoring.metrics import DEFAULT_PARSER, LABEL_PARSERS, M_AVG, ScoreReport, read_ground_truth_csv
from ovmer.scoring.resources import load_resources
from ovmer.scoring.variance import format_spreads, repeat_spreads
from ovmer.store.jsonl import stage_of_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="an openset npz, a results-store JSONL of label lists, a CSV with name, openset, or a folder "
        "(every label file below it; its first folder level names the baseline)",
    )
    parser.add_argument("--gt", metavar="CSV", help="ground truth CSV (name, openset); default: OV-MERD's")
    parser.add_argument(
        "--json", action="store_true",
        help="print a JSON list, one object per file (fractions), then one per group of repeated extraction "
        "runs (kind: repeats)"
    )
    parser.add_argument(
        "--missing-as-empty",
        action="store_true",
        help="score ground-truth samples missing from a file as empty predictions instead of failing",
    )
    parser.add_argument(
        "--parser",
        choices=LABEL_PARSERS.names(),
        default=DEFAULT_PARSER,
        help="label-list reader: the authors' (reproduces the paper; default) or ovmer.labels.parse_labels",
    )


def expand_paths(paths: list[str]) -> list[tuple[Path, str | None]]:
    """(file, baseline) for every file named or found below a named folder."""
    out: list[tuple[Path, str | None]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = find_label_files(path)
            if not files:
                raise OvmerError(
                    f"{path}: no label files (*openset*.npz, *.jsonl, name/openset CSV) below it"
                )
            for file in files:
                parts = file.relative_to(path).parts
                if stage_of_path(file) is not None:  # store/<stage>/<baseline>/<setting>.jsonl
                    out.append((file, file.parent.name))
                else:
                    out.append((file, parts[0] if len(parts) > 1 else path.resolve().name))
        elif path.is_file():
            out.append((path, None))
        else:
            raise OvmerError(f"{path}: no such file or folder")
    return out


def format_table(reports: list[ScoreReport]) -> str:
    short = [name.replace("M3-", "") for name in METRIC_NAMES] + [M_AVG]
    header = ["baseline", "setting", "n"] + short + ["file"]
    rows = []
    for report in reports:
        values = report.f_row(100.0)
        rows.append(
            [report.baseline or "-", report.setting or "-", str(report.n_scored)]
            + [f"{values[name]:.2f}" for name in (*METRIC_NAMES, M_AVG)]
            + [report.file or "-"]
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = []
    for row in [header, *rows]:
        cells = [
            cell.ljust(width) if i in (0, 1, len(header) - 1) else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n(F × 100; n: samples scored)"


def main(args: argparse.Namespace) -> int:
    ground_truth = read_ground_truth_csv(args.gt, args.parser) if args.gt else None
    resources = load_resources()
    reports = []
    for file, baseline in expand_paths(args.paths):
        # Warnings (ignored extra samples, error records) go to stderr as one plain line each.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reports.append(
                score_file(
                    file,
                    ground_truth,
                    missing_as_empty=args.missing_as_empty,
                    parser=args.parser,
                    resources=resources,
                    baseline=baseline,
                )
            )
        for warning in caught:
            print(f"ovmer score: warning: {warning.message}", file=sys.stderr)
    # Repeated extraction runs (`ovmer extract --repeats`) also get their spread across runs.
    spreads = repeat_spreads(reports, ground_truth, parser=args.parser, resources=resources,
                             missing_as_empty=args.missing_as_empty)
    if args.json:
        print(json.dumps([report.to_dict() for report in reports] + [s.to_dict() for s in spreads], indent=2))
    else:
        print(format_table(reports))
        if spreads:
            print(f"\n{format_spreads(spreads)}")
    return 0
