# %% [markdown]
# # 2. Merge clues: setting S2
#
# An LLM merges each S0 description (video/audio only) with the sample's subtitle and infers the character's
# emotional state: the paper's "clue merging", setting S2 (`nosubtitle-addsub`). Results go to the store,
# stage `merge`. An empty subtitle keeps the description; both empty give a fixed "unable to judge" text.
#
# Backends: `transformers` (a local model folder in `model`), `vllm`, `openai` (any OpenAI-compatible server)
# or `replay` (serves the authors' released merged descriptions: no model, what smoke mode uses).
#
# Run headless with `ovmer reproduce` (papermill, in dependency order) or alone with
# `papermill notebooks/02_merge_clues.ipynb out.ipynb -p smoke False`; `papermill --help-notebook notebooks/02_merge_clues.ipynb`
# lists the parameters. With `smoke = True` (the default here) it runs a small subset in seconds and writes
# under `<output>/smoke`, never over the real results.

# %% tags=["parameters"]
smoke: bool = True  # a few samples in seconds, written under <output>/smoke
baselines: list = []  # systems whose S0 descriptions are merged; empty: the released ones (smoke: two)
backend: str = "replay"  # LLM backend: transformers, vllm, openai or replay
model: str = ""  # model folder or id for the backend (replay: empty serves the released outputs)
limit: int = 0  # merge only the first N samples; 0: all
output: str = ""  # output folder; empty: $OVMER_OUTPUT or <project>/output (smoke: its smoke/ subfolder)
engine: str = "local"  # where the model runs: "local" (this kernel) or "ray" (replicas on a Ray cluster; RAY_ADDRESS or a local instance)

# %%
from ovmer.reproduce.stage_merge import merge_clues
from ovmer.reproduce.stages import finish_stage, plan_stage

plan = plan_stage("merge", smoke=smoke, baselines=baselines, backend=backend, model=model, limit=limit,
                  output=output, engine=engine)
plan

# %%
summary = merge_clues(plan)
summary

# %%
finish_stage(summary, "merge")
