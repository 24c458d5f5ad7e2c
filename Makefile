# Two entry points: `make run` (validate the library) and `make test` (the whole suite).
# Each creates .venv with the interpreter below and installs the project into it; `make test`
# also installs Debian's chromium for the browser test (the only system package needed).
PYTHON     ?= python3
VENV       := .venv
BIN        := $(VENV)/bin
STAMP      := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: run test venv chromium bench docs docs-images readme readme-measured readme-check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

venv: $(STAMP)

# Playwright drives the system browser: it never downloads one of its own.
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

run: $(STAMP)
	$(BIN)/diplosim validate

test: $(STAMP) chromium
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The README's images: the page as the browser test leaves it.
docs-images: $(STAMP) chromium
	$(BIN)/python -m pytest -q -m browser
	mkdir -p docs/img
	cp results/page-*.png docs/img/

# The README's example outputs, rerun from the commands they follow (scripts/readme.py; about
# three minutes, the calibration among them). readme-measured also reruns the benchmarks' block
# (minutes more; on an idle machine). readme-check only compares.
readme: $(STAMP)
	$(BIN)/python scripts/readme.py

readme-measured: $(STAMP)
	$(BIN)/python scripts/readme.py --measured

readme-check: $(STAMP)
	$(BIN)/python scripts/readme.py --check

docs: docs-images readme

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis

bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py
