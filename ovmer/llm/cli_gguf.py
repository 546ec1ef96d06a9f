"""``ovmer convert-gguf FILE``: convert a GGUF model once into the cached safetensors folder, print it."""

from __future__ import annotations

import argparse

from ovmer.llm.gguf import convert_gguf


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="a .gguf model file (llama, qwen2, mistral, ... architectures)")
    parser.add_argument("--cache", help="folder of converted models (default: <data cache>/gguf)")
    parser.add_argument("--quiet", action="store_true", help="no progress message")


def main(args: argparse.Namespace) -> int:
    model = convert_gguf(args.file, cache=args.cache, progress=not args.quiet)
    # The folder alone on stdout, for `vllm serve "$(ovmer convert-gguf model.gguf)"`.
    print(model.folder)
    return 0
