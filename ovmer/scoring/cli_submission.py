"""``ovmer check-submission FILE.npz --candidates CSV [--track NAME] [--allow-empty]``."""

from __future__ import annotations

import argparse

from ovmer.scoring.submission import DEFAULT_TRACK, TRACKS, check_submission


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submission", metavar="FILE.npz", help="the -openset.npz to upload (filenames, fileitems)")
    parser.add_argument(
        "--candidates",
        required=True,
        metavar="CSV",
        help="the organisers' candidate list, a CSV with a name column (MER2025: track_all_candidates.csv)",
    )
    parser.add_argument(
        "--track",
        choices=TRACKS.names(),
        default=DEFAULT_TRACK,
        help=f"the challenge track (default {DEFAULT_TRACK})",
    )
    parser.add_argument("--allow-empty", action="store_true", help="accept samples with an empty label list")


def main(args: argparse.Namespace) -> int:
    report = check_submission(args.submission, args.candidates, track=args.track, allow_empty=args.allow_empty)
    for line in report.lines():
        print(line)
    return 0 if report.ok else 1
