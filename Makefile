# Creator ROI — the two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
LOCK := requirements.lock
PORT ?= 8000
export APP_ENV ?= development

.PHONY: install lock check demo run test test-fast test-browser bench chromium migration clean

# Exactly the versions in the lock (what CI tested, nothing more), then the app itself without
# resolving anything: uv (pinned by the lock too) does it in about a minute where pip took four.
$(STAMP): $(LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet "$$(grep '^uv==' $(LOCK))"
	$(BIN)/uv pip sync --quiet --python $(BIN)/python $(LOCK)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

# Rewrites the lock from pyproject.toml's ranges (runtime, `test` and `dev` extras), keeping every
# pin that still fits them, one version of each package for every Python the project supports.
# LOCK_ARGS=--upgrade moves every pin to the newest release that fits;
# LOCK_ARGS="--upgrade-package numpy" moves one.
lock:
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	test -x $(BIN)/uv || $(BIN)/pip install --quiet uv
	$(BIN)/uv pip compile pyproject.toml --extra test --extra dev --universal --python-version 3.11 --fork-strategy fewest \
		--custom-compile-command 'make lock' --quiet $(LOCK_ARGS) -o $(LOCK)

# The architecture contracts, the linter and the type checker; .ci/run runs this before the tests.
check: install
	$(BIN)/lint-imports
	$(BIN)/ruff check
	$(BIN)/ruff format --check
	$(BIN)/mypy

# Serves the seeded case-study store with SQLite and inline jobs.
demo: install
	mkdir -p instance
	$(BIN)/creator-roi db upgrade
	$(BIN)/creator-roi demo
	@echo "Creator ROI demo: open http://127.0.0.1:$(PORT)/"
	$(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --threads 4 'plugin:create_app()'

run: install
	$(BIN)/flask --app 'plugin:create_app()' run --port $(PORT)

chromium:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -q && apt-get install -y -q chromium) || echo "chromium unavailable: browser tests will be skipped"

# Uses PostgreSQL/Redis when TEST_DATABASE_URL/TEST_REDIS_URL are set, else SQLite and inline jobs.
test: install chromium
	$(BIN)/pytest $(PYTEST_ARGS)

test-fast: install
	TEST_DATABASE_URL= TEST_REDIS_URL= $(BIN)/pytest -m "not browser and not slow" $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench

# Regenerates the initial migration from the models (pre-release only: one linear history).
migration: install
	psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS creator_roi_gen" -c "CREATE DATABASE creator_roi_gen"
	rm -f migrations/versions/0001_initial_schema.py
	$(BIN)/python -c "from alembic import command; import migrations; command.revision(migrations.alembic_config('postgresql://postgres@127.0.0.1:5432/creator_roi_gen'), message='initial schema', autogenerate=True, rev_id='0001')"

clean:
	rm -rf $(VENV) instance artifacts
