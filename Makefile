# The two commands of the README, plus helpers. Each target sets up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test setup lint bench mutate clean

demo: setup
	$(VENV)/bin/robot-memory demo

test: setup
	@bash scripts/setup_test_deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)

setup:
	@bash scripts/setup_env.sh

lint: setup
	$(VENV)/bin/ruff check .

bench: setup
	$(VENV)/bin/robot-memory bench store --json

# Mutation testing (not in `make test`: tens of minutes); MUTATE_ARGS='core/staleness' for one.
mutate: setup
	nice -n 10 $(PY) scripts/mutate.py $(MUTATE_ARGS)

clean:
	rm -rf build install log demo_out .pytest_cache mutation_out mutants
