"""The mapping audit as a figure: how much cutting the flagged paths moves each baseline's M-avg.

Bars per baseline: the labels whose own cut moves some baseline most, and every flagged link
cut at once (the diagnostic cut-paths variant of :mod:`ovmer.scoring.audit`; never the protocol).
"""

from __future__ import annotations

import pandas as pd
import seaborn as sns
from matplotlib.figure import Figure

from ovmer.reproduce.figures import FULL_WIDTH, PALETTE, _new_figure, slant_crowded_labels
from ovmer.reproduce.table_audit import ALL_FLAGGED, AuditSummary
from ovmer.settings import Setting

TOP_LABELS = 3


def mapping_audit_effect(*, mapping_audit: AuditSummary) -> Figure:
    """ΔM-avg (x100) per baseline with the flagged paths of the top labels, and of all, cut."""
    audit = mapping_audit
    deltas = audit.deltas.drop(index=ALL_FLAGGED)
    # Labels cut at the same links move the scores identically: one bar for each set of links.
    groups: dict[tuple, list[str]] = {}
    for finding in audit.findings:
        groups.setdefault(finding.cuts, []).append(finding.label)
    firsts = {labels[0]: labels for labels in groups.values()}
    effect = deltas.loc[list(firsts)].abs().max(axis=1).sort_values(ascending=False, kind="stable")
    rows = {}
    for label in effect.index[:TOP_LABELS]:
        others = len(firsts[label]) - 1
        rows[f'"{label}"' + (f" (+{others} sharing its links)" if others else "") + " cut"] = deltas.loc[label]
    rows[f"all {len(audit.findings)} flagged labels cut"] = audit.deltas.loc[ALL_FLAGGED]
    frame = pd.DataFrame(rows)
    frame.index = [c.removeprefix("ΔM-avg ") for c in frame.index]
    data = frame.reset_index(names="baseline").melt(id_vars="baseline", var_name="cut", value_name="delta")
    fig, ax = _new_figure(FULL_WIDTH, 2.4)
    sns.barplot(data=data, x="baseline", y="delta", hue="cut", palette=PALETTE, ax=ax)
    ax.axhline(0, color="black", linewidth=0.6)
    ax.set(xlabel="", ylabel=f"ΔM-avg (x100), {Setting.parse(audit.setting).short}")
    slant_crowded_labels(ax)
    ax.legend(title="cut-paths variant", frameon=False, loc="best")
    ax.set_title("M-avg change with the flagged mapping paths cut (a diagnostic, not the paper's protocol)")
    return fig
