"""One snapshot download from the Hugging Face Hub, and the Hub's refusals as clear errors."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from ovmer.errors import OvmerError

HUB = "https://huggingface.co"


def hub_url(repo_id: str, repo_type: str) -> str:
    return f"{HUB}/{'datasets/' if repo_type == 'dataset' else ''}{repo_id}"


def gated_message(repo_id: str, repo_type: str) -> str:
    return (f"{repo_id} is a gated {repo_type} on the Hugging Face Hub: log in at {hub_url(repo_id, repo_type)}, "
            "read and accept its licence agreement (access is granted to your account), then make a token with "
            "read access (huggingface.co/settings/tokens) available as `export HF_TOKEN=hf_...` (or `hf auth "
            "login`, or --token) and run the command again")


def default_cache_dir() -> Path:
    """The Hub's cache folder (``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``~/.cache/huggingface/hub``)."""
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def _hub() -> object:
    try:
        import huggingface_hub
    except ImportError as exc:
        raise OvmerError("downloads need huggingface_hub: pip install 'ovmer[hub]'") from exc
    return huggingface_hub


def fetch_snapshot(
    repo_id: str,
    *,
    repo_type: str = "model",
    allow_patterns: Sequence[str] | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    token: str | None = None,
    revision: str | None = None,
) -> Path:
    """``snapshot_download`` into the Hub cache layout: the snapshot folder (resumes partial downloads).

    Offline (``HF_HUB_OFFLINE=1``) it resolves the snapshot from the cache alone.
    """
    hub = _hub()
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{repo_type} {repo_id}"
    try:
        folder = hub.snapshot_download(  # type: ignore[attr-defined]
            repo_id, repo_type=repo_type, revision=revision, allow_patterns=list(allow_patterns or []) or None,
            cache_dir=str(cache_dir) if cache_dir else None, token=token,
        )
    except GatedRepoError:
        raise OvmerError(gated_message(repo_id, repo_type)) from None
    except RepositoryNotFoundError:
        raise OvmerError(f"{where}: not found on the Hub, or private or gated for this token; check the name at "
                         f"{hub_url(repo_id, repo_type)} and set HF_TOKEN") from None
    except RevisionNotFoundError:
        raise OvmerError(f"{where}: no revision {revision!r} on the Hub") from None
    except LocalEntryNotFoundError as exc:
        raise OvmerError(f"{where}: not in the Hub cache {cache_dir or default_cache_dir()} and the Hub cannot be "
                         f"reached ({exc.__class__.__name__}); with HF_HUB_OFFLINE=1 set, unset it to download"
                         ) from None
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        if status in (401, 403):
            raise OvmerError(gated_message(repo_id, repo_type)) from None
        raise OvmerError(f"{where}: the Hub refused the download (HTTP {status}): {exc}") from None
    except OSError as exc:  # a full disk, an unwritable cache folder, a broken connection mid-file
        raise OvmerError(f"{where}: the download stopped ({exc}); run the command again to resume it") from None
    return Path(folder)


def matching_files(folder: Path, patterns: Sequence[str] | None) -> list[str]:
    """The files (relative POSIX paths) below ``folder`` that ``patterns`` allow, as the Hub filters them."""
    from huggingface_hub.utils import filter_repo_objects

    files = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    return list(filter_repo_objects(files, allow_patterns=list(patterns) if patterns else None))
