"""``ovmer fetch``."""

from __future__ import annotations

import argparse

from ovmer.assets.fetch import SOURCE_ENV, fetch, load_manifest


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--source", help=f"local mirror folder to copy from (default: ${SOURCE_ENV}, else upstream)")
    parser.add_argument("--dest", help="data folder (default: $OVMER_DATA, else ./data)")
    parser.add_argument("--list", action="store_true", help="list the manifest and exit")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def main(args: argparse.Namespace) -> int:
    if args.list:
        for entry in load_manifest().values():
            print(f"{entry.sha256}  {entry.bytes:>9}  {entry.path}")
        return 0
    report = fetch(source=args.source, dest=args.dest, progress=not args.quiet)
    print(report.summary())
    return 0
