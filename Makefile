# Two commands do everything: `make reproduce` and `make test`.
# Both create the virtual environment and fetch the assets first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE ?= 1
export HF_HUB_DISABLE_PROGRESS_BARS ?= 1
export TOKENIZERS_PARALLELISM ?= false

.PHONY: all venv assets test lint reproduce bench clean

all: test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	# torch first and pinned: the CPU wheel, so nothing pulls a multi-GB CUDA build.
	$(BIN)/python -m pip install -q "torch==2.13.0"
	$(BIN)/python -m pip install -q -e ".[notebooks,models,dev]"
	$(BIN)/python -m ipykernel install --sys-prefix --name ovmer --display-name "Python (ovmer)" >/dev/null
	touch $(STAMP)

venv: $(STAMP)

assets: venv
	$(BIN)/ovmer fetch

lint: venv
	$(BIN)/ruff check ovmer tests benchmarks

test: assets lint
	$(BIN)/python -m pytest -q -p no:cacheprovider

reproduce: assets
	$(BIN)/ovmer reproduce

bench: assets
	$(BIN)/python benchmarks/run_all.py $(BENCH)

clean:
	rm -rf $(VENV) output/store output/tables output/notebooks
