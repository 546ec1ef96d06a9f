"""``ovmer score PATH... [--protocol NAME [--level 1|2] [--onehot FILE|mer2023]] [--gt CSV] [--json]
[--missing-as-empty] [--parser authors|ovmer]``."""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

from ovmer.errors import OvmerError
from ovmer.scoring.files import file_task, find_label_files
from ovmer.scoring.metrics import DEFAULT_PARSER, LABEL_PARSERS, read_ground_truth_csv
from ovmer.scoring.protocols import DEFAULT_PROTOCOL, PROTOCOLS, make_protocol
from ovmer.scoring.resources import load_resources
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
        "--json", action="store_true", help="print a JSON list, one object per file (fractions)"
    )
    parser.add_argument(
        "--missing-as-empty",
        action="store_true",
        help="score ground-truth samples missing from a file as empty predictions instead of failing",
    )
    parser.add_argument(
        "--protocol",
        choices=PROTOCOLS.names(),
        default=DEFAULT_PROTOCOL,
        help="how the wheel scores are aggregated: " + "; ".join(f"{e.name}: {e.help}" for e in PROTOCOLS.entries()),
    )
    parser.add_argument(
        "--level", type=int, choices=(1, 2), default=None, help="affectgpt: the wheel level to score (default 1)"
    )
    parser.add_argument(
        "--onehot",
        metavar="FILE|mer2023",
        default=None,
        help="hit-rate: one basic-emotion label per sample, a name, label CSV or mer2023 (the default: "
        "OV-MERD's MER2023 labels)",
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


def main(args: argparse.Namespace) -> int:
    protocol = make_protocol(args.protocol, level=args.level, onehot=args.onehot)
    if args.gt and not protocol.uses_ground_truth:
        raise OvmerError(f"--gt does not apply to {protocol.name}, which scores against --onehot labels")
    ground_truth = read_ground_truth_csv(args.gt, args.parser) if args.gt else None
    resources = load_resources()
    results = []
    for file, baseline in expand_paths(args.paths):
        # Warnings (ignored extra samples, error records) go to stderr as one plain line each.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            task = file_task(
                file,
                ground_truth,
                missing_as_empty=args.missing_as_empty,
                parser=args.parser,
                resources=resources,
                baseline=baseline,
            )
            results.append(protocol.evaluate(task))
        for warning in caught:
            print(f"ovmer score: warning: {warning.message}", file=sys.stderr)
    if args.json:
        print(json.dumps([protocol.to_json(result) for result in results], indent=2))
    else:
        print(protocol.format_results(results))
    return 0
