"""Fit the CPU extractor on the released (description -> LLM label list) pairs, and cache it.

The authors released, for 10 baselines x 3 settings, each description and the
label list an LLM extracted from it. The extractor is fitted on the 8 baselines
it was first fitted on (``TRAINING_BASELINES``, ~8,000 pairs), so that its
behaviour, its fingerprint and its benchmark numbers stay as they were. Fitting learns the lexicon's
extra labels, the priors and the classifier from such pairs in seconds. The
fitted extractor is written to ``cache_dir()`` under a name that hashes the
assets it came from and this code's version, so it is rebuilt whenever either
changes; it is derived from the assets and is never committed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
import warnings
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from pathlib import Path

from tqdm.auto import tqdm

from ovmer.assets import asset_path, load_manifest
from ovmer.data.name_values import read_description_npz, read_openset_npz
from ovmer.data.released import RELEASED_FOLDERS, released_file
from ovmer.data.wheels import WHEEL_ASSETS
from ovmer.errors import OvmerError
from ovmer.extract.cpu.candidates import Description, find_candidates, sentence_words
from ovmer.extract.cpu.extractor import CpuExtractor
from ovmer.extract.cpu.model import CandidateClassifier, PriorCounts, description_features
from ovmer.extract.cpu.vocabulary import Lexicon, build_lexicon, normalize_form
from ovmer.labels import parse_labels
from ovmer.paths import cache_dir
from ovmer.settings import ALL_SETTINGS

# Bump when candidates, features or fitting change: cached extractors are then refit.
CODE_VERSION = "cpu-extractor-1"
MIN_LEARNED_COUNT = 3  # a released label joins the lexicon once seen in this many descriptions
DEFAULT_FOLDS = 5
NOISE_MIN_MENTIONS = 10  # a group mentioned this often ...
NOISE_MAX_RATE = 0.02  # ... and listed less often than this is dropped from the lexicon
L2_PENALTY = 1.0

TrainingPair = tuple[str, list[str]]
# Fixed on purpose: the two baselines released later (Video-ChatGPT, VideoChat2) would change the fit.
TRAINING_BASELINES: tuple[str, ...] = (
    "Chat-UniVi", "LLaMA-VID", "Otter", "Qwen-Audio", "SALMONN", "Video-LLaVA", "VideoChat", "mPLUG-Owl",
)


def _released_files(exclude_baselines: Iterable[str]) -> list[tuple[str, str, str]]:
    """(baseline, description file, label file) of every released pair file not excluded."""
    excluded = {RELEASED_FOLDERS.canonical(b) for b in exclude_baselines}  # unknown names: did-you-mean
    return [
        (b, released_file(b, s, "description"), released_file(b, s, "openset"))
        for b in TRAINING_BASELINES
        if b not in excluded
        for s in ALL_SETTINGS
    ]


def _released_pairs(
    exclude_baselines: Iterable[str] = (), data: str | Path | None = None
) -> tuple[list[TrainingPair], list[str]]:
    pairs: list[TrainingPair] = []
    sources: list[str] = []
    for baseline, description_file, label_file in _released_files(exclude_baselines):
        texts = read_description_npz(asset_path(description_file, data))
        labels = read_openset_npz(asset_path(label_file, data))
        for name in sorted(set(texts) & set(labels)):
            pairs.append((texts[name], parse_labels(labels[name], where=f"{label_file}: {name}")))
            sources.append(baseline)
    return pairs, sources


def training_pairs(exclude_baselines: Iterable[str] = (), data: str | Path | None = None) -> list[TrainingPair]:
    """(description, LLM label list) for every released baseline and setting not excluded."""
    return _released_pairs(exclude_baselines, data)[0]


def learned_labels(pairs: Iterable[TrainingPair], min_count: int = MIN_LEARNED_COUNT) -> list[str]:
    """Labels the LLM gave that occur verbatim in their description at least ``min_count`` times."""
    counts: Counter[str] = Counter()
    for text, labels in pairs:
        low = text.lower()
        for label in labels:
            form = normalize_form(label)
            if form and form in low and re.search(rf"\b{re.escape(form)}\b", low):
                counts[form] += 1
    return sorted(label for label, n in counts.items() if n >= min_count)


def _default_folds(pairs: Sequence[TrainingPair], k: int) -> list[int]:
    return [int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:8], 16) % k for text, _ in pairs]


def fit(
    pairs: Sequence[TrainingPair],
    *,
    folds: Sequence[Hashable] | None = None,
    data: str | Path | None = None,
    l2: float = L2_PENALTY,
    progress: bool = False,
    info: dict[str, object] | None = None,
) -> CpuExtractor:
    """Fit an extractor on (description, label list) pairs.

    ``folds`` assigns each pair to a fold for the out-of-fold priors the
    classifier is trained on (so it learns how much to trust a prior it has not
    seen the pair in); pass the baseline of each pair to mimic leave-one-
    baseline-out use. Default: 5 folds by a hash of the text.
    """
    if not pairs:
        raise OvmerError("cannot fit the CPU extractor on zero (description, labels) pairs")
    started = time.perf_counter()
    fold_of = list(folds) if folds is not None else _default_folds(pairs, DEFAULT_FOLDS)
    if len(fold_of) != len(pairs):
        raise OvmerError(f"{len(fold_of)} fold ids for {len(pairs)} pairs")
    learned = learned_labels(pairs)
    full_lexicon = build_lexicon(data, learned=learned)
    # Words the LLM (almost) never lists ("person", "expert", "content") only cost time and blur
    # the position cues; drop them before the real pass.
    noise = _noise_groups(pairs, full_lexicon)
    lexicon = Lexicon.from_forms({f: g for f, g in full_lexicon.groups.items() if g not in noise})
    descriptions = _find_all(pairs, lexicon, progress)
    listed, missed = _targets(pairs, descriptions, lexicon)
    total = PriorCounts()
    per_fold: dict[Hashable, PriorCounts] = {f: PriorCounts() for f in dict.fromkeys(fold_of)}
    for description, flags, fold in zip(descriptions, listed, fold_of, strict=True):
        for candidate, flag in zip(description.candidates, flags, strict=True):
            total.add(candidate, flag)
            per_fold[fold].add(candidate, flag)
    held_out = {f: total.minus(counts).freeze() for f, counts in per_fold.items()}
    rows = [
        description_features(description, held_out[fold])
        for description, fold in zip(descriptions, fold_of, strict=True)
    ]
    n_candidates = sum(len(flags) for flags in listed)
    n_covered = sum(sum(flags) for flags in listed)
    if n_covered in (0, n_candidates):
        raise OvmerError("the training pairs give candidates of only one class; need listed and unlisted ones")
    classifier = CandidateClassifier.fit(rows, listed, missed, l2=l2)
    n_listed = n_covered + sum(missed)
    summary: dict[str, object] = {
        "code_version": CODE_VERSION,
        "pairs": len(pairs),
        "folds": len(per_fold),
        "lexicon_forms": len(lexicon),
        "learned_labels": len(learned),
        "noise_groups_dropped": len(noise),
        "candidates": n_candidates,
        "listed_groups": n_listed,
        "candidate_coverage": round(n_covered / max(n_listed, 1), 4),
        "threshold": classifier.threshold,
        "fallback": classifier.fallback,
        "fit_seconds": round(time.perf_counter() - started, 2),
    }
    summary.update(info or {})
    return CpuExtractor(lexicon=lexicon, priors=total.freeze(), classifier=classifier, info=summary)


def _find_all(pairs: Sequence[TrainingPair], lexicon: Lexicon, progress: bool) -> list[Description]:
    return [
        find_candidates(text, lexicon)
        for text, _ in tqdm(pairs, desc="cpu extractor: candidates", disable=not progress, unit="desc")
    ]


def _targets(
    pairs: Sequence[TrainingPair], descriptions: Sequence[Description], lexicon: Lexicon
) -> tuple[list[list[bool]], list[int]]:
    """Per description: which candidates the LLM listed, and how many listed groups no candidate covers."""
    listed: list[list[bool]] = []
    missed: list[int] = []
    for (_, labels), description in zip(pairs, descriptions, strict=True):
        targets = {lexicon.group_of(label) for label in labels}
        listed.append([c.group in targets for c in description.candidates])
        missed.append(len(targets - {c.group for c in description.candidates}))
    return listed, missed


def _noise_groups(pairs: Sequence[TrainingPair], lexicon: Lexicon) -> set[str]:
    """Groups of one-word forms mentioned often (``NOISE_MIN_MENTIONS``) but almost never listed."""
    single = frozenset(f for f in lexicon.groups if " " not in f)
    counts: dict[str, list[int]] = {}
    for text, labels in pairs:
        words = single.intersection(w for sentence, _ in sentence_words(text) for w in sentence)
        targets = {lexicon.group_of(label) for label in labels}
        for group in {lexicon.groups[w] for w in words}:
            entry = counts.setdefault(group, [0, 0])
            entry[0] += 1
            entry[1] += group in targets
    return {g for g, (n, hits) in counts.items() if n >= NOISE_MIN_MENTIONS and hits < NOISE_MAX_RATE * n}


def fit_released(
    exclude_baselines: Iterable[str] = (), data: str | Path | None = None, progress: bool = False
) -> CpuExtractor:
    """Fit on the released pairs (out-of-fold priors by baseline), leaving ``exclude_baselines`` out."""
    excluded = sorted(set(exclude_baselines))
    pairs, sources = _released_pairs(excluded, data)
    return fit(
        pairs,
        folds=sources,
        data=data,
        progress=progress,
        info={"excluded_baselines": excluded, "cache_key": cache_key(excluded)},
    )


def cache_key(exclude_baselines: Iterable[str] = ()) -> str:
    """Hash of the sha256s of every asset a fit reads, the excluded baselines and the code version."""
    manifest = load_manifest()
    excluded = sorted(set(exclude_baselines))
    used = list(WHEEL_ASSETS) + [f for _, d, o in _released_files(excluded) for f in (d, o)]
    parts = {"code": CODE_VERSION, "excluded": excluded, "assets": {p: manifest[p].sha256 for p in sorted(used)}}
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def extractor_path(data: str | Path | None = None, exclude_baselines: Iterable[str] = ()) -> Path:
    folder = Path(data).expanduser() / "cache" if data is not None else cache_dir()
    return folder / f"cpu-extractor-{cache_key(exclude_baselines)}.json"


def load_or_fit(
    data: str | Path | None = None,
    *,
    exclude_baselines: Iterable[str] = (),
    refit: bool = False,
    progress: bool = False,
) -> CpuExtractor:
    """The fitted extractor from the cache, fitting (seconds) and caching it first if absent."""
    excluded = sorted(set(exclude_baselines))
    path = extractor_path(data, excluded)
    if path.exists() and not refit:
        try:
            return CpuExtractor.load(path)
        except OvmerError as exc:  # a cache fitted from the released data: refit rather than fail
            warnings.warn(f"{exc}; refitting the cached extractor", stacklevel=2)
    extractor = fit_released(excluded, data, progress=progress)
    extractor.save(path)
    return extractor
