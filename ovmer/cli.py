"""The ``ovmer`` command line: a lazy registry of subcommands.

Each entry maps a command name to ``"module"``; that module defines
``HELP`` (one line), ``add_arguments(parser)`` and ``main(args) -> int``. Only
the chosen command's module is imported, so ``ovmer --help`` stays fast.
"""

from __future__ import annotations

import argparse
import contextlib
import difflib
import importlib
import sys
import warnings
from collections.abc import Iterator, Sequence

from ovmer.errors import OvmerError

COMMANDS: dict[str, tuple[str, str]] = {
    # name: (module, one-line help)
    "fetch": ("ovmer.assets.cli", "download or copy the authors' public assets and verify them"),
    "import-released": ("ovmer.store.cli", "import the authors' released outputs into the results store"),
    "export": ("ovmer.store.cli_export", "export a results-store file to the authors' npz format"),
    "score": ("ovmer.scoring.cli", "score label files with the paper's emotion-wheel metrics (M1, M2, M3, M-avg)"),
    "describe": ("ovmer.describe.cli", "describe each sample's emotional clues with a baseline MLLM (resumable, shardable)"),
    "describe-merge": ("ovmer.describe.cli", "merge describe shards into one store file, checking full coverage"),
    "baselines": ("ovmer.describe.cli_baselines", "list the baseline MLLMs: modalities, frames, checkpoint, run mode"),
    "asr": ("ovmer.describe.cli", "transcribe clips without subtitles (Whisper) into the store and a subtitle csv"),
    "merge": ("ovmer.llm.cli", "clue merging (S2): merge nosubtitle descriptions with the subtitles via an LLM"),
    "extract": ("ovmer.llm.cli", "extract open-vocabulary emotion labels from descriptions (cpu or an LLM)"),
    "group": ("ovmer.llm.cli", "group true and predicted labels into synonyms for the GPT-grouping metric"),
    "fit-extractor": ("ovmer.extract.cpu.cli", "fit the model-free CPU label extractor on the released label pairs"),
    "reproduce": ("ovmer.reproduce.cli", "regenerate the paper's tables and figures by running the notebooks"),
}


def _usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = ["usage: ovmer COMMAND [options]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, help_) in sorted(COMMANDS.items())]
    lines += ["", "`ovmer COMMAND --help` describes a command."]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(_usage())
        return 0 if args else 2
    if args[0] == "--version":
        from ovmer import __version__

        print(__version__)
        return 0
    name, rest = args[0], args[1:]
    if name not in COMMANDS:
        close = difflib.get_close_matches(name, COMMANDS, n=1)
        hint = f" Did you mean {close[0]!r}?" if close else ""
        print(f"ovmer: unknown command {name!r}.{hint}\n\n{_usage()}", file=sys.stderr)
        return 2
    module_name, help_ = COMMANDS[name]
    module = importlib.import_module(module_name)
    parser = argparse.ArgumentParser(prog=f"ovmer {name}", description=help_)
    adder = getattr(module, f"add_{name.replace('-', '_')}_arguments", None) or module.add_arguments
    runner = getattr(module, f"main_{name.replace('-', '_')}", None) or module.main
    adder(parser)
    parsed = parser.parse_args(rest)
    try:
        with _one_line_warnings(name):
            return int(runner(parsed) or 0)
    except OvmerError as exc:
        print(f"ovmer {name}: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # unwritable output folder, full disk, unreadable file: no traceback
        print(f"ovmer {name}: error: {_os_error_text(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"ovmer {name}: interrupted; finished records are kept", file=sys.stderr)
        return 130


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
