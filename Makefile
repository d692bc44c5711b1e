# Boxoffice: `make run` serves a demo client on 127.0.0.1:8000; `make test` runs the suite.
SHELL := /bin/bash
UV_VERSION := 0.13.9
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
export UV_LINK_MODE := copy
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test docs-check install lint typecheck format check openapi soak clean

$(CURDIR)/.tools/bin/uv:
	python3 -m venv $(CURDIR)/.tools
	$(CURDIR)/.tools/bin/pip install --quiet uv==$(UV_VERSION)

install: $(UV) node_modules/.package-lock.json
	$(UV) sync --frozen

# The browser tests' JavaScript (axe-core), as package-lock.json pins it; again when it changes.
# Without npm the browser tests are skipped (outside CI).
node_modules/.package-lock.json: package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm is not installed: the browser tests (tests/browser) will be skipped"; \
	fi

run: install
	$(UV) run boxoffice migrate
	@key=$$($(UV) run boxoffice demo --client demo --scale small --key-file .demo-key | tail -n 1); \
	echo; \
	echo "demo client ready. Its API key (kept in .demo-key and reused by the next make run):"; \
	echo "  $$key"; \
	echo "Try, from another terminal:"; \
	echo "  curl -s -X POST -H 'Authorization: $$key' http://$(HOST):$(PORT)/v1/demo/peppered/export/orders | head -c 2000"; \
	echo "  ./boxoffice --help"; \
	echo
	$(UV) run boxoffice serve --host $(HOST) --port $(PORT)

# In parallel (pytest-xdist), a worker per CPU; each worker has its own databases.
# PYTEST_WORKERS=0 runs everything in one process.
PYTEST_WORKERS ?= auto
test: install
	$(UV) run pytest -q -n $(PYTEST_WORKERS) --dist loadfile

# The shell and SQL examples of README.md and docs/ (also part of make test).
docs-check: install
	$(UV) run pytest -q tests/docs

lint: install
	$(UV) run ruff format --check src tests migrations bench
	$(UV) run ruff check src tests migrations bench

typecheck: install
	$(UV) run mypy

format: install
	$(UV) run ruff format src tests migrations bench
	$(UV) run ruff check --fix src tests migrations bench

check: lint typecheck test

clean:
	rm -rf .venv .tools node_modules .pytest_cache .mypy_cache .ruff_cache boxoffice.db* .demo-key

openapi: install
	$(UV) run python -m boxoffice.server.openapi_file > docs/openapi.json

soak: install
	$(UV) run python bench/soak.py --database sqlite --seconds $${SOAK_SECONDS:-60}
	$(UV) run python bench/soak.py --database postgresql --seconds $${SOAK_SECONDS:-60}

.PHONY: load
# Load test (bench/load.py): a scratch PostgreSQL database with the small demo, a 2-worker
# server, a mix of exports, catalog reads and checkouts. LOAD_SECONDS=60, LOAD_ARGS=--sqlite.
load: install
	$(UV) run python bench/load.py --seconds $${LOAD_SECONDS:-60} $(LOAD_ARGS)

.PHONY: bench
# Export benchmark (bench/bench.py, docs/benchmarks.md): the large demo client on SQLite and
# PostgreSQL (built once into bench/data/ and boxoffice_bench), HTTP vs the in-process floor.
# BENCH_ARGS="--runs 1 --databases sqlite" for a quicker look.
bench: install
	$(UV) run python bench/bench.py --chart docs/benchmarks.png $(BENCH_ARGS)

.PHONY: onsale
# On-sale benchmark (bench/onsale.py, docs/benchmarks.md#on-sale): scratch SQLite and
# PostgreSQL databases, `serve --workers 2`, 32 buyers selling out a 2,000-seat hall and a
# 4,000-place event, the reads of an on-sale next to /healthz (wrk when installed). ~5-10 min.
# ONSALE_ARGS="--databases sqlite --read-seconds 2" for a quicker look.
onsale: install
	$(UV) run python bench/onsale.py --chart docs/onsale.png $(ONSALE_ARGS)
