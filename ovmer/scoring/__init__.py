"""The paper's emotion-wheel metrics (M1, M2, M3-Wk-Lj, M-avg) and the GPT-grouping metric.

Pure functions over immutable resources; the CLI (``ovmer score``) and the
notebooks call the same API. Importing this package does not read any file.
"""

from ovmer.scoring.diagnostics import oov_report, per_sample_table
from ovmer.scoring.files import read_predictions, read_raw_predictions, score_file, score_released
from ovmer.scoring.grouping import (
    GroupingCache,
    GroupingScore,
    gpt_grouping_score,
    parse_groups,
    released_groupings,
)
from ovmer.scoring.mapping import METRIC_NAMES
from ovmer.scoring.metrics import (
    DEFAULT_PARSER,
    LABEL_PARSERS,
    M_AVG,
    PRF,
    SampleScores,
    ScoreReport,
    default_ground_truth,
    per_sample_scores,
    predictions_scores,
    read_ground_truth_csv,
    score_predictions,
)
from ovmer.scoring.resources import WheelResources, load_resources
from ovmer.scoring.stats import PairedResult, bootstrap_intervals, metric_correlation, paired_test

__all__ = [
    "DEFAULT_PARSER",
    "LABEL_PARSERS",
    "METRIC_NAMES",
    "M_AVG",
    "PRF",
    "GroupingCache",
    "GroupingScore",
    "PairedResult",
    "SampleScores",
    "ScoreReport",
    "WheelResources",
    "bootstrap_intervals",
    "default_ground_truth",
    "gpt_grouping_score",
    "load_resources",
    "metric_correlation",
    "oov_report",
    "paired_test",
    "per_sample_scores",
    "parse_groups",
    "per_sample_table",
    "predictions_scores",
    "read_ground_truth_csv",
    "read_predictions",
    "read_raw_predictions",
    "released_groupings",
    "score_file",
    "score_predictions",
    "score_released",
]
