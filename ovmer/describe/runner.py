"""Run a describe baseline over a dataset folder: one store record per sample, resumable and shardable.

For each sample the runner renders the setting's prompt, decodes the media the
baseline uses (frames by its frame policy, 16 kHz audio), hands the adapter one
:class:`~ovmer.messages.Chat` and appends the text to
``store/describe/<baseline>/<setting>[.shard-i-of-n].jsonl``.

A record's key (:func:`ovmer.keys.describe_key`) hashes what the description
depends on: baseline, model files, prompt (id, sha256 and rendered text),
generation settings, frame policy, the media files' size and sha256, and the
setting. A re-run skips samples whose latest record is ok with the same key and
retries the rest; the model is loaded only when something is left to do.

The describe stage by job: :mod:`~ovmer.describe.selection` (samples, shards,
store file), :mod:`ovmer.keys` (fingerprints and keys),
:mod:`~ovmer.describe.inputs` (keyed items and messages), this module (the
run), :mod:`~ovmer.describe.external` (the subprocess protocol) and
:mod:`~ovmer.describe.merging` (shards -> one file, npz export). The names
this module used to define are re-exported here.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ovmer.data.mer2025 import SUBTITLE_CSV, MER2025Layout, load_mer2025
from ovmer.describe.adapter import DEFAULT_FRAMES, BaselineSpec, DescribeAdapter
from ovmer.describe.external import run_external
from ovmer.describe.inputs import (
    DescribeItem,
    PromptRenderer,
    Visual,
    build_message,
    media_kinds,
    media_paths,
    prepare_items,
)
from ovmer.describe.merging import MergeResult, export_npz, merge_shards
from ovmer.describe.prompts import describe_setting, render_describe_prompt
from ovmer.describe.registry import create_adapter, get_baseline
from ovmer.describe.selection import STAGE, describe_store, parse_shard, select_names, shard_names
from ovmer.engines import Engine, StageWork, each_sample, resolve_engine, run_work
from ovmer.errors import OvmerError
from ovmer.hub.models import local_checkpoint
from ovmer.keys import HASHED_MODEL_FILE_BYTES, FileIdentities, describe_key, model_fingerprint
from ovmer.llm.chat_completions import run_concurrently
from ovmer.settings import Setting
from ovmer.store.runner import Result, StageSummary, WorkItem

__all__ = [
    "DEFAULT_FRAMES", "HASHED_MODEL_FILE_BYTES", "STAGE", "DescribeItem", "FileIdentities", "MergeResult",
    "DescribeWorker", "PromptRenderer", "Visual", "build_message", "describe_key", "describe_store", "export_npz",
    "media_kinds", "media_paths", "merge_shards", "model_fingerprint", "parse_shard", "prepare_items",
    "resolve_run", "run_describe", "select_names", "shard_names",
]


def resolve_run(
    baseline_or_adapter: str | DescribeAdapter,
    spec: BaselineSpec | None = None,
    model_path: str | None = None,
    device: str = "cpu",
    dtype: str = "auto",
    external_cmd: str | None = None,
    max_new_tokens: int | None = None,
    adapter_options: Mapping[str, Any] | None = None,
) -> tuple[BaselineSpec, DescribeAdapter | None]:
    """The spec a run uses and its adapter (built, not loaded; ``None`` for an external command).

    ``adapter_options`` go to the adapter's constructor besides the common ones
    (``base_url``, ``model``... for ``openai-compatible``); the spec is the
    adapter's, so options that change it (a served model's name) decide where records go.
    """
    if isinstance(baseline_or_adapter, DescribeAdapter):
        adapter = baseline_or_adapter
        spec = spec or getattr(adapter, "spec", None)
        if spec is None:
            raise OvmerError(f"{type(adapter).__name__} has no spec; pass spec= with the adapter")
        return spec, adapter
    given = spec
    spec = spec or get_baseline(baseline_or_adapter)
    if external_cmd is not None:
        if adapter_options:
            raise OvmerError(f"options {', '.join(sorted(adapter_options))} are for a native adapter, "
                             "not an external command")
        return spec, None
    if spec.run == "external":
        raise OvmerError(
            f"{spec.name} runs in the authors' code: give --external-cmd (see ovmer.describe.external)"
            + (f"; upstream: {spec.upstream}" if spec.upstream else "")
        )
    if spec.run == "replay":
        raise OvmerError(
            f"{spec.name} has released outputs only; import them with `ovmer import-released --baseline {spec.name}`"
        )
    if model_path is None:  # a checkpoint `ovmer download-model` fetched stands in for --model-path
        found = local_checkpoint(spec.name)
        model_path = str(found) if found is not None else None
    options: dict[str, Any] = {"model_path": model_path, "device": device, "dtype": dtype}
    if max_new_tokens is not None:
        options["max_new_tokens"] = max_new_tokens
    adapter = create_adapter(baseline_or_adapter, **options, **dict(adapter_options or {}))
    return given or adapter.spec, adapter


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
    adapter_options: Mapping[str, Any] | None = None,
    engine: str | Engine | None = None,
) -> StageSummary:
    """Describe every (remaining) sample of ``data_dir`` with a baseline; see the module docstring.

    ``baseline_or_adapter`` is a registry name (its adapter is created with
    ``model_path``/``device``/``dtype``/``max_new_tokens`` and ``adapter_options``) or an adapter
    instance (its ``spec``, or ``spec=``). With ``external_cmd`` the samples go to that command through the
    protocol of :mod:`ovmer.describe.external`. Missing or empty media files are
    reported up front and become error records for their samples; the run goes on.
    ``engine`` runs the model here (``local``, the default) or on replicas on a Ray cluster
    (``ray``, or a :class:`~ovmer.engines.ray_engine.RayEngine` with its placement); the
    records are the same.
    """
    runner = resolve_engine(engine)
    setting = describe_setting(setting)
    shard = parse_shard(shard)
    spec, adapter = resolve_run(baseline_or_adapter, spec, model_path, device, dtype, external_cmd, max_new_tokens,
                                adapter_options)
    render_prompt = render_prompt or render_describe_prompt
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
    meta: dict[str, Any] = {"baseline": spec.name, "setting": setting.value, "shard": shard_text}

    if adapter is None:
        assert external_cmd is not None
        if runner.name != "local":
            raise OvmerError(f"--external-cmd runs one program here; the {runner.name} engine runs native "
                             "adapters (for an external baseline on a cluster, run --shard i/n jobs)")
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
    desc = f"describe {spec.name} {setting.short}" + (f" shard {shard_text}" if shard_text else "")
    meta["device"] = device
    # An adapter's own frame size is part of its key; one that waits on a server takes several samples at once.
    work = StageWork(DescribeWorker(adapter, spec, visual, adapter.frame_max_side or max_side),
                     batch_size=adapter.concurrency)
    return run_work(store, items, work, runner, desc=desc, progress=progress, meta=meta)


@dataclass
class DescribeWorker:
    """The describe stage's work on a chunk of samples: decode each one's media, ask the adapter.

    The adapter loads on the first sample (a finished run never loads it). An
    engine may run a copy in another process (a Ray replica), so it is plain data.
    """

    adapter: DescribeAdapter
    spec: BaselineSpec
    visual: Visual = "frames"
    max_side: int | None = None
    loaded: bool = False

    def __call__(self, chunk: Sequence[WorkItem]) -> list[Result]:
        if self.adapter.concurrency > 1:  # samples wait on a server: decode and send several at once
            self.load()  # before the threads start
            return run_concurrently(self.describe, chunk, self.adapter.concurrency)
        return each_sample(self.describe, chunk)

    def load(self) -> None:
        if not self.loaded:
            self.adapter.load()
            self.loaded = True

    def describe(self, item: WorkItem) -> tuple[str, str, dict[str, object]]:
        message = build_message(item.payload, self.spec, visual=self.visual, max_side=self.max_side)
        self.load()
        text, record_meta = self.adapter.describe_record(message)
        if not isinstance(text, str):
            raise OvmerError(f"{self.spec.name}: describe() returned {type(text).__name__}, not text")
        return text, text.strip(), record_meta
