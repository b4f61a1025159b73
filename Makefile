# The two commands of the README: `make run` and `make test`.
# Each creates the virtual environment in .venv and installs what it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
EMULATOR := tests/emulator/node_modules/.installed

.PHONY: run test chat bench fuzz mutate clean

run: $(INSTALLED)
	$(BIN)/onewindow run

chat: $(INSTALLED)
	$(BIN)/onewindow chat

test: $(INSTALLED) $(EMULATOR)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Random conversations for longer than CI's fixed budget (FUZZ_EXAMPLES per database).
fuzz: $(INSTALLED)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz_conversations.py $(PYTEST_ARGS)

# Deliberate mistakes in the core modules: which ones do the tests miss? (ONLY=word to pick some)
mutate: $(INSTALLED)
	$(BIN)/python -m tests.mutate --only "$(ONLY)"

bench: $(INSTALLED)
	$(BIN)/python bench/inbound.py

$(INSTALLED): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

$(EMULATOR): tests/emulator/package.json tests/emulator/package-lock.json
	cd tests/emulator && npm ci --no-audit --no-fund --loglevel=error
	touch $@

clean:
	rm -rf $(VENV) tests/emulator/node_modules
