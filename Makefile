# Two commands set everything up on a fresh machine: `make search` and `make test`.
# Each creates .venv/, installs the package with its pinned torch, and installs Debian's
# Fashion-MNIST (dataset-fashion-mnist) where apt is available. Nothing else is downloaded.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FASHION_MNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

.PHONY: setup dataset postgres search test lint wheel-check clean

setup: $(STAMP) dataset

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

dataset:
	@bash scripts/install_dataset.sh

# PostgreSQL server binaries for the many-workers tests (each test session starts its own server).
postgres:
	@bash scripts/install_postgres.sh

search: setup
	$(PY) -m nas.search hardware=pixel $(ARGS)

test: setup postgres
	$(PY) -m pytest -q $(ARGS)

# The wheel in a fresh environment outside the checkout: describe, a search, its report.
wheel-check: $(STAMP)
	PY=$(PY) bash scripts/check_wheel.sh

lint: $(STAMP)
	$(VENV)/bin/ruff check nas tests benchmarks

clean:
	rm -rf $(VENV)
