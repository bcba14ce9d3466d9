# The two commands a newcomer needs: `make run` and `make test`.
PYTHON   ?= python3
VENV     ?= .venv
BIN       = $(VENV)/bin
HOST     ?= 127.0.0.1
PORT     ?= 5000
CHROMIUM ?= /usr/bin/chromium
# apt-get needs root; on a developer's own machine that means sudo.
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-quick typecheck lint bench screenshots clean

# (Re)install when pyproject.toml changes; the stamp file records success.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@

# The browser tests drive Debian's chromium (Playwright never downloads a browser here);
# the fonts make Chinese text and facility icons render in screenshots.
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium fonts-noto-cjk fonts-noto-color-emoji

## Set up, create the database, load the demo data if it is empty, serve on http://127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app seed --if-empty
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

## Set up, type-check, and run every test, browser tests included
test: $(VENV)/.installed $(CHROMIUM) typecheck
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest

## Everything but the browser tests: a fast loop while working
test-quick: $(VENV)/.installed typecheck
	$(BIN)/python -m pytest -m "not browser"

## The code against the store protocols and its own annotations ([tool.mypy] in pyproject.toml)
typecheck: $(VENV)/.installed
	$(BIN)/mypy

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed $(CHROMIUM)
	$(BIN)/python bench/import_speed.py
	$(BIN)/python bench/nearest.py
	CHROMIUM=$(CHROMIUM) $(BIN)/python bench/page_weight.py

## Regenerate docs/screenshots/ from the browser tests
screenshots: $(VENV)/.installed $(CHROMIUM)
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m browser -q

clean:
	rm -rf $(VENV) instance .pytest_cache .mypy_cache
