# The two commands of README.rst: `make demo` and `make test`.
# The logic lives in scripts/; see README.rst.

PYTHON := .venv/bin/python
# extra arguments for scripts/run_tests.py, e.g.
#   make test ARGS="--no-lint --no-pytest --test-tags /call_tracking:TestMenus"
ARGS ?=

.PHONY: demo test bench setup clean-db

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PYTHON) -u scripts/demo.py

test: setup
	@$(PYTHON) -u scripts/run_tests.py $(ARGS)

bench: setup
	@$(PYTHON) -u scripts/run_tests.py --bench $(ARGS)

# drop the cached template and test databases (not the demo database)
clean-db: setup
	@$(PYTHON) -u scripts/clean_db.py
