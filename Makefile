# Two commands: `make reproduce` and `make test`. Both create .venv on first use.
# `make bench` runs every benchmark under benchmarks/ (about 10 minutes on 2 cores).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# One environment for every command: the package, the test tools, the Ray extra (the tests
# compare the Ray executor with the local one) and the docs tools (the tests build the docs).
EXTRAS ?= test,ray,docs,flax,equinox,torch
comma := ,
STAMP := $(VENV)/.installed-$(subst $(comma),-,$(EXTRAS))

.PHONY: reproduce test lint install clean quick docs bench data

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

# Fashion-MNIST, the real data set of the image experiments: Debian's dataset-fashion-mnist
# package installs its official IDX files into /usr/share/datasets/fashion-mnist. `make data`
# installs it where the machine allows (apt-get as root) and otherwise says so; it never
# fails, and without the data the report marks those experiments not run.
FMNIST := /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz

data:
	@if [ -n "$$GDPERCEPTRON_DATA_DIR" ]; then \
		echo "data: using GDPERCEPTRON_DATA_DIR=$$GDPERCEPTRON_DATA_DIR"; \
	elif [ -f $(FMNIST) ]; then \
		echo "data: Fashion-MNIST found in /usr/share/datasets/fashion-mnist"; \
	elif command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ]; then \
		echo "data: installing Debian's dataset-fashion-mnist (apt-get update; apt-get install)"; \
		(timeout 300 apt-get update -qq && timeout 300 apt-get install -y -qq \
			dataset-fashion-mnist >/dev/null) || true; \
		if [ -f $(FMNIST) ]; then echo "data: Fashion-MNIST installed"; \
		else echo "data: could not install dataset-fashion-mnist; the Fashion-MNIST" \
			"experiments will be marked not run"; fi; \
	else \
		echo "data: no Fashion-MNIST in /usr/share/datasets and no way to install it here" \
			"(needs apt-get as root); the Fashion-MNIST experiments will be marked not run"; \
	fi

reproduce: $(STAMP) data
	$(BIN)/gdperceptron reproduce --out results

quick: $(STAMP)
	$(BIN)/gdperceptron reproduce --quick --out results-quick

test: $(STAMP)
	$(BIN)/python -m pytest -q

BENCHMARKS := bench_step bench_startup bench_estimator bench_memory bench_reproduce \
	bench_reduced bench_complexity

bench: $(STAMP)
	@set -e; for b in $(BENCHMARKS); do \
		echo "== benchmarks/$$b.py"; \
		(cd benchmarks && ../$(BIN)/python $$b.py); \
	done

# The documentation site, offline, into site/ (open site/index.html); warnings are errors.
docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/python -m mkdocs build --strict --site-dir site

lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) results results-quick
