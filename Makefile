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

.PHONY: reproduce test lint install clean quick docs bench

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

reproduce: $(STAMP)
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
