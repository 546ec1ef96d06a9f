"""Write a table as CSV (full precision), Markdown and LaTeX (rounded), print it as text, show it styled.

In a notebook a :class:`Table` shows as a styled DataFrame (its caption, numbers to
``digits`` places, the best value of each ``best`` column in bold, ``intervals`` as
"47.22 [43.60, 50.80]"); its plain-text form, which nbval compares, is the Markdown table.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Table:
    """A finished paper table: the frame, its caption, and how its numbers are rounded."""

    name: str  # file stem, e.g. "table1_ew_s2"
    caption: str
    frame: pd.DataFrame
    digits: int = 2
    index_label: str = ""
    best: tuple[str, ...] = ()  # columns whose highest value the styled view marks
    best_rows: tuple[str, ...] = ()  # rows the best value is taken over (empty: all)
    intervals: tuple[tuple[str, str, str], ...] = field(default=())  # (value, low, high) columns shown as one
    note: str = ""  # printed under the table (text, Markdown, HTML) and appended to the LaTeX caption
    csv_frame: pd.DataFrame | None = None  # a machine-readable form written as the CSV instead of ``frame``

    def formatted(self) -> pd.DataFrame:
        """Every cell as text: numbers rounded to ``digits``, missing values as ``-``."""
        return self.frame.map(lambda value: format_cell(value, self.digits))

    def text(self) -> str:
        """A plain-text rendering (what notebooks print and tests compare)."""
        return frame_to_markdown(self.formatted(), self.index_label)

    def styled(self) -> Any:
        """A pandas Styler: caption, ``digits`` decimals, best values in bold, intervals in brackets."""
        return styled_frame(self)

    def _repr_html_(self) -> str:
        return self.styled().to_html() + (f"<p>{html.escape(self.note)}</p>" if self.note else "")

    def __repr__(self) -> str:
        return f"{self.caption}\n{self.text()}" + (f"\n{self.note}" if self.note else "")


def _with_interval(value: Any, low: Any, high: Any, digits: int) -> str:
    text = format_cell(value, digits)
    bounds = [format_cell(v, digits) for v in (low, high)]
    return text if "-" in bounds else f"{text} [{bounds[0]}, {bounds[1]}]"


BEST_STYLE = "font-weight: bold; background-color: #dbeafe"
TABLE_STYLES = [
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold; "
                                     "padding-bottom: 0.4em; max-width: 70em"},
    {"selector": "td", "props": "white-space: nowrap"},  # "47.22 [43.60, 50.80]" stays on one line
]


def styled_frame(table: Table) -> Any:
    """The Styler of :meth:`Table.styled` (a function so that other displays can share it)."""
    frame = table.frame.copy()
    shown = pd.DataFrame(index=frame.index)
    hidden = {col for _, low, high in table.intervals for col in (low, high)}
    combined = {value: (low, high) for value, low, high in table.intervals}
    for column in frame.columns:
        if column in hidden:
            continue
        if column in combined:
            low, high = combined[column]
            shown[column] = [_with_interval(v, lo, hi, table.digits)
                             for v, lo, hi in zip(frame[column], frame[low], frame[high], strict=True)]
        else:
            shown[column] = frame[column]
    shown.index.name = table.index_label or frame.index.name
    styler = shown.style.format(lambda value: format_cell(value, table.digits))
    text = [c for c in shown.columns if c not in combined and not pd.api.types.is_numeric_dtype(shown[c])]
    if text:
        styler = styler.set_properties(subset=text, **{"text-align": "left"})
    rows = [r for r in (table.best_rows or frame.index) if r in frame.index]
    for column in table.best:
        if column not in frame.columns:
            continue
        values = pd.to_numeric(frame.loc[rows, column], errors="coerce")
        if values.notna().any():
            best = values[values == values.max()].index
            styler = styler.map(lambda _: BEST_STYLE, subset=pd.IndexSlice[list(best), [column]])
    return (styler.set_caption(table.caption).set_table_styles(TABLE_STYLES)
            .set_uuid(table.name.replace(" ", "_")))


def format_cell(value: Any, digits: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        text = f"{value:.{digits}f}"
        return "0." + "0" * digits if text == "-0." + "0" * digits else text
    if hasattr(value, "item"):  # numpy scalar
        return format_cell(value.item(), digits)
    return str(value)


def _escape_markdown(text: str) -> str:
    return text.replace("|", "\\|")


def frame_to_markdown(frame: pd.DataFrame, index_label: str = "") -> str:
    """A GitHub-flavoured Markdown table of already formatted text cells (numbers right-aligned)."""
    header = [index_label or (frame.index.name or "")] + [str(c) for c in frame.columns]
    rows = [[str(i)] + [str(v) for v in row] for i, row in zip(frame.index, frame.to_numpy(), strict=True)]
    widths = [max(len(r[k]) for r in [header, *rows]) for k in range(len(header))]
    numeric = [False] + [_is_numeric_column(frame[c]) for c in frame.columns]

    def line(cells: list[str]) -> str:
        padded = [
            _escape_markdown(c).rjust(w) if num else _escape_markdown(c).ljust(w)
            for c, w, num in zip(cells, widths, numeric, strict=True)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join(("-" * (w + 1) + ":") if num else ("-" * (w + 2)) for w, num in zip(widths, numeric, strict=True)) + "|"
    return "\n".join([line(header), rule, *(line(r) for r in rows)])


def _is_numeric_column(column: pd.Series) -> bool:
    def numeric(text: str) -> bool:
        if text in ("-", ""):
            return True
        try:
            float(text.split(" ")[0].replace("+", "").replace("%", ""))
        except ValueError:
            return False
        return True

    return all(numeric(str(v)) for v in column)


_LATEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                  "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}


def _escape_latex(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in text)


def frame_to_latex(frame: pd.DataFrame, caption: str, label: str, index_label: str = "") -> str:
    """A booktabs ``table`` environment of already formatted text cells."""
    numeric = [_is_numeric_column(frame[c]) for c in frame.columns]
    spec = "l" + "".join("r" if num else "l" for num in numeric)
    header = " & ".join(_escape_latex(str(c)) for c in [index_label or (frame.index.name or ""), *frame.columns])
    body = [
        " & ".join(_escape_latex(str(c)) for c in [i, *row]) + r" \\"
        for i, row in zip(frame.index, frame.to_numpy(), strict=True)
    ]
    return "\n".join(
        [
            r"\begin{table}[t]",
            r"\centering",
            rf"\caption{{{_escape_latex(caption)}}}",
            rf"\label{{tab:{label}}}",
            r"\resizebox{\linewidth}{!}{%",
            rf"\begin{{tabular}}{{{spec}}}",
            r"\toprule",
            header + r" \\",
            r"\midrule",
            *body,
            r"\bottomrule",
            r"\end{tabular}}",
            r"\end{table}",
            "",
        ]
    )


def write_table(table: Table, folder: str | Path) -> list[Path]:
    """Write ``<name>.csv`` (full precision; ``csv_frame`` when set), ``.md`` and ``.tex`` (rounded)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    csv_path, md_path, tex_path = (folder / f"{table.name}.{ext}" for ext in ("csv", "md", "tex"))
    frame = table.frame.copy()
    if table.index_label:
        frame.index.name = table.index_label
    if table.csv_frame is not None:
        table.csv_frame.to_csv(csv_path, index=False, float_format="%.6f")
    else:
        frame.to_csv(csv_path, float_format="%.6f")
    note = f"\n{table.note}\n" if table.note else ""
    md_path.write_text(f"{table.caption}\n\n{table.text()}\n{note}", encoding="utf-8")
    caption = f"{table.caption} {table.note}" if table.note else table.caption
    tex_path.write_text(frame_to_latex(table.formatted(), caption, table.name, table.index_label),
                        encoding="utf-8")
    return [csv_path, md_path, tex_path]


def save_table(build: Callable[..., Table], arguments: Mapping[str, Any], folder: Path,
               name: str) -> tuple[Table, list[Path]]:
    """Build ``build(**arguments)`` and write it into ``folder`` (``name`` is the table's own)."""
    table = build(**arguments)
    return table, write_table(table, folder)
