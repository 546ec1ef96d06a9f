"""Upstream assets: a checksummed manifest, a fetcher and guarded loaders."""

from ovmer.assets.fetch import (
    AssetEntry,
    FetchReport,
    asset_path,
    fetch,
    load_manifest,
    sha256_file,
)
from ovmer.assets.pickled import load_pickled_npz

__all__ = [
    "AssetEntry",
    "FetchReport",
    "asset_path",
    "fetch",
    "load_manifest",
    "load_pickled_npz",
    "sha256_file",
]
