# %% [markdown]
# # 3. Extract labels: open-vocabulary emotion labels from the descriptions
#
# Each description becomes a list of emotion labels for its main character (store stage `extract`). The
# released label files were extracted by Qwen2.5-7B-Instruct; here you can re-extract them with another
# backend: `cpu` (the model-free extractor fitted on the released pairs, seconds on a CPU), `transformers`,
# `vllm`, `openai` or `replay`. Descriptions come from the store (stages `describe`/`merge`) when present, else
# from the released files. `04_score` scores these labels with `labels = "store"`.
#
# Run headless with `ovmer reproduce` (papermill, in dependency order) or alone with
# `papermill notebooks/03_extract_labels.ipynb out.ipynb -p smoke False`; `papermill --help-notebook notebooks/03_extract_labels.ipynb`
# lists the parameters. With `smoke = True` (the default here) it runs a small subset in seconds and writes
# under `<output>/smoke`, never over the real results.

# %% tags=["parameters"]
smoke: bool = True  # two baselines, written under <output>/smoke
baselines: list = []  # systems to extract; empty: the released ones (smoke: two)
settings: list = ["S0", "S1", "S2"]  # settings to extract
backend: str = "cpu"  # cpu (no model), transformers, vllm, openai or replay
model: str = ""  # model folder or id for LLM backends
limit: int = 0  # extract only the first N samples; 0: all
output: str = ""  # output folder; empty: $OVMER_OUTPUT or <project>/output (smoke: its smoke/ subfolder)
engine: str = "local"  # where the model runs: "local" (this kernel) or "ray" (replicas on a Ray cluster; RAY_ADDRESS or a local instance)

# %%
from ovmer.reproduce.stage_extract import extract_labels
from ovmer.reproduce.stages import finish_stage, plan_stage

plan = plan_stage("extract", smoke=smoke, baselines=baselines, settings=settings, backend=backend, model=model,
                  limit=limit, output=output, engine=engine)
plan

# %%
summary = extract_labels(plan)
summary

# %%
finish_stage(summary, "extract")
