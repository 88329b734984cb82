# The two commands of the README: `make serve` (set up, build the graph, serve it) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup serve build test bench clean

$(BIN)/filmgraph: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(BIN)/filmgraph

serve: setup
	$(BIN)/filmgraph serve $(ARGS)

build: setup
	$(BIN)/filmgraph build $(ARGS)

test: setup
	$(BIN)/python -m pytest $(ARGS)

bench: setup
	$(BIN)/python benchmarks/run.py $(ARGS)

clean:
	rm -rf var .pytest_cache
