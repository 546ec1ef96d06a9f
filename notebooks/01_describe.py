# %% [markdown]
# # 1. Describe: MLLM emotion descriptions
#
# Stage 1 of the pipeline: a multimodal LLM watches and/or listens to each OV-MERD sample and writes a
# free-text description of the character's emotional state (settings S0, video/audio only, and S1, subtitle
# in the prompt; S2 is made from S0 by clue merging in `02_merge_clues`). Descriptions go to the results store,
# stage `describe`.
#
# `backend = "replay"` imports the authors' released descriptions (no model, no media: what the reproduction
# and smoke mode use); `backend = "run"` runs the model through `ovmer.describe.runner.run_describe` on a
# MER2025-layout folder (`data_dir`), natively or in the model's own environment (`external_cmd`). Running
# models needs their weights and usually a GPU.
#
# Run headless with `ovmer reproduce` (papermill, in dependency order) or alone with
# `papermill notebooks/01_describe.ipynb out.ipynb -p smoke False`; `papermill --help-notebook notebooks/01_describe.ipynb`
# lists the parameters. With `smoke = True` (the default here) it runs a small subset in seconds and writes
# under `<output>/smoke`, never over the real results.

# %% tags=["parameters"]
smoke: bool = True  # a few samples in seconds, written under <output>/smoke
baseline: str = "Chat-UniVi"  # the system to describe (`ovmer baselines` lists them)
settings: list = ["S0", "S1"]  # S0: video/audio only; S1: subtitle in the prompt
backend: str = "replay"  # "replay": import the released descriptions; "run": run the model on data_dir
data_dir: str = ""  # MER2025-layout folder with video/ and audio/ (backend "run")
model_path: str = ""  # local model folder (backend "run"; empty: the registry's checkpoint)
device: str = "cpu"  # "cpu" or "cuda" (backend "run")
external_cmd: str = ""  # run the model in its own environment through this command (backend "run")
limit: int = 0  # describe only the first N samples; 0: all (smoke: 4; replay always imports all)
output: str = ""  # output folder; empty: $OVMER_OUTPUT or <project>/output (smoke: its smoke/ subfolder)
engine: str = "local"  # where the model runs: "local" (this kernel) or "ray" (replicas on a Ray cluster; RAY_ADDRESS or a local instance)

# %%
from ovmer.reproduce.stage_describe import describe_baseline, plan_describe
from ovmer.reproduce.stages import finish_stage

plan = plan_describe(smoke=smoke, baseline=baseline, settings=settings, backend=backend, data_dir=data_dir,
                     model_path=model_path, device=device, external_cmd=external_cmd, limit=limit, output=output,
                     engine=engine)
plan

# %%
summary = describe_baseline(plan)
summary

# %%
finish_stage(summary, "describe")
