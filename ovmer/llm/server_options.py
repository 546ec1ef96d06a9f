"""The command-line options of an OpenAI-compatible server, shared by the text stages and ``ovmer describe``."""

from __future__ import annotations

import argparse
from typing import Any


def add_server_arguments(parser: argparse.ArgumentParser, title: str = "openai-compatible server") -> Any:
    """``--base-url``, ``--api-key-env``, ``--timeout``, ``--retries``, ``--concurrency``, ``--no-extra-sampling``.

    Returns the argument group, for callers that add options of their own to it.
    """
    remote = parser.add_argument_group(title)
    remote.add_argument("--base-url", help="e.g. http://127.0.0.1:8000/v1 (vllm serve, llama.cpp server)")
    remote.add_argument("--api-key-env", help="environment variable holding the API key (then required)")
    remote.add_argument("--timeout", type=float, help="seconds per request")
    remote.add_argument("--retries", type=int, help="retries per request after the first attempt")
    remote.add_argument("--concurrency", type=int, help="requests in flight at once")
    remote.add_argument(
        "--no-extra-sampling",
        action="store_true",
        help="do not send repetition_penalty (hosted APIs reject it)",
    )
    return remote


def server_options(args: argparse.Namespace) -> dict[str, Any]:
    """Those options as constructor keywords of the server's client (``None``: the default)."""
    options: dict[str, Any] = {
        "base_url": args.base_url,
        "timeout": args.timeout,
        "max_retries": args.retries,
        "concurrency": args.concurrency,
        "extra_sampling": False if args.no_extra_sampling else None,
    }
    if args.api_key_env:
        options.update(api_key_env=args.api_key_env, require_api_key=True)
    return options
