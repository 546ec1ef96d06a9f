"""The ``ovmer`` command line: a lazy registry of subcommands.

Each entry maps a command name to ``"module"`` and a help line; that module defines
``add_arguments(parser)`` and ``main(args) -> int`` (or ``add_<command>_arguments`` and
``main_<command>`` where one module serves several commands). Only
the chosen command's module is imported, so ``ovmer --help`` stays fast.

``--include PATH`` (before or after the command, repeatable) imports the user's own
modules first (:mod:`ovmer.plugins`), so what they register is there when the
command reads its registries.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
import warnings
from collections.abc import Iterator, Sequence
from types import ModuleType

from ovmer import __version__, plugins
from ovmer.errors import OvmerError
from ovmer.registry import Registry, did_you_mean

COMMANDS: Registry[ModuleType] = Registry("command", missing_hint="(`ovmer --help` lists them)")
for _name, _module, _help in (
    ("fetch", "ovmer.assets.cli", "download or copy the authors' public assets and verify them"),
    ("import-released", "ovmer.store.cli", "import the authors' released outputs into the results store"),
    ("export", "ovmer.store.cli_export", "export a results-store file to the authors' npz format"),
    ("score", "ovmer.scoring.cli", "score label files with the paper's emotion-wheel metrics (M1, M2, M3, M-avg)"),
    ("check-submission", "ovmer.scoring.cli_submission", "check a MER2025/MER2026 Track 2 -openset.npz against the candidate list"),
    ("download", "ovmer.hub.cli", "download the MER2025 dataset from the Hugging Face Hub into its loader's layout"),
    ("download-model", "ovmer.hub.cli", "download a native baseline's checkpoint from the Hub; describe then finds it"),
    ("describe", "ovmer.describe.cli", "describe each sample's emotional clues with a baseline MLLM (resumable, shardable)"),
    ("describe-merge", "ovmer.describe.cli", "merge describe shards into one store file, checking full coverage"),
    ("baselines", "ovmer.describe.cli_baselines", "list the baseline MLLMs: modalities, frames, checkpoint, run mode"),
    ("asr", "ovmer.describe.cli", "transcribe clips without subtitles (Whisper) into the store and a subtitle csv"),
    ("merge", "ovmer.llm.cli", "clue merging (S2): merge nosubtitle descriptions with the subtitles via an LLM"),
    ("extract", "ovmer.llm.cli", "extract open-vocabulary emotion labels from descriptions (cpu or an LLM)"),
    ("group", "ovmer.llm.cli", "group true and predicted labels into synonyms for the GPT-grouping metric"),
    ("convert-gguf", "ovmer.llm.cli_gguf", "convert a GGUF model once into a cached safetensors folder (for vLLM) and print it"),
    ("fit-extractor", "ovmer.extract.cpu.cli", "fit the model-free CPU label extractor on the released label pairs"),
    ("explain-label", "ovmer.scoring.cli_explain", "show how the wheel metrics map a label: word forms, synonym runs, the wheel word chosen"),
    ("reproduce", "ovmer.reproduce.cli", "regenerate the paper's tables and figures by running the notebooks"),
):
    COMMANDS.register(_name, _module, _help)


# An unexpected exception (a bug, not bad input: those get their own one-line errors first) ends
# the command with this status and one line; --debug or OVMER_DEBUG=1 shows the traceback instead.
INTERNAL_ERROR_STATUS = 70  # EX_SOFTWARE of sysexits.h
DEBUG_FLAG = "--debug"
DEBUG_ENV = "OVMER_DEBUG"
INCLUDE_HELP = "a Python file or folder of modules to import first (your own adapters, backends...)"


def _usage() -> str:
    lines = ["usage: ovmer [--debug] [--include PATH] COMMAND [options]", "", "commands:", COMMANDS.listing()]
    lines += ["", f"--include PATH  {INCLUDE_HELP}; repeatable",
              "`ovmer COMMAND --help` describes a command; --debug (or OVMER_DEBUG=1) shows tracebacks."]
    return "\n".join(lines)


def _debug_requested(args: list[str]) -> bool:
    """Remove ``--debug`` from the arguments (before the command or among its options); True if given."""
    found = DEBUG_FLAG in args
    while DEBUG_FLAG in args:
        args.remove(DEBUG_FLAG)
    return found or os.environ.get(DEBUG_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _take_includes(args: list[str]) -> tuple[list[str], list[str]]:
    """The ``--include`` paths anywhere in ``args``, and the other arguments."""
    paths: list[str] = []
    rest: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--":  # what follows belongs to the command
            rest += [arg, *items]
        elif arg == "--include":
            path = next(items, None)
            if path is None:
                raise OvmerError("--include needs a PATH")
            paths.append(path)
        elif arg.startswith("--include="):
            paths.append(arg.partition("=")[2])
        else:
            rest.append(arg)
    return paths, rest


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    try:
        includes, args = _take_includes(args)
        plugins.include(*includes)
        plugins.include_from_environment()
    except OvmerError as exc:
        if debug:
            traceback.print_exc()
        print(f"ovmer: error: {exc}", file=sys.stderr)
        return 1
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        print(__version__)
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        print(f"ovmer: unknown command {name!r}.{did_you_mean(name, COMMANDS)}\n\n{_usage()}", file=sys.stderr)
        return 2
    try:
        module = COMMANDS.get(name)
        parser = argparse.ArgumentParser(prog=f"ovmer {name}", description=COMMANDS.entry(name).help)
        adder = getattr(module, f"add_{name.replace('-', '_')}_arguments", None) or module.add_arguments
        runner = getattr(module, f"main_{name.replace('-', '_')}", None) or module.main
        adder(parser)
        parser.add_argument("--include", metavar="PATH", action="append", help=f"{INCLUDE_HELP} (repeatable)")
        parsed = parser.parse_args(rest)
        with _one_line_warnings(name):
            return int(runner(parsed) or 0)
    except OvmerError as exc:
        if debug:
            traceback.print_exc()
        print(f"ovmer {name}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # unwritable output folder, full disk, unreadable file: no traceback
        if debug:
            traceback.print_exc()
        print(f"ovmer {name}: error: {_os_error_text(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ovmer {name}: interrupted; finished records are kept", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: a bug must not print a traceback at a user
        if debug:
            traceback.print_exc()
        print(
            f"ovmer: internal error in {name}: {_one_line(f'{type(exc).__name__}: {exc}')}; "
            f"run with {DEBUG_FLAG} for the traceback",
            file=sys.stderr,
        )
        return INTERNAL_ERROR_STATUS


def _one_line(text: str, limit: int = 2000) -> str:
    """A message on one line (a multi-line message keeps its first lines, joined)."""
    joined = " | ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return joined if len(joined) <= limit else joined[: limit - 1] + "…"


@contextlib.contextmanager
def _one_line_warnings(command: str) -> Iterator[None]:
    """Format warnings as ``ovmer COMMAND: warning: message`` lines, not Python's source-quoting form."""
    saved = warnings.formatwarning

    def one_line(message, category, filename, lineno, line=None) -> str:
        return f"ovmer {command}: warning: {message}\n"

    # formatwarning (not showwarning) so that callers recording warnings still receive them.
    warnings.formatwarning = one_line
    try:
        yield
    finally:
        warnings.formatwarning = saved


def _os_error_text(exc: OSError) -> str:
    """``path: reason`` for an OSError (the path is what the user can act on)."""
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc) or type(exc).__name__


if __name__ == "__main__":
    raise SystemExit(main())
