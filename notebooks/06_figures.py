# %% [markdown]
# # 6. Figures
#
# The paper's figures, drawn from the scores cache (`04_score`) and the assets with one seaborn style and a
# colour-blind-safe palette, saved as PNG (300 dpi) and PDF. A full run writes them to `figures/` (committed);
# smoke mode to `<output>/smoke/figures`. The committed figures are shown at the end of this notebook.
#
# Run headless with `ovmer reproduce` (papermill, in dependency order) or alone with
# `papermill notebooks/06_figures.ipynb out.ipynb -p smoke False`; `papermill --help-notebook notebooks/06_figures.ipynb`
# lists the parameters. With `smoke = True` (the default here) it runs a small subset in seconds and writes
# under `<output>/smoke`, never over the real results.

# %% tags=["parameters"]
smoke: bool = True  # read the smoke scores and write under <output>/smoke
output: str = ""  # output folder; empty: $OVMER_OUTPUT or <project>/output (smoke: its smoke/ subfolder)
figures_dir: str = ""  # where the figures go; empty: <project>/figures (smoke: <output>/smoke/figures)

# %%
from ovmer.reproduce.artefacts import artefact_inputs, record_artefacts, save_artefact

inputs = artefact_inputs(smoke=smoke, output=output, figures_dir=figures_dir)

# %%
save_artefact("labels_per_sample", inputs)

# %%
save_artefact("top_labels", inputs)

# %%
save_artefact("emotion_wheels", inputs)

# %%
save_artefact("vocabulary_growth", inputs)

# %%
save_artefact("ablation", inputs)

# %%
save_artefact("metric_correlation", inputs)

# %%
save_artefact("description_lengths", inputs)

# %%
save_artefact("mapping_audit_effect", inputs)

# %%
save_artefact("protocol_ranking", inputs)

# %%
record_artefacts(inputs)

# %% [markdown]
# ## The committed figures (from a full run)
#
# ![Labels per sample](../figures/labels_per_sample.png)
# ![Most frequent labels](../figures/top_labels.png)
# ![The five emotion wheels](../figures/emotion_wheels.png)
# ![Vocabulary growth](../figures/vocabulary_growth.png)
# ![S0/S1/S2 ablation](../figures/ablation.png)
# ![Metric correlation](../figures/metric_correlation.png)
# ![Description lengths](../figures/description_lengths.png)
# ![M-avg change with the flagged mapping paths cut (diagnostic)](../figures/mapping_audit_effect.png)
# ![Ranking under each scoring protocol](../figures/protocol_ranking.png)
