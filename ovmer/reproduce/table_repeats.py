"""``table7_extraction_variance``: every metric across repeated sampled extraction runs.

Built only when the run's store holds repeated runs (``ovmer extract --repeats K``
writes ``store/extract/<baseline>/<setting>.seed-<s>.jsonl``): for each baseline
and setting, the across-run mean, standard deviation and range of each metric
beside the sample bootstrap interval (:mod:`ovmer.scoring.variance`).
"""

from __future__ import annotations

from collections.abc import Sequence

from ovmer.reproduce.table_io import Table
from ovmer.scoring.variance import RepeatSpread, spread_frame


def extraction_variance(repeats: Sequence[RepeatSpread]) -> Table:
    frame = spread_frame(repeats).set_index(["baseline", "setting", "metric"])
    return Table(
        "table7_extraction_variance",
        "Table 7: F (x100) across repeated sampled extraction runs (mean, std, range) and the sample "
        "bootstrap 95% interval (mean over runs)",
        frame,
    )
