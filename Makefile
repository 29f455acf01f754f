# The README's commands. Each target installs what it needs first (into .venv), so a fresh
# clone with only Python 3.11 works: `make sandbox`, `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: sandbox serve test test-fast test-browser browser-deps screenshot lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

sandbox: $(STAMP)
	$(BIN)/debrief sandbox

serve: $(STAMP)
	$(BIN)/debrief serve

test: $(STAMP) browser-deps
	$(BIN)/pytest

test-fast: $(STAMP)
	$(BIN)/pytest -m "not postgres and not slow and not browser"

test-browser: $(STAMP) browser-deps
	$(BIN)/pytest -m browser

# The browser tests drive Debian's Chromium (Playwright cannot download its own browser here).
# Installed when missing and possible (root with apt-get); otherwise those tests skip and say why.
browser-deps:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	    --no-install-recommends chromium fonts-noto-color-emoji >/dev/null; \
	else echo "chromium is not installed and cannot be installed here: browser tests will skip"; fi

# Retake the README's screenshot (docs/images/sandbox.png) with the browser test.
screenshot: $(STAMP) browser-deps
	DEBRIEF_UPDATE_SCREENSHOT=1 $(BIN)/pytest -m browser

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) *.egg-info .mypy_cache .ruff_cache
