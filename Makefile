# One command runs the server, one command runs every test; both make the venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench check-config clean

run: $(STAMP)
	$(BIN)/giliran serve

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP)
	$(BIN)/python -m benchmarks.print_bench
	$(BIN)/python -m benchmarks.display_bench --clients 1000 --calls 30
	$(BIN)/python -m benchmarks.alert_bench --alerts 2000 --chats 1000

check-config: $(STAMP)
	$(BIN)/giliran check-config examples/mpp-purwakarta.toml

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
