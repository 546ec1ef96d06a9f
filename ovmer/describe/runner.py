"""Run a describe baseline over a dataset folder: one store record per sample, resumable and shardable.

For each sample the runner renders the setting's prompt, decodes the media the
baseline uses (frames by its frame policy, 16 kHz audio), hands the adapter one
:class:`~ovmer.describe.message.Message` and appends the text to
``store/describe/<baseline>/<setting>[.shard-i-of-n].jsonl``.

A record's key hashes what the description depends on: baseline, model files,
prompt (id, sha256 and rendered text), generation settings, frame policy, the
media files' size and sha256, and the setting. A re-run skips samples whose
latest record is ok with the same key and retries the rest; the model is loaded
only when something is left to do.

Shards: ``shard=(i, n)`` takes every n-th sample starting at i (0-based) of the
dataset's order, so shards are disjoint, balanced and fixed by the data alone;
each writes its own file, and :func:`merge_shards` checks that every sample is
covered exactly once before writing the merged file.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from ovmer.data.mer2025 import SUBTITLE_CSV, MediaKind, MER2025Layout, MER2025Sample, load_mer2025
from ovmer.describe.adapter import BaselineSpec, DescribeAdapter, FramePolicy
from ovmer.describe.message import AudioPart, Message, Part, SubtitlePart, TextPart, VideoPart
from ovmer.describe.prompts import describe_setting
from ovmer.errors import OvmerError
from ovmer.settings import Setting
from ovmer.store.jsonl import Record, ResultsStore, compute_key, store_path
from ovmer.store.runner import StageSummary, WorkItem, run_stage

STAGE = "describe"
Visual = Literal["frames", "faces"]
# Frames taken when a spec names no policy: enough for any video model, bounded memory.
DEFAULT_FRAMES = FramePolicy(num_frames=8)
# Model files up to this size are hashed; larger ones (weights) are identified by name and size.
HASHED_MODEL_FILE_BYTES = 4 << 20


class RenderedPromptLike(Protocol):
    id: str
    sha256: str
    system: str | None
    text: str


PromptRenderer = Callable[[Setting, frozenset[str], str | None], RenderedPromptLike]


@dataclass(frozen=True)
class DescribeItem:
    """What one sample needs at compute time (decoding happens then, not when keys are made)."""

    sample: MER2025Sample
    prompt: RenderedPromptLike
    subtitle: str | None


# --------------------------------------------------------------------------- shards


def parse_shard(text: str | tuple[int, int] | None) -> tuple[int, int] | None:
    """``"i/n"`` (0 <= i < n) -> ``(i, n)``; ``None`` stays ``None``."""
    if text is None:
        return None
    if isinstance(text, tuple):
        index, count = text
    else:
        try:
            left, right = str(text).split("/")
            index, count = int(left), int(right)
        except ValueError:
            raise OvmerError(f"shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if count < 1 or not 0 <= index < count:
        raise OvmerError(f"shard {index}/{count}: need 0 <= i < n (shards are numbered from 0)")
    return index, count


def shard_names(names: Sequence[str], shard: tuple[int, int] | None) -> list[str]:
    """Striding split: shard ``(i, n)`` gets ``names[i::n]``."""
    if shard is None:
        return list(names)
    index, count = shard
    return list(names[index::count])


def select_names(layout: MER2025Layout, limit: int | None = None, shard: tuple[int, int] | None = None) -> list[str]:
    """The dataset's samples, the first ``limit`` of them, then this shard's share."""
    names = layout.names
    if limit is not None:
        if limit < 1:
            raise OvmerError(f"limit must be a positive number of samples, got {limit}")
        names = names[:limit]
    return shard_names(names, shard)


# --------------------------------------------------------------------------- keys


def model_fingerprint(model_path: str | os.PathLike[str] | None, fallback: str = "") -> dict[str, Any]:
    """Identity of a local model folder: every file's name and size, small files' sha256 too.

    Weights are not hashed (tens of GB); their names and sizes, with the config and
    tokenizer files' checksums, change whenever the checkpoint does.
    """
    if model_path is None:
        return {"checkpoint": fallback}
    from ovmer.describe.media import file_identity

    root = Path(model_path).expanduser()
    if root.is_file():
        return {"checkpoint": fallback, "file": {"name": root.name, **file_identity(root)}}
    if not root.is_dir():
        return {"checkpoint": fallback, "path": str(root)}
    files: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if not path.is_file() or any(part.startswith(".") for part in Path(rel).parts):
            continue
        size = path.stat().st_size
        files[rel] = file_identity(path)["sha256"] if size <= HASHED_MODEL_FILE_BYTES else size
    return {"checkpoint": fallback, "files": files}


class FileIdentities:
    """Media identities computed once per file per run."""

    def __init__(self) -> None:
        self._cache: dict[Path, dict[str, object]] = {}

    def __call__(self, path: Path | None) -> dict[str, object] | None:
        if path is None:
            return None
        if path not in self._cache:
            from ovmer.describe.media import file_identity

            self._cache[path] = file_identity(path)
        return self._cache[path]


def media_kinds(spec: BaselineSpec, visual: Visual = "frames") -> list[MediaKind]:
    """Which files of a sample the baseline reads."""
    kinds: list[MediaKind] = []
    if "video" in spec.modalities:
        kinds.append("face" if visual == "faces" else "video")
    if "audio" in spec.modalities:
        kinds.append("audio")
    return kinds


def media_paths(sample: MER2025Sample, kinds: Iterable[MediaKind]) -> dict[str, Path | None]:
    """kind -> the file read for it (audio falls back to the clip's own track)."""
    out: dict[str, Path | None] = {}
    for kind in kinds:
        if kind == "audio":
            out[kind] = sample.audio if sample.audio is not None else sample.video
        else:
            out[kind] = sample.media(kind)
    return out


def describe_key(
    *,
    baseline: str,
    model: dict[str, Any],
    prompt: RenderedPromptLike,
    generation: dict[str, object],
    frames: FramePolicy,
    visual: Visual,
    media: dict[str, object],
    setting: Setting,
    runner: str = "native",
    extra: dict[str, Any] | None = None,
) -> str:
    return compute_key(
        stage=STAGE,
        baseline=baseline,
        model=model,
        prompt={"id": prompt.id, "sha256": prompt.sha256, "system": prompt.system, "text": prompt.text},
        generation=generation,
        frames={"num_frames": frames.num_frames, "fps": frames.fps, "max_frames": frames.max_frames},
        visual=visual,
        media=media,
        setting=setting.value,
        runner=runner,
        extra=extra or {},
    )


# --------------------------------------------------------------------------- messages


def build_message(
    item: DescribeItem,
    spec: BaselineSpec,
    *,
    visual: Visual = "frames",
    max_side: int | None = None,
) -> Message:
    """Prompt text, subtitle and decoded media for one sample (raises MediaError naming a bad file)."""
    from ovmer.describe.media import MediaError, load_audio, load_faces, load_video_frames

    sample = item.sample
    parts: list[Part] = [TextPart(item.prompt.text)]
    if item.subtitle is not None:
        parts.append(SubtitlePart(item.subtitle))
    policy = spec.frames if spec.frames != FramePolicy() else DEFAULT_FRAMES
    paths = media_paths(sample, media_kinds(spec, visual))
    for kind, path in paths.items():
        if path is None:
            raise MediaError(f"{sample.name}: no {kind} file for this sample")
        part: VideoPart | AudioPart
        if kind == "video":
            part = load_video_frames(path, policy, max_side=max_side)
        elif kind == "face":
            part = load_faces(path, policy)
        else:
            part = load_audio(path)
        parts.append(part)
    return Message(
        name=sample.name,
        parts=tuple(parts),
        system=item.prompt.system,
        meta={"prompt_id": item.prompt.id, "media": {k: str(v) for k, v in paths.items()}},
    )


# --------------------------------------------------------------------------- the run


def _default_renderer() -> PromptRenderer:
    try:
        from ovmer.describe.prompts import render_describe_prompt
    except ImportError as exc:
        raise OvmerError(f"the describe prompts are unavailable ({exc}); pass render_prompt=") from exc
    return render_describe_prompt


def _resolve(
    baseline_or_adapter: str | DescribeAdapter,
    spec: BaselineSpec | None,
    model_path: str | None,
    device: str,
    dtype: str,
    external_cmd: str | None,
    max_new_tokens: int | None = None,
) -> tuple[BaselineSpec, DescribeAdapter | None]:
    if isinstance(baseline_or_adapter, DescribeAdapter):
        adapter = baseline_or_adapter
        spec = spec or getattr(adapter, "spec", None)
        if spec is None:
            raise OvmerError(f"{type(adapter).__name__} has no spec; pass spec= with the adapter")
        return spec, adapter
    from ovmer.describe.registry import create_adapter, get_baseline

    spec = spec or get_baseline(baseline_or_adapter)
    if external_cmd is not None:
        return spec, None
    if spec.run == "external":
        raise OvmerError(
            f"{spec.name} runs in the authors' code: give --external-cmd (see ovmer.describe.external)"
            + (f"; upstream: {spec.upstream}" if getattr(spec, "upstream", "") else "")
        )
    if spec.run == "replay":
        raise OvmerError(
            f"{spec.name} has released outputs only; import them with `ovmer import-released --baseline {spec.name}`"
        )
    options: dict[str, Any] = {"model_path": model_path, "device": device, "dtype": dtype}
    if max_new_tokens is not None:
        options["max_new_tokens"] = max_new_tokens
    return spec, create_adapter(spec.name, **options)


def prepare_items(
    spec: BaselineSpec,
    setting: Setting,
    layout: MER2025Layout,
    names: Sequence[str],
    *,
    model: dict[str, Any],
    generation: dict[str, object],
    render_prompt: PromptRenderer,
    visual: Visual = "frames",
    subtitle_language: Literal["english", "chinese"] = "english",
    runner: str = "native",
    extra: dict[str, Any] | None = None,
) -> list[WorkItem]:
    """One work item per sample, keyed; cheap (hashes files, decodes nothing)."""
    identities = FileIdentities()
    kinds = media_kinds(spec, visual)
    frames = spec.frames if spec.frames != FramePolicy() else DEFAULT_FRAMES
    modalities = frozenset(spec.modalities)
    items: list[WorkItem] = []
    for name in names:
        sample = layout[name]
        subtitle = None
        if setting is Setting.SUBTITLE:
            subtitle = sample.subtitle(subtitle_language) or ""
        prompt = render_prompt(setting, modalities, subtitle)
        media = {kind: identities(path) for kind, path in media_paths(sample, kinds).items()}
        key = describe_key(
            baseline=spec.name,
            model=model,
            prompt=prompt,
            generation=generation,
            frames=frames,
            visual=visual,
            media=media,
            setting=setting,
            runner=runner,
            extra=extra,
        )
        items.append(WorkItem(name, key, DescribeItem(sample, prompt, subtitle)))
    return items


def describe_store(baseline: str, setting: Setting | str, store_root: str | os.PathLike[str] | None = None,
                   shard: tuple[int, int] | None = None) -> ResultsStore:
    return ResultsStore(store_path(STAGE, baseline, setting, root=store_root, shard=shard))


def run_describe(
    baseline_or_adapter: str | DescribeAdapter,
    setting: Setting | str,
    data_dir: str | os.PathLike[str],
    *,
    model_path: str | None = None,
    device: str = "cpu",
    dtype: str = "auto",
    limit: int | None = None,
    shard: tuple[int, int] | str | None = None,
    store_root: str | os.PathLike[str] | None = None,
    progress: bool = True,
    spec: BaselineSpec | None = None,
    external_cmd: str | None = None,
    names: Iterable[str] | None = None,
    visual: Visual = "frames",
    max_side: int | None = None,
    subtitle_language: Literal["english", "chinese"] = "english",
    render_prompt: PromptRenderer | None = None,
    max_new_tokens: int | None = None,
) -> StageSummary:
    """Describe every (remaining) sample of ``data_dir`` with a baseline; see the module docstring.

    ``baseline_or_adapter`` is a registry name (its adapter is created with
    ``model_path``/``device``/``dtype``/``max_new_tokens``) or an adapter instance (its ``spec``, or
    ``spec=``). With ``external_cmd`` the samples go to that command through the
    protocol of :mod:`ovmer.describe.external`. Missing or empty media files are
    reported up front and become error records for their samples; the run goes on.
    """
    setting = describe_setting(setting)
    shard = parse_shard(shard)
    spec, adapter = _resolve(baseline_or_adapter, spec, model_path, device, dtype, external_cmd, max_new_tokens)
    render_prompt = render_prompt or _default_renderer()
    layout = load_mer2025(data_dir, names=names, require=media_kinds(spec, visual))
    chosen = select_names(layout, limit, shard)
    if setting is Setting.SUBTITLE and chosen and all(layout[n].subtitle(subtitle_language) is None for n in chosen):
        raise OvmerError(
            f"{layout.root}: setting subtitle (S1) needs subtitles, but no sample has a {subtitle_language} one "
            f"in {SUBTITLE_CSV}; write them with `ovmer asr --write-csv` or describe with nosubtitle (S0)"
        )
    bad = [n for n in chosen if n in layout.problems]
    if bad:
        sub = MER2025Layout(layout.root, {n: layout.samples[n] for n in chosen},
                            {n: layout.problems[n] for n in bad})
        warnings.warn(sub.report() + "\nthese samples get error records; the others run", stacklevel=2)
    store = describe_store(spec.name, setting, store_root, shard)
    shard_text = f"{shard[0]}/{shard[1]}" if shard else None
    meta = {"baseline": spec.name, "setting": setting.value, "shard": shard_text}

    if adapter is None:
        from ovmer.describe.external import run_external

        assert external_cmd is not None
        items = prepare_items(
            spec, setting, layout, chosen,
            model=model_fingerprint(model_path, spec.checkpoint),
            generation={},
            render_prompt=render_prompt,
            visual=visual,
            subtitle_language=subtitle_language,
            runner="external",
        )
        # The command is how to reach the model, not what it is (that is baseline + checkpoint +
        # model files), so it goes into the records' meta rather than the key: a renamed
        # environment or moved script does not redo finished samples.
        meta["command"] = external_cmd
        return run_external(store, items, spec, external_cmd, visual=visual, progress=progress, meta=meta)

    items = prepare_items(
        spec, setting, layout, chosen,
        model=model_fingerprint(adapter.model_path, spec.checkpoint),
        generation=adapter.generation_settings(),
        render_prompt=render_prompt,
        visual=visual,
        subtitle_language=subtitle_language,
    )
    loaded = False

    def compute(item: WorkItem) -> tuple[str, str]:
        nonlocal loaded
        message = build_message(item.payload, spec, visual=visual, max_side=max_side)
        if not loaded:  # only when there is work: a finished run never loads the model
            adapter.load()
            loaded = True
        text = adapter.describe(message)
        if not isinstance(text, str):
            raise OvmerError(f"{spec.name}: describe() returned {type(text).__name__}, not text")
        return text, text.strip()

    desc = f"describe {spec.name} {setting.short}" + (f" shard {shard_text}" if shard_text else "")
    meta["device"] = device
    return run_stage(store, items, compute, desc=desc, progress=progress, meta=meta)


# --------------------------------------------------------------------------- merge and export


@dataclass(frozen=True)
class MergeResult:
    path: Path
    samples: int
    errors: int

    def __str__(self) -> str:
        return f"{self.path}: {self.samples} samples ({self.errors} error records)"


def merge_shards(
    baseline: str,
    setting: Setting | str,
    num_shards: int,
    *,
    data_dir: str | os.PathLike[str] | None = None,
    names: Iterable[str] | None = None,
    limit: int | None = None,
    store_root: str | os.PathLike[str] | None = None,
    allow_errors: bool = False,
) -> MergeResult:
    """Join ``num_shards`` shard files into the baseline's store file, refusing gaps and duplicates.

    The expected samples are ``names``, or those of ``data_dir`` (first ``limit``),
    exactly as the shards selected them. Each must have its latest record in exactly
    one shard file, and that record must be ok unless ``allow_errors``. The merged
    file keeps the records (and keys) as they are, so a later unsharded run resumes from it.
    """
    setting = describe_setting(setting)
    if num_shards < 1:
        raise OvmerError(f"number of shards must be at least 1, got {num_shards}")
    if names is not None:
        expected = list(dict.fromkeys(names))
    elif data_dir is not None:
        expected = select_names(load_mer2025(data_dir), limit)
    else:
        raise OvmerError("merge needs the expected samples: give data_dir (and limit) or names")

    owners: dict[str, list[int]] = {}
    records: dict[str, Record] = {}
    missing_files = []
    for index in range(num_shards):
        store = describe_store(baseline, setting, store_root, (index, num_shards))
        if not store.path.is_file():
            missing_files.append(str(store.path))
            continue
        for name, record in store.latest().items():
            owners.setdefault(name, []).append(index)
            records[name] = record
    if missing_files:
        raise OvmerError(f"cannot merge: shard file(s) not found: {', '.join(missing_files)}")
    expected_set = set(expected)
    duplicates = {n: o for n, o in owners.items() if len(o) > 1}
    gaps = [n for n in expected if n not in owners]
    strays = [n for n in owners if n not in expected_set]
    errors = [n for n in expected if n in records and not records[n].ok]
    problems = []
    if duplicates:
        shown = ", ".join(f"{n} (shards {', '.join(map(str, o))})" for n, o in list(duplicates.items())[:5])
        problems.append(f"{len(duplicates)} sample(s) in more than one shard: {shown}")
    if gaps:
        problems.append(f"{len(gaps)} sample(s) in no shard: {', '.join(gaps[:5])}{' ...' if len(gaps) > 5 else ''}")
    if strays:
        problems.append(f"{len(strays)} sample(s) not expected: {', '.join(strays[:5])}")
    if errors and not allow_errors:
        problems.append(
            f"{len(errors)} sample(s) whose latest record is an error: {', '.join(errors[:5])} "
            "(re-run those shards, or merge with allow_errors)"
        )
    if problems:
        raise OvmerError(f"cannot merge {baseline} {setting.value} from {num_shards} shards: " + "; ".join(problems))

    target = store_path(STAGE, baseline, setting, root=store_root)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".partial-{target.name}")
    # Merged file is derived from the shards: write it whole, then swap it in.
    with open(partial, "w", encoding="utf-8") as handle:
        for name in expected:
            handle.write(records[name].to_json() + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(partial, target)
    return MergeResult(target, len(expected), len(errors))


def export_npz(
    baseline: str,
    setting: Setting | str,
    npz_path: str | os.PathLike[str],
    *,
    store_root: str | os.PathLike[str] | None = None,
    skip_errors: bool = False,
) -> Path:
    """Write the baseline's descriptions in the authors' ``name2reason`` npz format."""
    from ovmer.store.released import export_descriptions

    return export_descriptions(describe_store(baseline, setting, store_root).path, npz_path, skip_errors=skip_errors)
