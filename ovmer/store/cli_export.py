"""``ovmer export``: a results-store file back to the authors' npz format."""

from __future__ import annotations

import argparse
from pathlib import Path

from ovmer.errors import OvmerError
from ovmer.store.authors_npz import export_store
from ovmer.store.cli import OUTPUT_HELP
from ovmer.store.jsonl import STAGES, store_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "store",
        help="a store .jsonl file, or STAGE/BASELINE/SETTING (e.g. extract/Otter/S1) inside --output",
    )
    parser.add_argument("npz", help="the .npz file to write")
    parser.add_argument(
        "--format",
        choices=("description", "openset"),
        help="name2reason descriptions or filenames/fileitems label lists (default: from the stage)",
    )
    parser.add_argument(
        "--labels-from",
        choices=("raw", "value"),
        default="raw",
        help="openset items: the extractor's raw reply (as the authors stored it) or the parsed list",
    )
    parser.add_argument("--skip-errors", action="store_true", help="leave out samples whose latest record failed")
    parser.add_argument("--output", help=OUTPUT_HELP)


def resolve_store_file(spec: str, output: str | None = None) -> Path:
    """A path to a store file, or ``STAGE/BASELINE/SETTING`` resolved with :func:`store_path`."""
    path = Path(spec)
    if path.suffix == ".jsonl" or path.exists():
        return path
    parts = spec.strip("/").split("/")
    if len(parts) == 3 and parts[0] in STAGES:
        try:
            return store_path(parts[0], parts[1], parts[2], root=output)
        except ValueError as exc:
            raise OvmerError(f"{spec}: {exc}") from exc
    raise OvmerError(f"{spec}: neither a store .jsonl file nor STAGE/BASELINE/SETTING (stages: {', '.join(STAGES)})")


def main(args: argparse.Namespace) -> int:
    store_file = resolve_store_file(args.store, args.output)
    fmt, written = export_store(
        store_file, args.npz, fmt=args.format, skip_errors=args.skip_errors, labels_from=args.labels_from
    )
    print(f"wrote {written} ({fmt}) from {store_file}")
    return 0
