# The two commands a newcomer needs: `make run` and `make test`.
PYTHON   ?= python3
VENV     ?= .venv
BIN       = $(VENV)/bin
HOST     ?= 127.0.0.1
PORT     ?= 5000
CHROMIUM ?= /usr/bin/chromium
WRK      ?= /usr/bin/wrk
REDIS    ?= /usr/bin/redis-server
PG_BIN   ?= /usr/lib/postgresql/15/bin
POSTGIS  ?= /usr/share/postgresql/15/extension/postgis.control
# apt-get needs root; on a developer's own machine that means sudo.
SUDO     := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help run dev db fonts test test-quick contracts typecheck lint bench bench-serve bench-postgis bench-coverage screenshots clean

## List the targets
help:
	@awk '/^## /{doc=substr($$0,4); next} /^[a-z-]+:/{if(doc){sub(/:.*/,"",$$1); printf "  make %-13s %s\n",$$1,doc}; doc=""}' $(MAKEFILE_LIST)

# (Re)install when pyproject.toml changes; the stamp file records success.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@

# The browser tests drive Debian's chromium (Playwright never downloads a browser here).
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium

# The fonts that make Chinese text and the facility icons render in the browser tests and
# screenshots: each Debian package, and a family it gives fontconfig. Checked on every run,
# not only when chromium is installed: a machine that already has chromium may lack them
# (icons then render as boxes). fc-list itself (Debian's fontconfig) is installed if absent,
# so that the next run can tell.
FONTS_CJK   ?= fonts-noto-cjk
FONTS_EMOJI ?= fonts-noto-color-emoji
FC_LIST     ?= fc-list

## Install the CJK and emoji fonts from Debian if fontconfig has not got them
fonts:
	@missing=""; \
	command -v $(FC_LIST) >/dev/null 2>&1 || missing=" fontconfig"; \
	$(FC_LIST) ':family=Noto Sans CJK SC' family 2>/dev/null | grep -q . || missing="$$missing $(FONTS_CJK)"; \
	$(FC_LIST) ':family=Noto Color Emoji' family 2>/dev/null | grep -q . || missing="$$missing $(FONTS_EMOJI)"; \
	if [ -n "$$missing" ]; then \
	  echo "fonts missing, installing:$$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

# A real Redis for the tests of shared rate limits; the tests start throwaway servers themselves.
$(REDIS):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server

# axe-core, the accessibility checker the browser tests load into the page, from npm at the
# version package-lock.json pins (nothing in node_modules/ is served to riders).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# PostgreSQL 15 with PostGIS 3 for the tests of the PostGIS store: the tests start throwaway
# servers of their own (tests/pgserver.py) on loopback; the machine's own cluster is not used.
$(POSTGIS):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq postgresql postgresql-15-postgis-3

# The serving benchmark's load generator, from Debian.
$(WRK):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq wrk

## Create or upgrade the database; load the demo data (printing demo passwords) if it is empty
db: $(VENV)/.installed
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app seed --if-empty

## Set up, prepare the database, serve with gunicorn on http://127.0.0.1:5000 (HOST, PORT)
run: db
	HOST=$(HOST) PORT=$(PORT) $(BIN)/gunicorn --config gunicorn.conf.py

## The same, served by Flask's development server: reloads on code changes, debugger
dev: db
	$(BIN)/flask --app app run --debug --host $(HOST) --port $(PORT)

## Set up, check the import contracts and the types, run every test (browser tests included)
test: $(VENV)/.installed $(CHROMIUM) fonts $(REDIS) $(POSTGIS) node_modules/.installed contracts typecheck
	CHROMIUM=$(CHROMIUM) REDIS=$(REDIS) PG_BIN=$(PG_BIN) $(BIN)/python -m pytest

## The layering rules in pyproject.toml: core is pure, faces independent, store below faces
contracts: $(VENV)/.installed
	$(BIN)/lint-imports

## Everything but the browser tests: a fast loop while working
test-quick: $(VENV)/.installed $(REDIS) $(POSTGIS) typecheck
	REDIS=$(REDIS) PG_BIN=$(PG_BIN) $(BIN)/python -m pytest -m "not browser"

## The code against the store protocols and its own annotations ([tool.mypy] in pyproject.toml)
typecheck: $(VENV)/.installed
	$(BIN)/mypy

## ruff: lint and formatting
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## The benchmarks in bench/ (figures in the README)
bench: $(VENV)/.installed $(CHROMIUM) $(WRK)
	$(BIN)/python bench/import_speed.py
	$(BIN)/python bench/nearest.py
	CHROMIUM=$(CHROMIUM) $(BIN)/python bench/page_weight.py
	WRK=$(WRK) $(BIN)/python bench/serve.py

## Serving benchmark: 1M stations under gunicorn, wrk on loopback (STATIONS=200000 to choose)
bench-serve: $(VENV)/.installed $(WRK)
	WRK=$(WRK) $(BIN)/python bench/serve.py $(if $(STATIONS),--stations $(STATIONS))

## Both stores at 1M: import vs bare COPY (ROWS=), then serving side by side (STATIONS=)
bench-postgis: $(VENV)/.installed $(WRK) $(POSTGIS)
	PG_BIN=$(PG_BIN) $(BIN)/python bench/import_postgis.py --rows $(or $(ROWS),1000000)
	WRK=$(WRK) PG_BIN=$(PG_BIN) $(BIN)/python bench/serve.py --store both $(if $(STATIONS),--stations $(STATIONS))

## Coverage: our union of circles vs a plain component-wise union_all, analyse() at 10k/100k (SIZES=, NAIVE=1)
bench-coverage: $(VENV)/.installed
	$(BIN)/python bench/coverage.py $(if $(SIZES),--sizes $(SIZES)) $(if $(NAIVE),--naive)

## Regenerate docs/screenshots/ from the browser tests
screenshots: $(VENV)/.installed $(CHROMIUM) fonts node_modules/.installed
	SCREENSHOTS_DIR=$(CURDIR)/docs/screenshots CHROMIUM=$(CHROMIUM) $(BIN)/python -m pytest -m browser -q

## Remove the virtualenv and the instance folder (database included)
clean:
	rm -rf $(VENV) instance .pytest_cache .grimp_cache .import_linter_cache .mypy_cache
