# %% [markdown]
# # 5. Tables
#
# The paper's tables from the scores cache written by `04_score`, each saved as CSV (full precision),
# Markdown and LaTeX:
#
# 1. EW metrics in S2 beside the paper's published values and their difference (the CSV in long form), and
#    the PCC with the GPT-based metric;
# 2. the S0/S1/S2 ablation with bootstrap intervals;
# 3. dataset statistics (labels per sample, frequent labels, vocabulary coverage);
# 4. per-file diagnostics (empty predictions, labels per prediction, out-of-vocabulary drops);
# 5. the GPT-grouping check;
# 6. the mapping audit: labels the emotion-wheel metrics map through an antonym form or into another top-level
#    group, and how much each baseline's M-avg moves with those paths cut (a diagnostic, never the protocol).
# 7. every baseline and setting under each scoring protocol of the OV-MER family (AffectGPT / MER-UniBench,
#    MER2025 and MER2026 Track 2, and the hit rate against MER2023's one-hot labels beside M-avg).
#
# Each table shows as a styled DataFrame with its caption (best value per column in bold where that means
# something, intervals as "47.22 [43.60, 50.80]"); the files keep full precision in CSV.
#
# Run headless with `ovmer reproduce` (papermill, in dependency order) or alone with
# `papermill notebooks/05_tables.ipynb out.ipynb -p smoke False`; `papermill --help-notebook notebooks/05_tables.ipynb`
# lists the parameters. With `smoke = True` (the default here) it runs a small subset in seconds and writes
# under `<output>/smoke`, never over the real results.

# %% tags=["parameters"]
smoke: bool = True  # read the smoke scores and write under <output>/smoke
output: str = ""  # output folder; empty: $OVMER_OUTPUT or <project>/output (smoke: its smoke/ subfolder)
tables_dir: str = ""  # where the tables go; empty: <output>/tables

# %%
from ovmer.reproduce.artefacts import artefact_inputs, record_artefacts, save_artefact

inputs = artefact_inputs(smoke=smoke, output=output, tables_dir=tables_dir)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table1_ew_s2", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table1_summary", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table2_ablation", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table3_dataset", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table3_top_labels", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table3_coverage", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table4_diagnostics", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table5_gpt_grouping", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("mapping_audit", inputs)

# %%
# NBVAL_CHECK_OUTPUT
save_artefact("table6_protocols", inputs)

# %%
record_artefacts(inputs)
