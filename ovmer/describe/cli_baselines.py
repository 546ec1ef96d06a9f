"""``ovmer baselines``: the describe-stage registry as a table."""

from __future__ import annotations

import argparse

_COLUMNS = ["name", "modalities", "frames", "run", "checkpoint", "paper", "released"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", choices=("native", "external", "replay"), help="only baselines run this way")
    parser.add_argument("--all-columns", action="store_true", help="also show adapter, upstream code and notes")
    parser.add_argument("--format", choices=("text", "csv", "markdown"), default="text", help="output format")


def main(args: argparse.Namespace) -> int:
    from ovmer.describe.registry import baselines_table

    table = baselines_table()
    if args.run:
        table = table[table["run"] == args.run]
    if not args.all_columns:
        table = table[_COLUMNS]
    if args.format == "csv":
        print(table.to_csv(index=False), end="")
    elif args.format == "markdown":
        header = "| " + " | ".join(table.columns) + " |"
        rule = "|" + "|".join("---" for _ in table.columns) + "|"
        rows = ["| " + " | ".join(str(value) for value in row) + " |" for row in table.itertuples(index=False)]
        print("\n".join([header, rule, *rows]))
    else:
        print(table.to_string(index=False))
    return 0
