# One command runs the server, one command runs every test; both make the venv first.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
A11Y   := tools/a11y/node_modules/.installed

.PHONY: run test test-pg check bench faults a11y simulate check-config clean

run: $(STAMP)
	$(BIN)/giliran serve

test: check $(A11Y)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The suite on PostgreSQL (GILIRAN_PG_DSN names a server; without it a throwaway cluster is started
# when Debian's postgresql is installed). Tests about the SQLite store itself skip themselves.
test-pg: $(STAMP)
	GILIRAN_TEST_DB=postgresql $(BIN)/python -m pytest $(PYTEST_ARGS) --deselect tests/test_postgres_store.py \
		--deselect tests/test_pg_processes.py --deselect tests/test_accessibility.py

# Lint and import order (ruff), types (mypy; strict on the queue, hall, storage and support packages).
check: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Power cuts, printer and gateway faults, a full disk, clock jumps: the full fault suite
# (CI runs its short form inside `make test`, tests/test_faults.py).
faults: $(STAMP)
	$(BIN)/python -m benchmarks.faults

# Lighthouse accessibility scores and page weights of the demo hall's pages.
a11y: $(STAMP) $(A11Y)
	$(BIN)/python -m tools.a11y.lighthouse

# Every figure beside baselines measured in the same run; results in benchmarks/results/.
bench: $(STAMP)
	$(BIN)/python -m benchmarks.suite
	$(BIN)/python -m benchmarks.print_bench | tee benchmarks/results/print.txt
	$(BIN)/python -m benchmarks.alert_bench --alerts 2000 --chats 1000 | tee benchmarks/results/alerts.txt
	$(BIN)/python -m benchmarks.reports_bench --days 365 | tee benchmarks/results/reports.txt
	$(BIN)/python -m benchmarks.booking_bench --citizens 3000 --concurrency 500 | tee benchmarks/results/booking.txt
	$(BIN)/python -m benchmarks.pg_bench  # PostgreSQL with 1, 2 and 4 processes beside SQLite (results/pg.md)

# The day simulator (docs/estimates.md): both example profiles on the demo hall, seeds 1-5, the
# waiting-time forecast against the formula used before it; reports in var/simulate/, the
# comparison in benchmarks/results/estimates.md.
simulate: $(STAMP)
	$(BIN)/giliran simulate --profile examples/senin-ramai.toml --seed 1-5 --out var/simulate/senin-ramai
	$(BIN)/giliran simulate --profile examples/hari-sepi.toml --seed 1-5 --out var/simulate/hari-sepi
	{ echo "# make simulate: $$(date -u '+%Y-%m-%d %H:%M:%S UTC')"; echo; \
	  echo "Hall: the bundled demo (examples/mpp-purwakarta.toml). Times in seconds unless marked."; echo; \
	  cat var/simulate/senin-ramai/comparison.md; echo; cat var/simulate/hari-sepi/comparison.md; } \
	  > benchmarks/results/estimates.md

check-config: $(STAMP)
	$(BIN)/giliran check-config examples/mpp-purwakarta.toml

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# axe-core and Lighthouse for the accessibility tests (they drive /usr/bin/chromium, never a download).
$(A11Y): tools/a11y/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --prefix tools/a11y --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: the accessibility tests will be skipped (apt-get install npm)"; fi

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
