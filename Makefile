# The two commands: `make up` runs the whole stack, `make test` runs every test.
# Both do their own set-up first (scripts/setup.sh, idempotent).
.PHONY: setup up test lint audit lock schemas bench bench-scale bench-statement soak docs docs-serve sdk

VENV := .venv/bin

setup:
	@bash scripts/setup.sh

up: setup
	@$(VENV)/consentry-stack up

test: setup lint
	$(VENV)/python -m pytest

lint:
	$(VENV)/ruff check .
	$(VENV)/mypy events services tools tests

# Starts its own stack, loads 100,000 tracks, measures; writes bench/results/.
bench: setup
	@bash scripts/setup-bench.sh
	$(VENV)/python -m consentry_bench

# The same at 100k, 1M and 10M tracks (each size a stack of its own; 10M takes hours).
# SIZES=100000,1000000 for a shorter run; writes bench/results/scale.{json,md}.
SIZES ?= 100000,1000000,10000000
bench-scale: setup
	@bash scripts/setup-bench.sh
	$(VENV)/python -m consentry_bench.scale --sizes $(SIZES)

# A month's revenue statements over a catalogue of TRACKS tracks (Kafka only); writes
# bench/results/statement_scale.json.
TRACKS ?= 1000000
bench-statement: setup
	@bash scripts/setup-bench.sh
	$(VENV)/python -m consentry_bench.statement_scale --tracks $(TRACKS)

# The long soak: ten minutes of writes and checks under random faults on a stack of its
# own; the report goes to bench/results/soak.json (the suite runs a 45 s version).
SOAK_S ?= 600
soak: setup
	CONSENTRY_SOAK_S=$(SOAK_S) CONSENTRY_SOAK_REPORT=bench/results/soak.json \
		$(VENV)/python -m pytest -s --timeout=$$(( $(SOAK_S) + 600 )) \
		tests/faults/test_soak.py -k random_faults

# Known vulnerabilities in the pinned dependencies, from the advisories PyPI publishes
# per release (pip-audit; --strict: a dependency it cannot look up fails the audit).
audit: setup
	$(VENV)/pip-audit -r requirements.lock --vulnerability-service pypi --disable-pip \
		--require-hashes --strict --progress-spinner off

# Re-pin dependencies after editing pyproject.toml (needs network to PyPI).
lock:
	$(VENV)/python -m pip install -q uv
	$(VENV)/uv pip compile pyproject.toml --extra dev --python-version 3.11 --generate-hashes -o requirements.lock

# The light SDK's wheel (sdk/pyproject.toml): dist/consentry_sdk-<version>-py3-none-any.whl.
sdk: setup
	$(VENV)/python -m consentry_stack.sdk_wheel -o dist

schemas:
	$(VENV)/python -m consentry_events.schema events/schemas

# The documentation site into site/ (--strict: a broken link, anchor or snippet fails);
# the reference pages are generated from the code as it builds (mkdocs.yml's hook).
docs: setup
	$(VENV)/python -m mkdocs build --strict -d site

docs-serve: setup
	$(VENV)/python -m mkdocs serve
