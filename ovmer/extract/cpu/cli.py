"""``ovmer fit-extractor``: fit the CPU label extractor into the data folder's cache."""

from __future__ import annotations

import argparse
import json

from ovmer.extract.cpu import training


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=None, help="data folder holding the assets (default: OVMER_DATA or ./data)")
    parser.add_argument(
        "--exclude",
        action="append",
        default=[],
        metavar="BASELINE",
        choices=training.TRAINING_BASELINES,
        help="leave this baseline's pairs out (repeatable), e.g. for a held-out evaluation",
    )
    parser.add_argument("--json", action="store_true", help="print the training summary as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def main(args: argparse.Namespace) -> int:
    extractor = training.fit_released(args.exclude, data=args.data, progress=not args.quiet)
    path = extractor.save(training.extractor_path(args.data, args.exclude))
    summary = {**extractor.info, "path": str(path), "fingerprint": extractor.fingerprint()}
    if args.json:
        print(json.dumps(summary, indent=2, sort_keys=True))
        return 0
    width = max(len(k) for k in summary)
    for key, value in summary.items():
        print(f"{key:<{width}}  {value}")
    return 0
