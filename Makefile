# The two commands of the README: `make run` and `make test`.
# Each creates the virtual environment in .venv and installs what it needs.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
EMULATOR := tests/emulator/node_modules/.installed

.PHONY: run test chat bench fuzz mutate mutate-picked clean

run: $(INSTALLED)
	$(BIN)/onewindow run

chat: $(INSTALLED)
	$(BIN)/onewindow chat

test: $(INSTALLED) $(EMULATOR)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Random conversations for longer than CI's fixed budget (FUZZ_EXAMPLES per database).
fuzz: $(INSTALLED)
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q tests/test_fuzz_conversations.py $(PYTEST_ARGS)

# Mutation testing with mutmut (modules and tests in [tool.mutmut] of pyproject.toml):
# each mutant runs only the tests that reach it, on SQLite, at most MUTATE_BUDGET
# seconds of them (0: all); then the score per module. Test stores live in memory
# (/dev/shm) where the machine has it. A second run only re-tests what changed.
# Which test killed which mutant is kept in tests/mutation_history.json (commit it):
# the next run, even from a clean clone, tries that test first.
# What does nothing on SQLite (the PostgreSQL address locks) is tested on the
# PostgreSQL of TEST_POSTGRES_URL instead (tests/conftest.py: POSTGRESQL_ONLY).
# ONLY=glob picks mutants, e.g. ONLY="flows.tracking*".
MUTATE_BUDGET ?= 10
mutate: $(INSTALLED)
	@# mutmut copies the Python files it mutates again when they change, never the texts,
	@# examples and transcripts beside them: a second run would read stale ones.
	@[ ! -d mutants ] || git ls-files -- ':!*.py' flows tests storage bot handlers notifications | xargs -I{} cp --parents {} mutants/
	@# Which tests reach which function is measured once and then only for new tests: after
	@# the code moved (a function split in two), the old measure would leave the new
	@# functions' mutants with too few tests. Measure again when any code or test changed.
	@[ ! -f mutants/mutmut-stats.json ] || [ -z "$$(find bot flows handlers storage notifications tests -name '*.py' -newer mutants/mutmut-stats.json | head -1)" ] || rm mutants/mutmut-stats.json
	@started=$$(date +%s); \
	MUTATE_BUDGET=$(MUTATE_BUDGET) TMPDIR=$$( [ -d /dev/shm ] && echo /dev/shm || echo $${TMPDIR:-/tmp} ) \
		$(BIN)/mutmut run --max-children $$(nproc) $(ONLY) || true; \
	echo "mutmut ran $$(( ($$(date +%s) - started) / 60 )) min $$(( ($$(date +%s) - started) % 60 )) s (budget $(MUTATE_BUDGET) s a mutant)"
	$(BIN)/python -m tests.mutation_history
	$(BIN)/python -m tests.mutation_score --survivors

# The hand-picked mistakes in the flows and the outbox (tests/mutate.py; ONLY=word to pick some).
mutate-picked: $(INSTALLED)
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
