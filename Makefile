# The two commands a newcomer needs: `make run` and `make test`.  Both set everything up.
VENV    := .venv
PY      := $(VENV)/bin/python
STAMP   := $(VENV)/.installed-stamp
PORT    ?= 6379

.PHONY: run test lint typecheck layers unit bench fuzz soak redis-deps native commands-table clean bench-cache

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

# The request path compiled to C by mypyc (scripts/build_native.py says why and which modules).
# Rebuilt whenever any source changes, since compiled code depends on the types it imports.
NATIVE_STAMP := build/native/.stamp
SOURCES := $(shell find cacheflow -name '*.py' -o -name '*.c')

$(NATIVE_STAMP): $(STAMP) $(SOURCES) scripts/build_native.py
	@command -v cc >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc)
	@mkdir -p build/native
	@echo "Compiling the request path with mypyc (about a minute)"
	@$(PY) scripts/build_native.py >build/native/build.log 2>&1 || (tail -40 build/native/build.log; exit 1)
	@touch $@

native: $(NATIVE_STAMP)

# Debian's redis-server and redis-tools: differential tests and benchmarks compare against them.
redis-deps:
	@if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null || ! command -v redis-benchmark >/dev/null; then \
		echo "Installing Debian's redis-server and redis-tools"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server redis-tools; \
	fi

run: $(STAMP) $(NATIVE_STAMP)
	$(VENV)/bin/cacheflow-server --bind 127.0.0.1 --port $(PORT)

lint: $(STAMP)
	$(VENV)/bin/ruff check cacheflow tests scripts bench
	$(VENV)/bin/ruff format --check cacheflow

typecheck: $(STAMP)
	$(VENV)/bin/mypy

layers: $(STAMP)
	$(VENV)/bin/lint-imports

commands-table: $(STAMP)
	$(PY) scripts/commands_table.py --write

test: $(STAMP) $(NATIVE_STAMP) redis-deps lint typecheck layers
	$(PY) scripts/commands_table.py --check
	$(PY) -m pytest -p no:cacheprovider

bench: $(STAMP) $(NATIVE_STAMP) redis-deps
	$(PY) bench/run.py

# The property and differential tests on new random seeds (make test derandomizes them): make fuzz
fuzz: $(STAMP) $(NATIVE_STAMP) redis-deps
	HYPOTHESIS_PROFILE=fuzz $(PY) -m pytest -p no:cacheprovider tests/differential tests/unit \
		$(wildcard tests/integration/test_*_vs_redis.py) tests/integration/test_bad_input.py

# Raft's randomized simulation over many seeds (make test runs a few hundred): make soak SEEDS=5000
SEEDS ?= 2000
soak: $(STAMP)
	$(PY) -m tests.raft.simulation --seeds $(SEEDS) --nodes 3
	$(PY) -m tests.raft.simulation --seeds $(SEEDS) --nodes 5

# Issue 5: hit ratio per eviction policy against redis-server (bench/cache/runner.py; --quick for a smoke run).
bench-cache: $(STAMP) $(NATIVE_STAMP) redis-deps
	$(PY) -m bench.cache $(ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache build
	find cacheflow -name '*.so' -delete
