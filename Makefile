# Two commands a new user needs: `make demo` and `make test`. Both build .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-dev

.PHONY: demo test check bench install clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(PY) -m bot demo

# Both cores (CI has two); NEWSBOT_TEST_PROFILE=thorough, NEWSBOT_SOAK_SECONDS=600 and
# NEWSBOT_CRASH_SEEDS=10 make the property, soak and crash tests run longer (tests/conftest.py).
TEST_WORKERS ?= 2
test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

# Static checks: lint (ruff), types (mypy, strict on bot/core and storage), layering (import-linter).
check: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache

bench: $(STAMP)
	$(PY) -m bench

clean:
	rm -rf $(VENV) data/*.sqlite3* build *.egg-info
