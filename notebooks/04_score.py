# %% [markdown]
# # 4. Score: the emotion-wheel metrics for every baseline and setting
#
# Scores every label file with the paper's metrics (M1, M2, M3-W1..W5 at levels 1 and 2, M-avg), adds 95%
# bootstrap intervals and per-file diagnostics, and writes the scores cache that `05_tables` and `06_figures`
# read. `labels = "released"` scores the authors' label files; `"store"` scores labels re-extracted by
# `03_extract_labels`. Your own systems (`extra_baselines`) are scored from the store.
#
# It shows the S2 table (F ×100 of every metric; **M-avg**, the mean of the 12, with its 95% bootstrap
# interval) and M-avg with its interval for every setting; the best value of each column is in bold. The last
# cell records the M-avg values `ovmer reproduce` reports.
#
# Run headless with `ovmer reproduce` (papermill, in dependency order) or alone with
# `papermill notebooks/04_score.ipynb out.ipynb -p smoke False`; `papermill --help-notebook notebooks/04_score.ipynb`
# lists the parameters. With `smoke = True` (the default here) it runs a small subset in seconds and writes
# under `<output>/smoke`, never over the real results.

# %% tags=["parameters"]
smoke: bool = True  # Chat-UniVi and SALMONN with at most 100 bootstrap draws, under <output>/smoke
baselines: list = []  # released baselines to score; empty: all eight (smoke: two)
extra_baselines: list = []  # your own systems, scored from the store's extract stage
settings: list = ["S0", "S1", "S2"]  # S0 no subtitle, S1 subtitle in the prompt, S2 clue merging
labels: str = "released"  # "released": the authors' label files; "store": labels from 03_extract_labels
n_boot: int = 1000  # bootstrap draws for the 95% intervals; 0: none (smoke: at most 100)
seed: int = 0  # bootstrap seed
output: str = ""  # output folder; empty: $OVMER_OUTPUT or <project>/output (smoke: its smoke/ subfolder)

# %%
from ovmer.reproduce.scores import compute_scores, m_avg_table, main_table, plan_scoring, record_scores

plan = plan_scoring(smoke=smoke, baselines=baselines, extra_baselines=extra_baselines, settings=settings,
                    labels=labels, n_boot=n_boot, seed=seed, output=output)
plan

# %%
scores = compute_scores(plan)

# %%
# NBVAL_CHECK_OUTPUT
main_table(scores, "S2")

# %%
# NBVAL_CHECK_OUTPUT
m_avg_table(scores)

# %%
record_scores(scores, plan.scores_file)
