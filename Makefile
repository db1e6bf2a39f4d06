# The two commands of README.rst: `make demo` and `make test`.
# The logic lives in scripts/; see docs/developer/environment.rst and tests.rst.

PYTHON := .venv/bin/python
# extra arguments for scripts/run_tests.py, e.g.
#   make test ARGS="--no-lint --no-pytest --test-tags /call_tracking:TestMenus"
ARGS ?=

.PHONY: demo test bench stress setup clean-db readme wheel screenshots

setup:
	@bash scripts/setup.sh

demo: setup
	@$(PYTHON) -u scripts/demo.py

test: setup
	@$(PYTHON) -u scripts/run_tests.py $(ARGS)

bench: setup
	@$(PYTHON) -u scripts/run_tests.py --bench $(ARGS)

# the stress harness (tests/test_stress.py) at full volume; make test runs a
# tenth of it. Prints one table of figures.
stress: setup
	@$(PYTHON) -u scripts/run_tests.py --stress $(ARGS)
# retake the README's screenshots (call_tracking/static/description/screenshots/,
# and the guide's in Ukrainian and Russian, docs/images/) with Chromium over
# the demo data, then `make readme`
screenshots: setup
	@$(PYTHON) -u scripts/run_tests.py --no-lint --no-i18n --no-pytest --test-tags call_tracking_screenshots

# drop the cached template and test databases (not the demo database)
clean-db: setup
	@$(PYTHON) -u scripts/clean_db.py

# regenerate call_tracking/README.rst and static/description/index.html from
# call_tracking/readme/*.md and the manifest (make test checks they are current)
README_ARGS := --addon-dir call_tracking --org-name call-tracking --repo-name call_tracking --branch 18.0
readme: setup
	@$(PYTHON) scripts/gen_addon_readme.py $(README_ARGS)

# build the addon's wheel into dist/ (odoo_addon_call_tracking-18.0.*.whl)
wheel: setup
	@$(PYTHON) -m pip wheel --no-deps --no-build-isolation --wheel-dir dist ./call_tracking
