"""Guarded loading of npz files that hold pickled objects.

Unpickling runs code, so pickled content is loaded only from files whose
sha256 is one of the manifest's (the authors' released files), or when the
caller opts in with ``trust=True`` (e.g. files this package wrote itself).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ovmer.assets.fetch import manifest_hashes, sha256_file
from ovmer.errors import ReadError, UntrustedPickleError, reading


def load_pickled_npz(path: str | os.PathLike[str], trust: bool = False) -> dict[str, Any]:
    """Load every array of an npz; 0-d object arrays are unwrapped to their object."""
    file = Path(path)
    if not file.is_file():
        raise ReadError(f"{file}: no such file")
    if not trust and sha256_file(file) not in manifest_hashes():
        raise UntrustedPickleError(
            f"{file}: refusing to unpickle a file whose sha256 is not in the asset manifest "
            "(unpickling can run arbitrary code); pass trust=True / --trust if you made "
            "this file or trust its author"
        )
    with reading(file, "as npz"), open_npz(file, allow_pickle=True) as archive:
        out: dict[str, Any] = {}
        for key in archive.files:
            value = archive[key]
            if not isinstance(value, np.ndarray):  # a member that is no .npy comes back as bytes
                raise ReadError(f"{file}: member {key!r} is not a .npy array")
            out[key] = value.item() if value.dtype == object and value.shape == () else value
        return out


NPY_MAGIC = b"\x93NUMPY"
ZIP_MAGIC = b"PK\x03\x04"


def open_npz(path: str | os.PathLike[str], allow_pickle: bool = False) -> Any:
    """``np.load`` of an npz archive, refusing up front what is not one (a plain .npy, a pickle, text).

    Without this check ``np.load`` reads a renamed ``.npy`` as an array (and the caller's
    ``with`` fails) and tries to unpickle anything else.
    """
    file = Path(path)
    try:
        with open(file, "rb") as handle:
            magic = handle.read(6)
    except IsADirectoryError:
        raise ReadError(f"{file}: is a folder, not an npz archive") from None
    except OSError as exc:
        raise ReadError(f"{file}: cannot read as npz ({exc.strerror or exc})") from exc
    if magic.startswith(NPY_MAGIC):
        raise ReadError(f"{file}: cannot read as npz (a single .npy array, not an npz archive)")
    if not magic.startswith(ZIP_MAGIC[:2]):
        raise ReadError(f"{file}: cannot read as npz (not a zip archive{'; the file is empty' if not magic else ''})")
    return np.load(file, allow_pickle=allow_pickle)
