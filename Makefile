# The two commands of the README, plus helpers. Each target sets up .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: demo test setup lint bench clean

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

clean:
	rm -rf build install log demo_out .pytest_cache
