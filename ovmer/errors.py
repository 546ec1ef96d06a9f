"""Exception types shared across stages, and the guard every file reader parses inside."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


class OvmerError(Exception):
    """A user-facing error: the message names the file or sample and what is wrong."""


class AssetError(OvmerError):
    """An asset is missing, corrupt, or could not be fetched or installed."""


class UntrustedPickleError(OvmerError):
    """Refused to unpickle a file whose checksum is not in the manifest."""


class LabelFormatError(OvmerError):
    """A label list could not be read (wrong type, not text)."""


class SettingError(OvmerError, ValueError):
    """An unknown setting name (a ValueError too, as ``Setting.parse`` always raised)."""


class ReadError(OvmerError):
    """A file could not be read or does not hold what it should (the message names the file)."""


@contextlib.contextmanager
def reading(path: object, what: str, error: type[OvmerError] = ReadError) -> Iterator[None]:
    """Turn any failure of a third-party parser inside the block into one :class:`ReadError` line.

    Parsers (numpy's zip reader, pandas, openpyxl, zlib) raise an open-ended set of
    exception types on damaged input (``BadZipFile``, ``zlib.error``, ``EOFError``,
    ``UnicodeDecodeError``, ``KeyError`` ...); listing them one by one is how
    tracebacks slip through, so a reader wraps its parsing in this block.
    :class:`OvmerError` passes through unchanged; ``error`` is the type raised
    (a media loader raises :class:`~ovmer.describe.media.MediaError`).
    """
    try:
        yield
    except OvmerError:
        raise
    except MemoryError as exc:
        raise error(f"{path}: cannot read {what} (too large to load into memory)") from exc
    except Exception as exc:
        raise error(f"{path}: cannot read {what} ({describe_exception(exc)})") from exc


def describe_exception(exc: BaseException, limit: int = 200) -> str:
    """``Type: message`` on one line, cut to ``limit`` characters."""
    text = " ".join(str(exc).split())
    text = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
