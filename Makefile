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

# The workbench's front-end assets: npm packages pinned by package-lock.json, copied into the package's static/vendor/.
VENDOR_STAMP := src/filmgraph/api/static/vendor/.installed

$(VENDOR_STAMP): package-lock.json $(BIN)/filmgraph
	npm ci --ignore-scripts --no-audit --no-fund
	$(BIN)/python -m filmgraph.api.assets node_modules
	touch $@

setup: $(BIN)/filmgraph $(VENDOR_STAMP)

serve: setup
	$(BIN)/filmgraph serve $(ARGS)

build: setup
	$(BIN)/filmgraph build $(ARGS)

test: setup
	$(BIN)/python -m pytest $(ARGS)

bench: setup
	$(BIN)/python benchmarks/run.py $(ARGS)
	$(BIN)/python benchmarks/remote.py $(REMOTE_ARGS)

clean:
	rm -rf var .pytest_cache
