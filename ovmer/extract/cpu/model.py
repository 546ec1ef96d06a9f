"""The candidate classifier: label priors, handcrafted features, logistic regression.

For every candidate group in a description the model asks: would the LLM
extractor have listed it? Three learned priors carry most of the lexical
knowledge, as smoothed log-odds of "listed when mentioned": per group, per
surface form (relative to its group) and per one-word context (``subtitle|content``
relative to the form's group). The cues of :mod:`candidates` add position,
negation, hedging and subject information. A logistic regression (numpy, Newton
steps with an L2 penalty) weighs them; a candidate is kept when its probability
passes a threshold tuned on out-of-fold predictions.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ovmer.extract.cpu.candidates import Candidate, Description

PRIOR_STRENGTH = 2.0  # pseudo-counts pulling a sparse prior toward its parent rate
MIN_CONTEXT_COUNT = 2  # contexts seen fewer times carry no information worth storing

FEATURE_NAMES: tuple[str, ...] = (
    "group_logit",
    "group_seen",
    "form_shift",
    "context_max",
    "context_min",
    "context_mean",
    "mentions",
    "first_pos",
    "last_pos",
    "in_final_sentence",
    "negated_share",
    "all_negated",
    "hedged_share",
    "mild_share",
    "quoted_share",
    "all_quoted",
    "feeling_cue_share",
    "display_cue_share",
    "other_subject_share",
    "alternative_share",
    "conclusion_share",
    "asserted_conclusion",
    "uncertain_share",
    "description_uncertain",
    "description_has_conclusion",
    "candidates_log",
    "words_log",
    "statement_share",
    "description_statements",
    "other_statements",
    "prior_rank",
    "prior_rank_final",
    "prior_gap_to_best",
    "best_prior",
    "group_logit_x_final",
    "group_logit_x_conclusion",
    "final_x_has_conclusion",
    "conclusion_x_has_conclusion",
)


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


def _smoothed_logit(selected: float, present: float, parent: float) -> float:
    return _logit((selected + PRIOR_STRENGTH * parent) / (present + PRIOR_STRENGTH))


class PriorCounts:
    """How often each group / form / context was mentioned and how often the LLM listed it."""

    def __init__(self) -> None:
        self.group: dict[str, list[int]] = {}
        self.form: dict[str, list[int]] = {}
        self.context: dict[str, list[int]] = {}
        self.form_group: dict[str, str] = {}

    def add(self, candidate: Candidate, listed: bool) -> None:
        hit = int(listed)
        self.form_group[candidate.form] = candidate.group
        for table, key in ((self.group, candidate.group), (self.form, candidate.form)):
            entry = table.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += hit
        for key in set(candidate.contexts):
            entry = self.context.setdefault(key, [0, 0])
            entry[0] += 1
            entry[1] += hit

    def minus(self, other: PriorCounts) -> PriorCounts:
        out = PriorCounts()
        out.form_group = self.form_group
        for name in ("group", "form", "context"):
            mine, theirs = getattr(self, name), getattr(other, name)
            setattr(
                out,
                name,
                {
                    k: [v[0] - theirs.get(k, (0, 0))[0], v[1] - theirs.get(k, (0, 0))[1]]
                    for k, v in mine.items()
                },
            )
        return out

    def freeze(self) -> Priors:
        present = sum(v[0] for v in self.group.values())
        selected = sum(v[1] for v in self.group.values())
        return Priors(
            base_rate=(selected + 1) / (present + 2),
            group={k: (v[0], v[1]) for k, v in self.group.items() if v[0] > 0},
            form={k: (v[0], v[1], self.form_group[k]) for k, v in self.form.items() if v[0] > 0},
            context={k: (v[0], v[1]) for k, v in self.context.items() if v[0] >= MIN_CONTEXT_COUNT},
        )


def _context_form(key: str) -> str:
    return key.split("<", 1)[1] if "<" in key else key.split(">", 1)[0]


@dataclass(frozen=True)
class Priors:
    """Frozen (mentioned, listed) counts and the smoothed log-odds derived from them.

    ``form`` maps a surface form to (mentioned, listed, group); ``context`` keys
    are ``prev<form`` and ``form>next``.
    """

    base_rate: float
    group: Mapping[str, tuple[int, int]]
    form: Mapping[str, tuple[int, int, str]]
    context: Mapping[str, tuple[int, int]]

    def __post_init__(self) -> None:
        rates = {
            g: (selected + PRIOR_STRENGTH * self.base_rate) / (present + PRIOR_STRENGTH)
            for g, (present, selected) in self.group.items()
        }
        group_stats = {g: (_logit(rate), math.log1p(self.group[g][0]) / 5.0) for g, rate in rates.items()}
        base_logit = _logit(self.base_rate)

        def shift(selected: int, present: int, group: str) -> float:
            rate = rates.get(group, self.base_rate)
            return _smoothed_logit(selected, present, rate) - group_stats.get(group, (base_logit,))[0]

        form_shift = {f: shift(sel, n, g) for f, (n, sel, g) in self.form.items()}
        context_shift = {}
        for key, (n, sel) in self.context.items():
            entry = self.form.get(_context_form(key))
            if entry is not None:
                context_shift[key] = shift(sel, n, entry[2])
        object.__setattr__(self, "group_stats", group_stats)
        object.__setattr__(self, "unseen_stats", (base_logit, 0.0))
        object.__setattr__(self, "form_shift", form_shift)
        object.__setattr__(self, "context_shift", context_shift)

    def to_dict(self) -> dict[str, object]:
        return {
            "base_rate": self.base_rate,
            "group": {k: list(v) for k, v in sorted(self.group.items())},
            "form": {k: list(v) for k, v in sorted(self.form.items())},
            "context": {k: list(v) for k, v in sorted(self.context.items())},
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Priors:
        def table(name: str) -> dict[str, tuple[int, int]]:
            return {str(k): (int(v[0]), int(v[1])) for k, v in data[name].items()}  # type: ignore[union-attr]

        forms = {str(k): (int(v[0]), int(v[1]), str(v[2])) for k, v in data["form"].items()}  # type: ignore[union-attr]
        return cls(
            base_rate=float(data["base_rate"]),  # type: ignore[arg-type]
            group=table("group"),
            form=forms,
            context=table("context"),
        )


_RANK_INDEX = FEATURE_NAMES.index("prior_rank")


def description_features(description: Description, priors: Priors) -> list[list[float]]:
    """One feature row (in :data:`FEATURE_NAMES` order) per candidate of ``description``."""
    candidates = description.candidates
    if not candidates:
        return []
    n_candidates = len(candidates)
    final = description.final_sentence
    uncertain = description.uncertain
    has_conclusion = description.has_conclusion
    candidates_log = math.log1p(n_candidates)
    statements = description.statements
    statements_log = math.log1p(statements)
    words_log = math.log1p(description.words) / 7.0
    group_stats = priors.group_stats  # type: ignore[attr-defined]
    unseen = priors.unseen_stats  # type: ignore[attr-defined]
    form_shifts = priors.form_shift  # type: ignore[attr-defined]
    context_shifts = priors.context_shift  # type: ignore[attr-defined]
    partial: list[tuple[float, float, list[float]]] = []
    for c in candidates:
        g_logit, g_seen = group_stats.get(c.group, unseen)
        form_shift = form_shifts.get(c.form, 0.0)
        shifts = [context_shifts[k] for k in c.contexts if k in context_shifts]
        if shifts:
            c_max, c_min, c_mean = max(shifts), min(shifts), sum(shifts) / len(shifts)
        else:
            c_max = c_min = c_mean = 0.0
        m = c.mentions
        inv = 1.0 / m
        in_final = c.last_sentence == final
        conclusion_share = c.conclusion * inv
        row = [
            g_logit,
            g_seen,
            form_shift,
            c_max,
            c_min,
            c_mean,
            math.log1p(m),
            c.first_pos,
            c.last_pos,
            in_final,
            c.negated * inv,
            c.negated == m,
            c.hedged * inv,
            c.mild * inv,
            c.quoted * inv,
            c.quoted == m,
            c.feeling_cue * inv,
            c.display_cue * inv,
            c.other_subject * inv,
            c.alternative * inv,
            conclusion_share,
            c.asserted_conclusion > 0,
            c.uncertain * inv,
            uncertain,
            has_conclusion,
            candidates_log,
            words_log,
            c.statement * inv,
            statements_log,
            math.log1p(statements - c.statement),
            0.0,  # prior_rank, filled below
            0.0,  # prior_rank_final
            0.0,  # prior_gap_to_best
            0.0,  # best_prior
            g_logit * in_final,
            g_logit if c.conclusion else 0.0,
            in_final * has_conclusion,
            conclusion_share * has_conclusion,
        ]
        partial.append((g_logit + form_shift + c_mean, in_final, row))
    rank_index = _RANK_INDEX
    order = sorted(range(n_candidates), key=lambda i: -partial[i][0])
    best = partial[order[0]][0]
    final_rank = 0
    for rank, i in enumerate(order):
        score, in_final, row = partial[i]
        row[rank_index] = 1.0 / (1 + rank)
        if in_final:
            row[rank_index + 1] = 1.0 / (1 + final_rank)
            final_rank += 1
        row[rank_index + 2] = score - best
        row[rank_index + 3] = best
    return [p[2] for p in partial]


CONTEXT_FEATURE_NAMES: tuple[str, ...] = (
    "first_logit",
    "gap_to_best_other",
    "others_probability_sum",
    "others_likely",
    "first_rank",
)
_NO_OTHER = -8.0  # stands for "no competing candidate" in gap_to_best_other


def _sigmoid(z: float) -> float:
    if z < -30:
        return 0.0
    return 1.0 / (1.0 + math.exp(-z))


def context_features(first_logits: Sequence[float]) -> list[list[float]]:
    """How each candidate's first-stage score compares with the other candidates of its description."""
    n = len(first_logits)
    probabilities = [_sigmoid(z) for z in first_logits]
    total = sum(probabilities)
    likely = sum(1 for z in first_logits if z > 0)
    order = sorted(range(n), key=lambda i: -first_logits[i])
    rank = [0] * n
    for position, i in enumerate(order):
        rank[i] = position
    top = first_logits[order[0]] if n else 0.0
    runner_up = first_logits[order[1]] if n > 1 else _NO_OTHER
    out = []
    for i, z in enumerate(first_logits):
        best_other = runner_up if rank[i] == 0 else top
        out.append([z, z - best_other, total - probabilities[i], float(likely - (z > 0)), 1.0 / (1 + rank[i])])
    return out


@dataclass(frozen=True)
class LogisticModel:
    """``p = sigmoid(bias + weights · (x - mean) / scale)``, fitted by Newton's method."""

    weights: tuple[float, ...]
    bias: float
    mean: tuple[float, ...]
    scale: tuple[float, ...]

    @classmethod
    def fit(cls, features: np.ndarray, targets: np.ndarray, l2: float = 1.0, steps: int = 30) -> LogisticModel:
        """Minimise the L2-penalised log-loss on standardised features (the bias is not penalised)."""
        x = np.asarray(features, dtype=np.float64)
        y = np.asarray(targets, dtype=np.float64)
        mean = x.mean(axis=0)
        scale = x.std(axis=0)
        scale[scale < 1e-9] = 1.0
        z = np.hstack([np.ones((len(x), 1)), (x - mean) / scale])
        w = np.zeros(z.shape[1])
        penalty = np.full(z.shape[1], l2)
        penalty[0] = 0.0
        for _ in range(steps):
            p = 1.0 / (1.0 + np.exp(-np.clip(z @ w, -30, 30)))
            gradient = z.T @ (p - y) + penalty * w
            hessian = (z * (p * (1 - p))[:, None]).T @ z + np.diag(penalty + 1e-9)
            step = np.linalg.solve(hessian, gradient)
            w -= step
            if np.max(np.abs(step)) < 1e-8:
                break
        return cls(
            weights=tuple(float(v) for v in w[1:]),
            bias=float(w[0]),
            mean=tuple(float(v) for v in mean),
            scale=tuple(float(v) for v in scale),
        )

    def folded(self) -> tuple[tuple[float, ...], float]:
        """Weights and bias with the standardisation folded in (raw features in, logit out)."""
        weights = tuple(w / s for w, s in zip(self.weights, self.scale, strict=True))
        bias = self.bias - sum(w * m for w, m in zip(weights, self.mean, strict=True))
        return weights, bias

    def logits(self, rows: np.ndarray | Sequence[Sequence[float]]) -> np.ndarray:
        x = np.asarray(rows, dtype=np.float64)
        if x.size == 0:
            return np.zeros(0)
        return (x - np.asarray(self.mean)) / np.asarray(self.scale) @ np.asarray(self.weights) + self.bias

    def to_dict(self) -> dict[str, object]:
        return {"weights": list(self.weights), "bias": self.bias, "mean": list(self.mean), "scale": list(self.scale)}

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LogisticModel:
        def floats(name: str) -> tuple[float, ...]:
            return tuple(float(v) for v in data[name])  # type: ignore[union-attr]

        return cls(floats("weights"), float(data["bias"]), floats("mean"), floats("scale"))  # type: ignore[arg-type]


@dataclass(frozen=True)
class CandidateClassifier:
    """Two stacked logistic regressions and the keep rule.

    The first scores each candidate from its own features; the second sees those
    features again plus how the candidate's first score compares with its
    rivals' (an LLM lists the dominant states, so a word's chances fall when a
    stronger one is present). A candidate is kept when ``p >= threshold``; when
    none of a description reaches it, those with ``p >= fallback`` are kept (an
    LLM extractor rarely answers ``[]`` while some emotion word is plausible).
    """

    first: LogisticModel
    second: LogisticModel
    threshold: float
    fallback: float

    @classmethod
    def fit(
        cls,
        rows: Sequence[Sequence[Sequence[float]]],
        listed: Sequence[Sequence[bool]],
        missed: Sequence[int],
        l2: float = 1.0,
    ) -> CandidateClassifier:
        """``rows[d]``/``listed[d]``: feature rows / targets of description ``d``'s candidates."""
        flat = np.asarray([row for block in rows for row in block], dtype=np.float64)
        targets = np.asarray([flag for flags in listed for flag in flags], dtype=np.float64)
        first = LogisticModel.fit(flat, targets, l2=l2)
        first_logits = first.logits(flat)
        stacked, offset = [], 0
        for block in rows:
            for row, extra in zip(block, context_features(first_logits[offset : offset + len(block)].tolist()),
                                  strict=True):
                stacked.append([*row, *extra])
            offset += len(block)
        second = LogisticModel.fit(np.asarray(stacked), targets, l2=l2)
        probabilities = 1.0 / (1.0 + np.exp(-second.logits(np.asarray(stacked))))
        split, offset = [], 0
        for flags in listed:
            split.append(probabilities[offset : offset + len(flags)])
            offset += len(flags)
        threshold, fallback = best_thresholds(split, listed, missed)
        return cls(first, second, threshold, fallback)

    def compiled(self) -> Callable[[Sequence[Sequence[float]]], list[float]]:
        """A fast pure-Python scorer: feature rows of one description -> second-stage logits."""
        w1, b1 = self.first.folded()
        w2, b2 = self.second.folded()
        w2_own, w2_context = w2[: len(w1)], w2[len(w1) :]

        def score(rows: Sequence[Sequence[float]]) -> list[float]:
            own = [sum(map(operator.mul, w1, row)) for row in rows]
            first = [b1 + z for z in own]
            return [
                b2 + sum(map(operator.mul, w2_own, row)) + sum(map(operator.mul, w2_context, extra))
                for row, extra in zip(rows, context_features(first), strict=True)
            ]

        return score

    def to_dict(self) -> dict[str, object]:
        return {
            "first": self.first.to_dict(),
            "second": self.second.to_dict(),
            "threshold": self.threshold,
            "fallback": self.fallback,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> CandidateClassifier:
        return cls(
            first=LogisticModel.from_dict(data["first"]),  # type: ignore[arg-type]
            second=LogisticModel.from_dict(data["second"]),  # type: ignore[arg-type]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
            fallback=float(data["fallback"]),  # type: ignore[arg-type]
        )


def best_thresholds(
    probabilities: Sequence[Sequence[float]], listed: Sequence[Sequence[bool]], missed: Sequence[int]
) -> tuple[float, float]:
    """The (threshold, fallback) pair maximising the mean per-description F1 of kept vs listed groups.

    ``missed[i]`` counts listed groups of description ``i`` that no candidate
    covers (they cost recall whatever the thresholds). A description where
    nothing is listed and nothing kept scores 1.
    """
    sizes = np.array([len(p) for p in probabilities], dtype=np.int64)
    owner = np.repeat(np.arange(len(sizes)), sizes)
    p = np.concatenate([np.asarray(x, dtype=np.float64) for x in probabilities]) if len(owner) else np.zeros(0)
    truth = np.concatenate([np.asarray(t, dtype=bool) for t in listed]) if len(owner) else np.zeros(0, bool)
    n_true = np.bincount(owner, weights=truth, minlength=len(sizes)) + np.asarray(missed, dtype=np.float64)
    n_desc = len(sizes)
    best, best_score = (0.5, 0.5), -1.0
    for threshold in np.round(np.arange(0.20, 0.80, 0.02), 2):
        kept = p >= threshold
        has_kept = np.bincount(owner, weights=kept, minlength=n_desc) > 0
        for fallback in np.round(np.arange(0.02, threshold + 1e-9, 0.02), 2):
            final = kept | (~has_kept[owner] & (p >= fallback))
            n_kept = np.bincount(owner, weights=final, minlength=n_desc)
            hits = np.bincount(owner, weights=final & truth, minlength=n_desc)
            denominator = n_true + n_kept
            f1 = np.where(denominator > 0, 2 * hits / np.maximum(denominator, 1), 1.0)
            score = float(f1.mean())
            if score > best_score + 1e-12:
                best, best_score = (float(threshold), float(fallback)), score
    return best
