"""``ovmer explain-label LABEL [--wheel K --level J] [--json]``: why a label scores as it does."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict

from ovmer.data.wheels import N_WHEELS
from ovmer.errors import OvmerError
from ovmer.scoring.explain import LEVELS, explain_label


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("label", nargs="+", metavar="LABEL", help="an emotion label (several words: one label)")
    parser.add_argument("--wheel", type=int, choices=range(1, N_WHEELS + 1), metavar="K",
                        help=f"show only wheel K (1-{N_WHEELS}), with the routes that decide it")
    parser.add_argument("--level", type=int, choices=LEVELS, metavar="J",
                        help="show only level J (1: top-level group, 2: middle group)")
    parser.add_argument("--json", action="store_true", help="print the explanation as JSON")


def main(args: argparse.Namespace) -> int:
    label = " ".join(args.label).strip()
    if not label:
        raise OvmerError("the label is empty")
    explanation = explain_label(label)
    if args.json:
        data = asdict(explanation)
        data["values"] = explanation.values()
        print(json.dumps(data, indent=1, ensure_ascii=False))
    else:
        print("\n".join(explanation.lines(args.wheel, args.level)))
    return 0
