"""``ovmer import-released``: the authors' released outputs into the results store."""

from __future__ import annotations

import argparse

from ovmer.data.released import RELEASED_BASELINES
from ovmer.errors import OvmerError
from ovmer.settings import Setting
from ovmer.store.authors_npz import import_released

OUTPUT_HELP = "output folder holding store/ (default: $OVMER_OUTPUT, else ./output)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--baseline",
        action="append",
        metavar="NAME",
        help=f"baseline to import (repeatable; default: all of {', '.join(RELEASED_BASELINES)})",
    )
    parser.add_argument(
        "--setting",
        action="append",
        metavar="S",
        help="setting to import: nosubtitle/S0, subtitle/S1, nosubtitle-addsub/S2 (repeatable; default: all)",
    )
    parser.add_argument("--output", help=OUTPUT_HELP)
    parser.add_argument("--quiet", action="store_true", help="no progress bars, only the total")


def main(args: argparse.Namespace) -> int:
    try:
        settings = [Setting.parse(s) for s in args.setting] if args.setting else None
    except ValueError as exc:  # Setting.parse says which values exist
        raise OvmerError(str(exc)) from exc
    results = import_released(args.baseline, settings, root=args.output, progress=not args.quiet)
    if not args.quiet:
        for result in results:
            print(result)
    added = sum(r.summary.done for r in results)
    skipped = sum(r.summary.skipped for r in results)
    failed = sum(r.summary.failed for r in results)
    print(f"imported {len(results)} released files: {added} records added, {skipped} already present, "
          f"{failed} failed")
    return 1 if failed else 0
