"""The paper's tables and figures: one registry of artefacts (name, inputs, builder, output files).

An artefact is built by one function, named ``"module:function"`` and imported
only when the artefact is built, from the inputs it declares (the scores cache,
the ground truth, the emotion-wheel resources, ...). Its kind saves it: a table
as CSV, Markdown and LaTeX (builders in :mod:`ovmer.reproduce.tables`), a figure
as PNG and PDF (builders in :mod:`ovmer.reproduce.figures`, which loads
matplotlib). ``05_tables`` and ``06_figures`` make one :class:`ArtefactInputs`
with :func:`artefact_inputs`, call :func:`save_artefact` once per artefact and
:func:`record_artefacts` at the end, so ``ovmer reproduce`` knows the files.

A new table or figure is its builder (a function taking its inputs as keyword
arguments) plus one :func:`register_artefact` line below, and a cell
``save_artefact("<name>", inputs)`` in the notebook of its kind.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ovmer.assets import asset_path
from ovmer.data import load_ovmerd
from ovmer.data.released import released_file
from ovmer.errors import OvmerError
from ovmer.registry import Registry, RegistryError, import_target
from ovmer.reproduce.dataset import description_lengths, wheel_rows
from ovmer.reproduce.layout import display_path, reproduce_layout
from ovmer.reproduce.record import record_outputs
from ovmer.reproduce.scores import load_scores
from ovmer.reproduce.table_audit import audit_summary
from ovmer.scoring import load_resources, read_predictions
from ovmer.scoring.files import score_file
from ovmer.scoring.variance import repeat_files, repeat_spreads


@dataclass(frozen=True)
class ArtefactKind:
    """Tables or figures: the files an artefact of the kind becomes and the function that writes them."""

    name: str
    extensions: tuple[str, ...]
    saver: str  # "module:function" (build, arguments, folder, name) -> (shown value or None, files written)
    folder: str  # the ArtefactInputs attribute naming where the files go


TABLE = ArtefactKind("table", ("csv", "md", "tex"), "ovmer.reproduce.table_io:save_table", "tables_dir")
FIGURE = ArtefactKind("figure", ("png", "pdf"), "ovmer.reproduce.figures:save_figure", "figures_dir")


@dataclass(frozen=True)
class Artefact:
    name: str  # also the stem of its files
    kind: ArtefactKind
    builder: str  # "module:function", called with the declared inputs as keyword arguments
    inputs: tuple[str, ...]  # names in INPUTS

    def files(self, folder: Path) -> list[Path]:
        """The files saving this artefact into ``folder`` writes."""
        return [folder / f"{self.name}.{ext}" for ext in self.kind.extensions]


@dataclass(frozen=True)
class SavedArtefact:
    artefact: Artefact
    value: Any  # the Table for tables; None for figures (closed once written)
    paths: tuple[Path, ...]

    def __repr__(self) -> str:
        if self.value is not None:
            return repr(self.value)
        return f"{self.artefact.name}: " + ", ".join(display_path(p) for p in self.paths)

    def _repr_html_(self) -> str | None:
        """A table shows styled in a notebook (its plain-text repr stays what nbval compares)."""
        render = getattr(self.value, "_repr_html_", None)
        return render() if render is not None else None


class ArtefactInputs:
    """What the artefacts are built from, each input read on first use and then kept, and where files go.

    Inputs already at hand can be given by name (``scores=...``), e.g. in tests.
    """

    def __init__(self, scores_file: Path, tables_dir: Path, figures_dir: Path, *, store_root: Path | None = None,
                 **values: Any) -> None:
        for name in values:
            INPUTS.canonical(name)  # an unknown input name is an error with a did-you-mean hint
        self.scores_file = Path(scores_file)
        # The run's results store (the layout's root holds store/ beside scores/).
        self.store_root = Path(store_root) if store_root is not None else self.scores_file.parent.parent
        self.tables_dir = Path(tables_dir)
        self.figures_dir = Path(figures_dir)
        self._values = dict(values)
        self.saved: list[SavedArtefact] = []

    def get(self, name: str) -> Any:
        load = INPUTS.get(name)
        if name not in self._values:
            self._values[name] = load(self)
        return self._values[name]

    def folder(self, kind: ArtefactKind) -> Path:
        return getattr(self, kind.folder)


# -- the inputs an artefact can declare ----------------------------------------------------------

INPUTS: Registry[Callable[[ArtefactInputs], Any]] = Registry("artefact input")


@INPUTS.add("scores", "the scores cache 04_score wrote (ovmer.reproduce.scores.ScoreTable)")
def _scores(inputs: ArtefactInputs) -> Any:
    return load_scores(inputs.scores_file)


@INPUTS.add("ground_truth", "OV-MERD's ground truth: sample name -> labels")
def _ground_truth(inputs: ArtefactInputs) -> Any:
    return dict(load_ovmerd().ground_truth)


@INPUTS.add("resources", "the emotion wheels, synonyms and word forms (ovmer.scoring.WheelResources)")
def _resources(inputs: ArtefactInputs) -> Any:
    return load_resources()


@INPUTS.add("wheels", "each wheel's spreadsheet rows (level1, level2, level3)")
def _wheels(inputs: ArtefactInputs) -> Any:
    return tuple(wheel_rows(k) for k in range(1, len(inputs.get("resources").wheels) + 1))


@INPUTS.add("released_labels", "the label lists of every scored released file: (baseline, setting) -> labels")
def _released_labels(inputs: ArtefactInputs) -> Any:
    scores = inputs.get("scores")
    return {(e.baseline, e.setting): read_predictions(asset_path(released_file(e.baseline, e.setting)))
            for e in scores.entries if e.source == "released"}


@INPUTS.add("mapping_audit", "the mapping audit: flagged labels, occurrences, M-avg changes with their paths cut")
def _mapping_audit(inputs: ArtefactInputs) -> Any:
    return audit_summary(inputs.get("ground_truth"), inputs.get("resources"), inputs.get("released_labels"))


@INPUTS.add("descriptions", "words per description: the references and every scored released baseline")
def _descriptions(inputs: ArtefactInputs) -> Any:
    scores = inputs.get("scores")
    released = [b for b in scores.baselines if any(e.source == "released" and e.baseline == b for e in scores.entries)]
    return description_lengths(released, [s.value for s in scores.settings])


@INPUTS.add("repeats", "the spread of every metric over repeated extraction runs in the run's store")
def _repeats(inputs: ArtefactInputs) -> Any:
    resources = inputs.get("resources")
    reports = [score_file(path, resources=resources) for path in repeat_files(inputs.store_root)]
    return repeat_spreads(reports, resources=resources)


def has_extraction_repeats(inputs: ArtefactInputs) -> bool:
    """Whether the run's store holds repeated extraction runs (then ``table7_extraction_variance`` exists)."""
    return bool(repeat_files(inputs.store_root)) and bool(inputs.get("repeats"))


# -- building and saving -------------------------------------------------------------------------


def artefact_inputs(*, smoke: bool, output: str = "", tables_dir: str = "", figures_dir: str = "") -> ArtefactInputs:
    """The inputs of a run's artefacts (05_tables' and 06_figures' second cell); empty folders: the layout's."""
    layout = reproduce_layout(smoke, output or None)
    return ArtefactInputs(
        scores_file=layout.scores,
        tables_dir=Path(tables_dir).expanduser() if tables_dir else layout.tables,
        figures_dir=Path(figures_dir).expanduser() if figures_dir else layout.figures,
        store_root=layout.root,
    )


def _load(artefact: Artefact, target: str) -> Any:
    try:
        return import_target(target)
    except (ImportError, AttributeError) as exc:
        raise RegistryError(f"{artefact.kind.name} {artefact.name!r}: {target!r} cannot be loaded ({exc})") from exc


def artefact_builder(name: str) -> Callable[..., Any]:
    """The builder of artefact ``name``, checked to take exactly the inputs the artefact declares."""
    artefact = ARTEFACTS.get(name)
    build = _load(artefact, artefact.builder)
    required = [p.name for p in inspect.signature(build).parameters.values() if p.default is inspect.Parameter.empty]
    if sorted(required) != sorted(artefact.inputs):
        raise RegistryError(
            f"{artefact.kind.name} {name!r} declares the inputs ({', '.join(artefact.inputs)}) but its builder "
            f"{artefact.builder} takes ({', '.join(required)})"
        )
    return build


def save_artefact(name: str, inputs: ArtefactInputs) -> SavedArtefact:
    """Build artefact ``name`` from ``inputs`` and write its files into the folder of its kind."""
    artefact = ARTEFACTS.get(name)
    build = artefact_builder(name)
    save = _load(artefact, artefact.kind.saver)
    folder = inputs.folder(artefact.kind)
    value, paths = save(build, {n: inputs.get(n) for n in artefact.inputs}, folder, artefact.name)
    if list(paths) != artefact.files(folder):
        raise RegistryError(f"{artefact.kind.name} {name!r} wrote {', '.join(p.name for p in paths)} instead of "
                            f"{', '.join(p.name for p in artefact.files(folder))}: its builder names it differently")
    saved = SavedArtefact(artefact, value, tuple(paths))
    inputs.saved.append(saved)
    return saved


def record_artefacts(inputs: ArtefactInputs) -> list[str]:
    """Record the files of every artefact saved through ``inputs`` as the notebook's outputs."""
    if not inputs.saved:
        raise OvmerError("no table or figure was saved, so none can be recorded")
    return record_outputs([p for saved in inputs.saved for p in saved.paths])


def artefact_names(kind: ArtefactKind | None = None) -> list[str]:
    """The registered artefacts (of one kind), in registry order."""
    return [e.name for e in ARTEFACTS.entries() if kind is None or e.target.kind == kind]


# -- the registry: one line per table or figure (name, kind, builder, inputs, help) ---------------

ARTEFACTS: Registry[Artefact] = Registry("artefact", Artefact, entry_points="ovmer.artefacts")


def register_artefact(name: str, kind: ArtefactKind, builder: str, inputs: Iterable[str], help: str = "") -> Artefact:
    """Add a table or figure: its builder ``"module:function"`` takes ``inputs`` as keyword arguments."""
    for needed in inputs:
        INPUTS.canonical(needed)
    return ARTEFACTS.register(name, Artefact(name, kind, builder, tuple(inputs)), help)


for _name, _kind, _builder, _inputs, _help in (
    ("table1_ew_s2", TABLE, "ovmer.reproduce.tables:ew_comparison", ("scores",), "table 1: S2 EW metrics, the paper's value and the difference; PCC rows"),
    ("table1_summary", TABLE, "ovmer.reproduce.tables:ew_summary", ("scores",), "table 1, compact: S2 EW scores (what `ovmer reproduce` prints)"),
    ("table2_ablation", TABLE, "ovmer.reproduce.tables:ablation", ("scores",), "table 2: S0/S1/S2 M-avg with bootstrap intervals, mean M3 P/R/F"),
    ("table3_dataset", TABLE, "ovmer.reproduce.tables:dataset_statistics", ("ground_truth",), "table 3a: OV-MERD size and labels per sample"),
    ("table3_top_labels", TABLE, "ovmer.reproduce.tables:top_labels", ("ground_truth",), "table 3b: the most frequent ground-truth labels"),
    ("table3_coverage", TABLE, "ovmer.reproduce.tables:vocabulary_coverage", ("ground_truth", "resources"), "table 3c: ground truth covered by each wheel vocabulary"),
    ("table4_diagnostics", TABLE, "ovmer.reproduce.tables:diagnostics", ("scores",), "table 4: empty predictions, labels per prediction, labels each metric drops"),
    ("table5_gpt_grouping", TABLE, "ovmer.reproduce.tables:gpt_grouping", ("ground_truth",), "table 5: the GPT-grouping metric, published vs recomputed"),
    ("mapping_audit", TABLE, "ovmer.reproduce.table_audit:mapping_audit", ("mapping_audit",), "labels the alphabetical rule maps through antonym forms or into other groups, and the M-avg change with those paths cut"),
    ("table6_protocols", TABLE, "ovmer.reproduce.tables:protocols", ("scores",), "table 6: every baseline x setting under each scoring protocol (AffectGPT, MER2025/2026, hit rate)"),
    ("table7_extraction_variance", TABLE, "ovmer.reproduce.table_repeats:extraction_variance", ("repeats",), "table 7: metrics across repeated sampled extraction runs (when the store has some)"),
    ("labels_per_sample", FIGURE, "ovmer.reproduce.figures:labels_per_sample", ("ground_truth",), "histogram of ground-truth labels per sample"),
    ("top_labels", FIGURE, "ovmer.reproduce.figures:top_labels", ("ground_truth",), "the most frequent ground-truth labels"),
    ("emotion_wheels", FIGURE, "ovmer.reproduce.figures:emotion_wheels", ("wheels",), "the five emotion wheels as nested rings"),
    ("vocabulary_growth", FIGURE, "ovmer.reproduce.figures:vocabulary_growth", ("resources",), "vocabulary per wheel: words, + synonyms, + word forms"),
    ("ablation", FIGURE, "ovmer.reproduce.figures:ablation", ("scores",), "M-avg per baseline in S0/S1/S2 with 95% intervals"),
    ("metric_correlation", FIGURE, "ovmer.reproduce.figures:metric_correlation", ("scores",), "Pearson correlation between the metrics"),
    ("description_lengths", FIGURE, "ovmer.reproduce.figures:description_lengths", ("descriptions",), "words per description, references and baselines"),
    ("mapping_audit_effect", FIGURE, "ovmer.reproduce.figure_audit:mapping_audit_effect", ("mapping_audit",), "M-avg change per baseline with the flagged mapping paths cut (diagnostic)"),
    ("protocol_ranking", FIGURE, "ovmer.reproduce.figures:protocol_ranking", ("scores",), "the S2 rank of each baseline under each scoring protocol"),
):
    register_artefact(_name, _kind, _builder, _inputs, _help)
