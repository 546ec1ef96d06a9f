"""The fitted CPU extractor: lexicon + priors + classifier, saved as plain JSON."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ovmer.errors import OvmerError, describe_exception
from ovmer.extract.cpu.candidates import find_candidates
from ovmer.extract.cpu.model import (
    CONTEXT_FEATURE_NAMES,
    FEATURE_NAMES,
    CandidateClassifier,
    Priors,
    description_features,
)
from ovmer.extract.cpu.vocabulary import Lexicon

FORMAT_NAME = "ovmer-cpu-extractor"
FORMAT_VERSION = 1


def _logit(p: float) -> float:
    p = min(max(p, 1e-9), 1 - 1e-9)
    return math.log(p / (1 - p))


@dataclass(frozen=True)
class CpuExtractor:
    """Description text in, the main character's emotion labels out; no model weights needed."""

    lexicon: Lexicon
    priors: Priors
    classifier: CandidateClassifier
    info: Mapping[str, Any] = field(default_factory=dict)  # training summary and provenance

    def __post_init__(self) -> None:
        object.__setattr__(self, "_score", self.classifier.compiled())
        object.__setattr__(self, "_cut", _logit(self.classifier.threshold))
        object.__setattr__(self, "_fallback_cut", _logit(self.classifier.fallback))

    def scores(self, text: str) -> dict[str, float]:
        """Probability that each candidate label found in ``text`` is kept (surface form -> p)."""
        if not isinstance(text, str):
            raise OvmerError(f"expected description text, got {type(text).__name__}")
        description = find_candidates(text, self.lexicon)
        if not description.candidates:
            return {}
        logits = self._score(description_features(description, self.priors))  # type: ignore[attr-defined]
        return {c.form: 1.0 / (1.0 + math.exp(-z)) for c, z in zip(description.candidates, logits, strict=True)}

    def extract_one(self, text: str) -> list[str]:
        """The labels of one description, in order of first mention; ``[]`` when none is clear."""
        if not text:
            return []
        description = find_candidates(text, self.lexicon)
        if not description.candidates:
            return []
        logits = self._score(description_features(description, self.priors))  # type: ignore[attr-defined]
        cut = self._cut  # type: ignore[attr-defined]
        if max(logits) < cut:
            cut = self._fallback_cut  # type: ignore[attr-defined]
        # A word that is only ever negated ("he is not angry") is never kept: in the released
        # pairs the LLM listed 2 of ~2,450 such candidates.
        return [
            c.form
            for c, z in zip(description.candidates, logits, strict=True)
            if z >= cut and c.negated < c.mentions
        ]

    def extract(self, texts: Sequence[str]) -> list[list[str]]:
        """Labels for each description, in order of first mention; ``[]`` when none is clear."""
        out = []
        for index, text in enumerate(texts):
            if not isinstance(text, str):
                raise OvmerError(f"description #{index}: expected text, got {type(text).__name__}")
            out.append(self.extract_one(text))
        return out

    def fingerprint(self) -> str:
        """sha256 (16 hex digits) of the fitted content: names this extractor in store keys."""
        cached = getattr(self, "_fingerprint", None)
        if cached is None:
            fitted = {k: v for k, v in self.to_dict().items() if k != "info"}  # info holds timings
            text = json.dumps(fitted, sort_keys=True, separators=(",", ":"))
            cached = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            object.__setattr__(self, "_fingerprint", cached)
        return cached

    # --- persistence: JSON only, so loading never runs code -------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "features": list(FEATURE_NAMES) + list(CONTEXT_FEATURE_NAMES),
            "info": dict(self.info),
            "lexicon": self.lexicon.to_dict(),
            "priors": self.priors.to_dict(),
            "classifier": self.classifier.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], where: str = "extractor") -> CpuExtractor:
        if data.get("format") != FORMAT_NAME or data.get("version") != FORMAT_VERSION:
            raise OvmerError(
                f"{where}: not a version-{FORMAT_VERSION} {FORMAT_NAME} file "
                f"(format={data.get('format')!r}, version={data.get('version')!r})"
            )
        features = data.get("features", ())
        if not isinstance(features, list) or tuple(features) != FEATURE_NAMES + CONTEXT_FEATURE_NAMES:
            raise OvmerError(f"{where}: fitted with other features; refit with `ovmer fit-extractor`")
        try:
            return cls(
                lexicon=Lexicon.from_forms(data["lexicon"]),
                priors=Priors.from_dict(data["priors"]),
                classifier=CandidateClassifier.from_dict(data["classifier"]),
                info=dict(data.get("info", {})),
            )
        except Exception as exc:  # any shape the JSON may have: one message, never a traceback
            raise OvmerError(f"{where}: malformed extractor file ({describe_exception(exc)}); refit it") from exc

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write atomically (temp file + rename) so a crash never leaves half a file."""
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CpuExtractor:
        source = Path(path)
        try:
            data = json.loads(source.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:  # ValueError: bad JSON or not UTF-8
            raise OvmerError(f"{source}: cannot read the fitted extractor ({describe_exception(exc)}); refit it") from exc
        if not isinstance(data, dict):
            raise OvmerError(f"{source}: expected a JSON object")
        return cls.from_dict(data, where=str(source))
