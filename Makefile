# The two commands of the README, and what they stand on.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
# Front-end assets (htmx, ECharts, our QES bundle): built from npm packages, never committed.
VENDOR := src/dsom/web/static/vendor

.PHONY: demo test install lint check-schema clean

# Install into ./.venv (pinned by constraints.txt), migrate, load the demo market, serve.
demo: install
	$(BIN)/dsom demo

# Install with the test tools, then lint, type-check and run the whole suite.
test: install lint
	$(BIN)/pytest $(PYTEST_ARGS)

install: $(VENV)/.installed $(VENDOR)/.built

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: DSOM's front-end assets are built with Node.js 20+ and npm (Debian: apt-get install nodejs npm)" >&2; exit 1; }
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

$(VENDOR)/.built: node_modules/.installed frontend/build.mjs $(wildcard frontend/*.js)
	npm run --silent build
	touch $@

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache node_modules $(VENDOR)
