# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 5000

.PHONY: run test lint bench clean

# (Re)install when pyproject.toml changes; the stamp file records success.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e . --group dev
	touch $@

## Set up, create the database, load the demo data if it is empty, serve on http://127.0.0.1:5000
run: $(VENV)/.installed
	$(BIN)/flask --app app init-db
	$(BIN)/flask --app app seed --if-empty
	$(BIN)/flask --app app run --host $(HOST) --port $(PORT)

## Set up and run every test
test: $(VENV)/.installed
	$(BIN)/python -m pytest

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(VENV)/.installed
	$(BIN)/python bench/import_speed.py

clean:
	rm -rf $(VENV) instance .pytest_cache
