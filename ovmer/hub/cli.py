"""``ovmer download mer2025 ...`` and ``ovmer download-model BASELINE ...``."""

from __future__ import annotations

import argparse

from ovmer.hub.mer2025 import PARTS, download_mer2025
from ovmer.hub.models import download_model, record_path
from ovmer.paths import data_dir

DATASETS = ("mer2025",)


def add_download_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dataset", choices=DATASETS, help="the dataset (MERChallenge/MER2025, gated: accept its "
                                                           "licence on the Hub and set HF_TOKEN)")
    parser.add_argument("--dest", default=None, metavar="DIR",
                        help="the MER2025-layout folder to create (default: <data>/mer2025, where the explorer "
                             "looks; --data of `ovmer describe`)")
    parser.add_argument("--parts", default=",".join(PARTS), metavar="LIST",
                        help=f"comma list of {', '.join(PARTS)} (default: all; video is the large one)")
    parser.add_argument("--cache-dir", default=None, metavar="DIR",
                        help="Hub cache folder the files are stored in (default: HF_HUB_CACHE); --dest links to it")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or `hf auth login`)")


def main_download(args: argparse.Namespace) -> int:
    dest = args.dest or str(data_dir() / "mer2025")
    result = download_mer2025(dest, args.parts, cache_dir=args.cache_dir, token=args.token)
    print(result.report())
    return 1 if result.layout.problems else 0


def add_download_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("baseline", help="a native baseline (`ovmer baselines` lists them)")
    parser.add_argument("--dest", default=None, metavar="DIR",
                        help="Hub cache folder to download into (default: HF_HUB_CACHE)")
    parser.add_argument("--token", default=None, help="Hub token (default: HF_TOKEN or `hf auth login`)")


def main_download_model(args: argparse.Namespace) -> int:
    folder = download_model(args.baseline, args.dest, token=args.token)
    print(f"{args.baseline}: checkpoint at {folder} (recorded in {record_path()}); "
          "`ovmer describe` now finds it without --model-path")
    return 0
