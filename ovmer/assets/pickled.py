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
from ovmer.errors import UntrustedPickleError


def load_pickled_npz(path: str | os.PathLike[str], trust: bool = False) -> dict[str, Any]:
    """Load every array of an npz; 0-d object arrays are unwrapped to their object."""
    file = Path(path)
    if not trust and sha256_file(file) not in manifest_hashes():
        raise UntrustedPickleError(
            f"{file}: refusing to unpickle a file whose sha256 is not in the asset manifest "
            "(unpickling can run arbitrary code); pass trust=True / --trust if you made "
            "this file or trust its author"
        )
    with np.load(file, allow_pickle=True) as archive:
        out: dict[str, Any] = {}
        for key in archive.files:
            value = archive[key]
            out[key] = value.item() if value.dtype == object and value.shape == () else value
        return out
