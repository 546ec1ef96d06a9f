"""``ovmer describe``, ``ovmer describe-merge`` and ``ovmer asr``."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ovmer.describe.asr import transcribe_subtitles
from ovmer.describe.merging import export_npz, merge_shards
from ovmer.describe.registry import BASELINES
from ovmer.describe.runner import resolve_run, run_describe
from ovmer.describe.selection import describe_store, parse_shard
from ovmer.devices import DTYPE_CHOICES
from ovmer.engines.cli import add_engine_arguments, engine_from_args
from ovmer.errors import OvmerError
from ovmer.llm.presets import PRESETS
from ovmer.llm.server_options import add_server_arguments, server_options
from ovmer.messages import IMAGE_FORMATS
from ovmer.store.runner import StageSummary

SERVED = "openai-compatible"
# --option -> the openai-compatible adapter's keyword (the server's own options come from server_options).
SERVED_OPTIONS = {"model": "model", "name": "name", "modalities": "modalities", "num_frames": "num_frames",
                  "fps": "fps", "max_frames": "max_frames", "image_format": "image_format",
                  "jpeg_quality": "jpeg_quality", "video_url": "video_url", "preset": "settings"}


def _print_summary(what: str, summary: StageSummary, path: object) -> int:
    print(f"{what}: {summary} -> {path}")
    for name, error in list(summary.failures.items())[:10]:
        print(f"  {name}: {error.splitlines()[0] if error else ''}", file=sys.stderr)
    if summary.failed > 10:
        print(f"  ... and {summary.failed - 10} more (error records are in the store)", file=sys.stderr)
    return 1 if summary.failed else 0


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, metavar="DIR",
                        help="dataset folder in the MER2025 layout (video/, audio/, subtitle_chieng.csv, ...)"
                             " or a plain folder of clips")
    parser.add_argument("--model-path", metavar="P", help="local folder holding the model's weights")
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ... (default cpu)")
    parser.add_argument("--dtype", default="auto", choices=list(DTYPE_CHOICES))
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N samples")
    parser.add_argument("--shard", metavar="i/n", help="run shard i of n (0-based, every n-th sample)")
    parser.add_argument("--output", metavar="DIR", help="output folder holding store/ (default: OVMER_OUTPUT)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_engine_arguments(parser)


def add_describe_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", required=True, help="a baseline name (`ovmer baselines` lists them)")
    parser.add_argument("--setting", required=True, help="nosubtitle (S0) or subtitle (S1)")
    _add_common(parser)
    parser.add_argument("--external-cmd", metavar="CMD",
                        help="run the baseline through this command (see ovmer.describe.external)")
    parser.add_argument("--faces", action="store_true",
                        help="show the model the OpenFace face crops instead of the raw frames")
    parser.add_argument("--max-side", type=int, metavar="PX", help="shrink frames whose longer side is larger")
    parser.add_argument("--max-new-tokens", type=int, metavar="N", help="longest description (default: the adapter's)")
    parser.add_argument("--subtitle-language", default="english", choices=["english", "chinese"])
    parser.add_argument("--npz", metavar="PATH",
                        help="afterwards, export the descriptions in the authors' npz format (unsharded runs)")
    served = add_server_arguments(parser, f"a model on a server (--baseline {SERVED})")
    served.add_argument("--model", help="the model's name on the server (required)")
    served.add_argument("--name", help="the store folder of its records (default: the model name's last part)")
    served.add_argument("--modalities", metavar="M", help="what the model is sent: video,audio (default), video or audio")
    served.add_argument("--num-frames", type=int, metavar="N", help="N frames sampled uniformly (default 8)")
    served.add_argument("--fps", type=float, help="frames per second instead of --num-frames")
    served.add_argument("--max-frames", type=int, metavar="N", help="at most N frames with --fps")
    served.add_argument("--image-format", choices=list(IMAGE_FORMATS), help="how frames are encoded (default jpeg)")
    served.add_argument("--jpeg-quality", type=int, metavar="Q", help="1..100 (default 90)")
    served.add_argument("--video-url", action="store_true",
                        help="send the clip file as one video_url instead of frames (servers that sample frames)")
    served.add_argument("--preset", choices=list(PRESETS), help="generation settings (default deterministic)")


def served_options(args: argparse.Namespace) -> dict[str, Any]:
    """The openai-compatible adapter's options from the command line; refused for other baselines."""
    given = {key: getattr(args, option) for option, key in SERVED_OPTIONS.items()
             if getattr(args, option) not in (None, False)}
    given |= {k: v for k, v in server_options(args).items() if v is not None}
    if not (args.baseline in BASELINES and BASELINES.canonical(args.baseline) == SERVED):
        if given:
            flags = ", ".join(sorted("--" + k.replace("_", "-") for k in given))
            raise OvmerError(f"{flags}: options of --baseline {SERVED}, not of {args.baseline}")
        return {}
    if args.max_side:  # keyed by the adapter (the frames' size is part of the request)
        given["max_side"] = args.max_side
    return given


def main_describe(args: argparse.Namespace) -> int:
    shard = parse_shard(args.shard)
    if args.npz and shard:
        raise OvmerError("--npz exports a whole run; after sharded runs use `ovmer describe-merge --npz`")
    options = served_options(args)
    spec, adapter = resolve_run(args.baseline, None, args.model_path, args.device, args.dtype, args.external_cmd,
                                args.max_new_tokens, options)
    summary = run_describe(
        adapter or args.baseline,
        args.setting,
        args.data,
        model_path=args.model_path,
        device=args.device,
        dtype=args.dtype,
        limit=args.limit,
        shard=shard,
        store_root=args.output,
        progress=not args.no_progress,
        external_cmd=args.external_cmd,
        visual="faces" if args.faces else "frames",
        max_side=args.max_side,
        subtitle_language=args.subtitle_language,
        max_new_tokens=args.max_new_tokens,
        spec=spec,
        engine=engine_from_args(args),
    )
    name = spec.name
    code = _print_summary(f"describe {name} {args.setting}", summary, describe_store(name, args.setting, args.output, shard).path)
    if args.npz:
        print(f"exported {export_npz(name, args.setting, args.npz, store_root=args.output)}")
    return code


def add_describe_merge_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--setting", required=True)
    parser.add_argument("--shards", type=int, required=True, metavar="N", help="how many shards were run")
    parser.add_argument("--data", required=True, metavar="DIR", help="the dataset folder the shards ran on")
    parser.add_argument("--limit", type=int, metavar="N", help="the --limit the shards ran with")
    parser.add_argument("--output", metavar="DIR", help="output folder holding store/ (default: OVMER_OUTPUT)")
    parser.add_argument("--allow-errors", action="store_true", help="merge even if some samples ended in errors")
    parser.add_argument("--npz", metavar="PATH", help="also export the merged descriptions in the authors' npz format")


def main_describe_merge(args: argparse.Namespace) -> int:
    # Registry names are matched loosely (video-llava = Video-LLaVA); other names are store folders as given.
    name = BASELINES.canonical(args.baseline) if args.baseline in BASELINES else args.baseline
    result = merge_shards(
        name, args.setting, args.shards, data_dir=args.data, limit=args.limit,
        store_root=args.output, allow_errors=args.allow_errors,
    )
    print(f"merged {args.shards} shards: {result}")
    if args.npz:
        print(f"exported {export_npz(name, args.setting, args.npz, store_root=args.output, skip_errors=args.allow_errors)}")
    return 0


def add_asr_arguments(parser: argparse.ArgumentParser) -> None:
    _add_common(parser)
    parser.add_argument("--backend", default="whisper",
                        help="whisper (transformers), faster-whisper (CTranslate2) or whisperx")
    parser.add_argument("--language", help="spoken language code (zh, en, ...); default: detected")
    parser.add_argument("--task", default="transcribe", choices=["transcribe", "translate"],
                        help="translate gives English text whatever the spoken language")
    parser.add_argument("--write-csv", nargs="?", const="", metavar="CSV",
                        help="write the transcripts into a subtitle csv (default DIR/subtitle_chieng.csv)")
    parser.add_argument("--column", choices=["english", "chinese"],
                        help="csv column for the text (default: english for translate or --language en, else chinese)")
    parser.add_argument("--overwrite", action="store_true", help="replace subtitles already in the csv")
    ct2 = parser.add_argument_group("faster-whisper")
    ct2.add_argument("--compute-type", help="CTranslate2 compute type: int8, float32, float16, ... "
                     "(default: float32 on a CPU, float16 on a GPU)")
    ct2.add_argument("--beam-size", type=int, help="beam search width (default 5)")
    ct2.add_argument("--vad", action="store_true", help="drop silence with silero VAD before decoding")


def _asr_options(args: argparse.Namespace) -> dict[str, object]:
    """The backend-specific options given on the command line."""
    options = {"compute_type": args.compute_type, "beam_size": args.beam_size, "vad": args.vad or None}
    return {name: value for name, value in options.items() if value is not None}


def main_asr(args: argparse.Namespace) -> int:
    if not args.model_path:
        raise OvmerError("--model-path is required: a local folder holding a Whisper checkpoint")
    run = transcribe_subtitles(
        args.data, args.model_path, backend=args.backend, csv=args.write_csv, column=args.column,
        overwrite=args.overwrite, shard=args.shard, store_root=args.output, device=args.device, dtype=args.dtype,
        language=args.language, task=args.task, limit=args.limit, progress=not args.no_progress,
        engine=engine_from_args(args), options=_asr_options(args),
    )
    code = _print_summary(f"asr {args.backend}", run.summary, run.store.path)
    if run.csv is not None:
        print(f"wrote {run.csv} ({run.column})")
    return code
