# The two commands a newcomer needs: `make run` and `make test`.
PYTHON   ?= python3
VENV     ?= .venv
BIN       = $(VENV)/bin
HOST     ?= 127.0.0.1
PORT     ?= 5000
CHROMIUM ?= /usr/bin/chromium
WRK      ?= /usr/bin/wrk
# apt-get needs root; on a developer's own machine that means sudo.
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test test-quick lint bench bench-serve screenshots clean

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

# The serving benchmark's load generator, from Debian.
$(WRK):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk

## Set up, create the database, load the demo data if it is empty, serve on http://127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app seed --if-empty
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

## Set up and run every test, browser tests included
test: $(VENV)/.installed $(CHROMIUM)
	CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest

## Everything but the browser tests: a fast loop while working
test-quick: $(VENV)/.installed
	$(BIN)/python -m pytest -m "not browser"

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed $(CHROMIUM) $(WRK)
	$(BIN)/python bench/import_speed.py
	$(BIN)/python bench/nearest.py
	CHROMIUM=$(CHROMIUM) $(BIN)/python bench/page_weight.py
	WRK=$(WRK) $(BIN)/python bench/serve.py

## Serving benchmark: 1M stations under gunicorn, wrk on loopback (STATIONS=200000 to choose)
bench-serve: $(VENV)/.installed $(WRK)
	WRK=$(WRK) $(BIN)/python bench/serve.py $(if $(STATIONS),--stations $(STATIONS))

## Regenerate docs/screenshots/ from the browser tests
screenshots: $(VENV)/.installed $(CHROMIUM)
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m browser -q

clean:
	rm -rf $(VENV) instance .pytest_cache
