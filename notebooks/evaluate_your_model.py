# %% [markdown]
# # Evaluate your own model
#
# Where would *your* multimodal LLM stand on OV-MERD? This notebook takes one model through the paper's whole
# pipeline: it describes each clip without (S0) and with (S1) its subtitle, merges the S0 clues with the subtitle
# (S2), extracts open-vocabulary label lists, scores them, and places the model among Table 1's systems.
#
# The model is any describe baseline:
#
# - **a model on a server** (`baseline = "openai-compatible"`): anything `vllm serve`, SGLang or a hosted API runs;
#   give `base_url` and `model`. Clue merging uses the same server and model unless `merge_*` say otherwise.
# - **your own adapter** in a Python file (`include`): a `DescribeAdapter` subclass registered with
#   `ovmer.describe.register_adapter`; set `baseline` to its spec's name (README, "Evaluate your own model").
# - any built-in baseline (`ovmer baselines` lists them).
#
# Smoke mode describes a few samples in seconds; a real evaluation sets `smoke = False` and `data` to the
# MER2025 download (OV-MERD's samples, with `track2_train_ovmerd.csv` as the ground truth).
# Run it headless with papermill: `papermill evaluate_your_model.ipynb out.ipynb -p model Qwen/Qwen2.5-VL-7B-Instruct -p data /data/mer2025`.

# %% tags=["parameters"]
smoke: bool = True  # a few samples in seconds, written under <output>/smoke
data: str = ""  # dataset folder in the MER2025 layout (video/, audio/, subtitle_chieng.csv, track2_train_ovmerd.csv)
baseline: str = "openai-compatible"  # openai-compatible (a model on a server) or a registered baseline's name
include: str = ""  # your own Python file or folder of modules that registers an adapter (";" between several)
base_url: str = ""  # openai-compatible: the server, e.g. http://127.0.0.1:8000/v1 (empty: that address)
model: str = ""  # openai-compatible: the model's name on the server
num_frames: int = 0  # openai-compatible: frames sent per clip; 0: 8, uniformly sampled
model_path: str = ""  # a registered adapter: its local weights folder, if it reads one
limit: int = 0  # samples to describe; 0: all (smoke: 4)
merge_backend: str = "openai"  # LLM for clue merging: openai, transformers, vllm or replay
merge_model: str = ""  # its model; empty with openai: the served model above
merge_base_url: str = ""  # its server; empty: base_url
extract_backend: str = "cpu"  # label extraction: cpu (no model) or an LLM backend
output: str = ""  # output folder; empty: $OVMER_OUTPUT or <project>/output (smoke: its smoke/ subfolder)

# %%
from ovmer.evaluate import (describe_samples, extract_labels, include_user_code, merge_descriptions,
                            plan_evaluation, rank_in_table1, score_every_protocol)

include_user_code(include)

# %%
plan = plan_evaluation(data=data, baseline=baseline, base_url=base_url, model=model, num_frames=num_frames,
                       model_path=model_path, smoke=smoke, limit=limit, merge_backend=merge_backend,
                       merge_model=merge_model, merge_base_url=merge_base_url,
                       extract_backend=extract_backend, output=output)
plan

# %% [markdown]
# Describe: one request per sample and setting; finished samples are skipped on a re-run.

# %%
describe_samples(plan)

# %% [markdown]
# Clue merging (S2), then label extraction in S0, S1 and S2.

# %%
merge_descriptions(plan)

# %%
extract_labels(plan)

# %% [markdown]
# Scores (×100) under every scoring protocol, over the samples described.

# %%
scores = score_every_protocol(plan)
scores

# %% [markdown]
# Where the model's S2 M-avg would rank among Table 1's systems (a smoke run's few samples place it only roughly).

# %%
rank_in_table1(plan, scores)
