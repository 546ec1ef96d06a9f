# %% [markdown]
# # Explore one sample
#
# Pick a baseline, a setting and a sample: see the clip (when a MER2025-layout folder is configured: a strip of
# frames, the audio as a player and a waveform), the English and Chinese subtitles and which one the baseline
# saw, the reference description and the baseline's, the ground-truth and predicted labels, what each metric
# mapped or dropped, the sample's own scores, and how each label maps (word forms, synonym runs, the wheel word
# the alphabetical rule chose; `ovmer explain-label LABEL` prints the same). Then every baseline on the same
# sample side by side, hits marked under one metric, and the samples where the baselines disagree most.
#
# Change the parameters below, or use the interactive explorer in the last cell (JupyterLab): the sample box
# searches as you type.

# %% tags=["parameters"]
baseline: str = "Chat-UniVi"  # a released baseline (or your own with source "store")
setting: str = "S2"  # S0, S1 or S2
sample: str = "sample_00000000"  # an OV-MERD test sample name (empty: the first)
source: str = "released"  # "released" labels and descriptions, or "store" (this package's results store)
media_dir: str = ""  # MER2025-layout folder with the clips (ovmer download mer2025); empty: <data>/mer2025 if present
metric: str = "M3-W1-L1"  # the metric the compare view marks hits under

# %%
from ovmer.reproduce.explore import explore_sample, explorer
from ovmer.reproduce.explore_compare import compare_sample, disagreement_ranking

view = explore_sample(baseline, setting, sample, source, media_dir)
view

# %%
# NBVAL_CHECK_OUTPUT
view.scores_table()

# %%
# NBVAL_CHECK_OUTPUT
compare_sample(sample, setting, metric, source=source)

# %%
# NBVAL_CHECK_OUTPUT
disagreement_ranking(setting, source=source, top=10)

# %% tags=["no-stored-output"]
explorer(baseline, setting, source, sample, media_dir, metric)
