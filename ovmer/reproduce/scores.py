"""Score every baseline x setting once and cache the result for the tables and figures.

``04_score`` builds a :class:`ScorePlan` from its parameters and calls
:func:`compute_scores`, which writes ``scores.json`` (full-precision fractions);
``05_tables`` and ``06_figures`` read it with :func:`load_scores` instead of
scoring again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from tqdm.auto import tqdm

from ovmer.assets import asset_path
from ovmer.data.released import RELEASED_BASELINES, released_file
from ovmer.errors import OvmerError
from ovmer.reproduce.jsonfile import read_json, write_json
from ovmer.reproduce.layout import display_path, reproduce_layout
from ovmer.reproduce.record import record, record_outputs
from ovmer.reproduce.selection import default_baselines, parse_settings
from ovmer.reproduce.table_io import Table
from ovmer.scoring import METRIC_NAMES, bootstrap_intervals, oov_report, read_predictions
from ovmer.scoring.protocols import ScoringTask, make_protocol
from ovmer.settings import ALL_SETTINGS, Setting
from ovmer.store import store_path

SCORES_FORMAT = 2  # 2: each entry carries its scores under every protocol of REPRODUCED_PROTOCOLS
LABEL_SOURCES = ("released", "store")
SMOKE_N_BOOT = 100
# (column label, protocol name, options): the protocols every label file is scored under.
REPRODUCED_PROTOCOLS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("ovmer-paper", "ovmer-paper", {}),
    ("affectgpt L1", "affectgpt", {"level": 1}),
    ("affectgpt L2", "affectgpt", {"level": 2}),
    ("mer2025-track2", "mer2025-track2", {}),
    ("mer2026-track2", "mer2026-track2", {}),
    ("hit-rate mer2023", "hit-rate", {"onehot": "mer2023"}),
)


@dataclass(frozen=True)
class ScoreEntry:
    """The scores of one label file (fractions, not ×100)."""

    baseline: str
    setting: str  # Setting value, e.g. "nosubtitle-addsub"
    source: str  # "released" or "store"
    file: str  # display path of the label file
    n_scored: int
    n_samples: int
    metrics: dict[str, dict[str, float]]  # metric -> {"precision", "recall", "f"}
    m_avg: float
    intervals: dict[str, list[float]]  # METRIC_NAMES + "M-avg" -> [low, high] of F
    empty_predictions: int
    mean_labels: float  # labels per prediction
    oov: dict[str, dict[str, float]]  # scoring's oov_report
    protocols: dict[str, dict[str, float]]  # REPRODUCED_PROTOCOLS label -> {"score": ..., each part: ...}

    @property
    def short(self) -> str:
        return Setting.parse(self.setting).short


@dataclass
class ScoreTable:
    entries: list[ScoreEntry]
    config: dict[str, Any] = field(default_factory=dict)

    def get(self, baseline: str, setting: str | Setting) -> ScoreEntry:
        value = Setting.parse(setting).value
        for entry in self.entries:
            if entry.baseline == baseline and entry.setting == value:
                return entry
        raise OvmerError(f"no scores for {baseline} / {value} in the scores file")

    @property
    def baselines(self) -> list[str]:
        return list(dict.fromkeys(e.baseline for e in self.entries))

    @property
    def settings(self) -> list[Setting]:
        present = {e.setting for e in self.entries}
        return [s for s in ALL_SETTINGS if s.value in present]

    def f_frame(self, scale: float = 100.0) -> pd.DataFrame:
        """F of every metric and M-avg; index (baseline, setting short name)."""
        rows = {
            (e.baseline, e.short): [e.metrics[m]["f"] * scale for m in METRIC_NAMES] + [e.m_avg * scale]
            for e in self.entries
        }
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=[*METRIC_NAMES, "M-avg"])
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=["baseline", "setting"])
        return frame

    def protocol_frame(self, scale: float = 100.0) -> pd.DataFrame:
        """Score and parts of every protocol; index (baseline, setting short name), columns (protocol, part)."""
        rows = {
            (e.baseline, e.short): {(label, part): value * scale for label, values in e.protocols.items()
                                    for part, value in values.items()}
            for e in self.entries
        }
        frame = pd.DataFrame.from_dict(rows, orient="index")
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=["baseline", "setting"])
        frame.columns = pd.MultiIndex.from_tuples(frame.columns, names=["protocol", "part"])
        return frame

    def interval_frame(self, metric: str = "M-avg", scale: float = 100.0) -> pd.DataFrame:
        """Bootstrap interval of one metric's F: columns low, high; index (baseline, setting)."""
        rows = {(e.baseline, e.short): [v * scale for v in e.intervals[metric]] for e in self.entries}
        frame = pd.DataFrame.from_dict(rows, orient="index", columns=["low", "high"])
        frame.index = pd.MultiIndex.from_tuples(frame.index, names=["baseline", "setting"])
        return frame

    def to_json(self) -> dict[str, Any]:
        return {"format": SCORES_FORMAT, "config": self.config, "entries": [asdict(e) for e in self.entries]}

    @classmethod
    def from_json(cls, data: Mapping[str, Any], where: str) -> ScoreTable:
        if data.get("format") != SCORES_FORMAT:
            raise OvmerError(f"{where}: scores file format {data.get('format')!r}, expected {SCORES_FORMAT}; "
                             "run 04_score again")
        try:
            entries = [ScoreEntry(**e) for e in data["entries"]]
        except (KeyError, TypeError) as exc:
            raise OvmerError(f"{where}: malformed scores file ({exc}); run 04_score again") from exc
        return cls(entries, dict(data.get("config", {})))


@dataclass(frozen=True)
class ScorePlan:
    """What 04_score scores: validated parameters with the derived values filled in."""

    baselines: tuple[str, ...]  # released baselines
    extra_baselines: tuple[str, ...]  # the user's baselines (labels in the store)
    settings: tuple[Setting, ...]
    labels: str  # label source of the released baselines: "released" or "store"
    n_boot: int
    seed: int
    smoke: bool
    store_root: Path
    scores_file: Path

    def __repr__(self) -> str:
        systems = ", ".join([*self.baselines, *self.extra_baselines])
        return (
            f"score {systems} in {', '.join(s.short for s in self.settings)} "
            f"({self.labels} labels); {self.n_boot} bootstrap draws, seed {self.seed}; "
            f"scores cache {display_path(self.scores_file)}"
        )


def plan_scoring(
    *,
    smoke: bool,
    baselines: Sequence[str] = (),
    extra_baselines: Sequence[str] = (),
    settings: Sequence[str | Setting] = ("S0", "S1", "S2"),
    labels: str = "released",
    n_boot: int = 1000,
    seed: int = 0,
    output: str = "",
) -> ScorePlan:
    """Validate 04_score's parameters. Smoke mode: two baselines and at most 100 bootstrap draws."""
    chosen = tuple(baselines) or default_baselines(smoke)
    for baseline in chosen:
        released_file(baseline, Setting.NOSUBTITLE)  # raises with a did-you-mean for unknown names
    if labels not in LABEL_SOURCES:
        raise OvmerError(f"labels must be one of {', '.join(LABEL_SOURCES)}, got {labels!r}")
    if n_boot < 0:
        raise OvmerError(f"n_boot must be 0 (no intervals) or positive, got {n_boot}")
    clash = sorted(set(extra_baselines) & set(RELEASED_BASELINES))
    if clash:
        raise OvmerError(f"extra baselines may not reuse a released baseline's name: {', '.join(clash)}")
    layout = reproduce_layout(smoke, output or None)
    return ScorePlan(
        baselines=chosen,
        extra_baselines=tuple(extra_baselines),
        settings=parse_settings(settings),
        labels=labels,
        n_boot=min(n_boot, SMOKE_N_BOOT) if smoke else n_boot,
        seed=seed,
        smoke=smoke,
        store_root=layout.root,
        scores_file=layout.scores,
    )


def _label_files(plan: ScorePlan) -> list[tuple[str, Setting, str, Path]]:
    """(baseline, setting, source, path) of every label file to score."""
    files = []
    for baseline in plan.baselines:
        for setting in plan.settings:
            if plan.labels == "released":
                files.append((baseline, setting, "released", asset_path(released_file(baseline, setting))))
            else:
                path = store_path("extract", baseline, setting, plan.store_root)
                if not path.is_file():
                    raise OvmerError(f"{path}: no re-extracted labels of {baseline} / {setting.value}; "
                                     "run 03_extract_labels first")
                files.append((baseline, setting, "store", path))
    for baseline in plan.extra_baselines:
        found = [s for s in plan.settings if store_path("extract", baseline, s, plan.store_root).is_file()]
        if not found:
            raise OvmerError(f"extra baseline {baseline}: no extracted labels under "
                             f"{store_path('extract', baseline, plan.settings[0], plan.store_root).parent}")
        files += [(baseline, s, "store", store_path("extract", baseline, s, plan.store_root)) for s in found]
    return files


def score_label_file(
    baseline: str, setting: Setting, source: str, path: Path, *, n_boot: int, seed: int
) -> ScoreEntry:
    """Scores, bootstrap intervals and diagnostics of one label file."""
    predictions = read_predictions(path)  # parsed label lists, with the scorer's own parser
    task = ScoringTask(predictions, file=display_path(path), baseline=baseline, setting=setting.value)
    report = task.report
    protocols = {label: make_protocol(name, **options).evaluate(task).values()
                 for label, name, options in REPRODUCED_PROTOCOLS}
    if n_boot:
        intervals = {k: [float(lo), float(hi)] for k, (lo, hi) in
                     bootstrap_intervals(predictions, n_boot=n_boot, seed=seed).items()}
    else:
        intervals = {k: [float("nan"), float("nan")] for k in (*METRIC_NAMES, "M-avg")}
    parsed = list(predictions.values())
    return ScoreEntry(
        baseline=baseline,
        setting=setting.value,
        source=source,
        file=display_path(path),
        n_scored=report.n_scored,
        n_samples=report.n_samples,
        metrics={m: {"precision": p.precision, "recall": p.recall, "f": p.f} for m, p in report.metrics.items()},
        m_avg=report.m_avg,
        intervals=intervals,
        empty_predictions=sum(1 for labels in parsed if not labels),
        mean_labels=sum(len(labels) for labels in parsed) / max(1, len(parsed)),
        oov={k: {kk: float(vv) for kk, vv in v.items()} for k, v in oov_report(predictions).items()},
        protocols=protocols,
    )


def compute_scores(plan: ScorePlan, progress: bool = False) -> ScoreTable:
    """Score every planned label file and write the scores cache (``plan.scores_file``)."""
    files = _label_files(plan)
    entries = [
        score_label_file(b, s, src, p, n_boot=plan.n_boot, seed=plan.seed)
        for b, s, src, p in tqdm(files, desc="score", unit="file", disable=not progress)
    ]
    config = {"labels": plan.labels, "n_boot": plan.n_boot, "seed": plan.seed, "smoke": plan.smoke}
    table = ScoreTable(entries, config)
    save_scores(table, plan.scores_file)
    return table


def save_scores(table: ScoreTable, path: str | Path) -> Path:
    return write_json(table.to_json(), path)


def load_scores(path: str | Path) -> ScoreTable:
    data = read_json(path, missing="no scores yet; run notebooks/04_score.ipynb (or `ovmer reproduce`)",
                     malformed="unreadable scores file ({error}); run 04_score again")
    return ScoreTable.from_json(data, str(path))


def main_table(table: ScoreTable, setting: str | Setting = Setting.NOSUBTITLE_ADDSUB) -> Table:
    """F (×100) of every metric for one setting, rows baselines, M-avg with its interval (04_score shows it)."""
    short = Setting.parse(setting).short
    frame = table.f_frame()
    if short not in frame.index.get_level_values("setting"):
        raise OvmerError(f"no scores for setting {short} in the scores file")
    scores = frame.xs(short, level="setting")
    intervals = table.interval_frame("M-avg").xs(short, level="setting")
    scores["M-avg 95% low"], scores["M-avg 95% high"] = intervals["low"], intervals["high"]
    caption = (f"F (x100) of every metric in {short} ({Setting.parse(setting).value}); M-avg, the mean of the 12, "
               f"with its 95% bootstrap interval ({table.config.get('n_boot', '?')} draws). Bold: the best per column.")
    return Table(f"scores_{short}", caption, scores, digits=2, index_label="baseline",
                 best=(*METRIC_NAMES, "M-avg"), intervals=(("M-avg", "M-avg 95% low", "M-avg 95% high"),))


def m_avg_table(table: ScoreTable) -> Table:
    """M-avg (×100) with its 95% bootstrap interval, rows baselines, one column per setting."""
    values = table.f_frame()["M-avg"].unstack("setting")
    intervals = table.interval_frame("M-avg")
    settings = [s.short for s in table.settings]
    frame = pd.DataFrame(index=values.index)
    for short in settings:
        frame[short] = values[short]
        frame[f"{short} low"] = intervals["low"].xs(short, level="setting")
        frame[f"{short} high"] = intervals["high"].xs(short, level="setting")
    caption = ("M-avg (F x100, the mean of the 12 emotion-wheel metrics) per baseline and setting, with 95% "
               f"bootstrap intervals ({table.config.get('n_boot', '?')} draws): S0 no subtitle, S1 subtitle in the "
               "prompt, S2 clue merging. Bold: the best per setting.")
    return Table("m_avg", caption, frame, digits=2, index_label="baseline", best=tuple(settings),
                 intervals=tuple((s, f"{s} low", f"{s} high") for s in settings))


@dataclass(frozen=True)
class RecordedMAvg:
    """The M-avg values :func:`record_scores` recorded, labelled as such when shown."""

    values: dict[str, float]  # "<baseline>/<setting short>" -> M-avg x100

    def __repr__(self) -> str:
        lines = [f"M-avg (F x100) recorded for `ovmer reproduce`, {len(self.values)} label files:"]
        lines += [f"  {key}: {value:.2f}" for key, value in self.values.items()]
        return "\n".join(lines)


def record_scores(table: ScoreTable, scores_file: str | Path) -> RecordedMAvg:
    """Record M-avg (×100) per file as ``m_avg`` = {"<baseline>/<setting short>": value}, and the outputs."""
    values = {f"{e.baseline}/{e.short}": round(e.m_avg * 100, 6) for e in table.entries}
    record("m_avg", values)
    record_outputs([scores_file])
    return RecordedMAvg(values)
