# The two commands of the quick start (see README.md):
#   make course   set up, fetch the data, run every notebook in order
#   make test     set up, check the notebooks' style (seconds, stops at the first
#                 problem), fetch the data, run the unit tests and nbval
# Setting up first runs scripts/check_python.py under $(PYTHON): on a Python or
# machine the course does not support it stops at once with one line saying
# which work, before the virtual environment is made or anything downloaded.
# Choose another interpreter with e.g. `make PYTHON=python3.13 course`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python

.PHONY: setup data course test static manifest clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt pyproject.toml
	@$(PYTHON) scripts/check_python.py
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

data: setup
	$(PY) -m utils fetch

course: data
	$(PY) -m utils.course

test: static data
	$(PY) -m pytest

# The static notebook test alone: reads the notebooks as JSON, executes nothing,
# needs no data (--noconftest: no TensorFlow import either), takes seconds.
static: setup
	$(PY) -m pytest tests/test_notebooks_static.py -x -q --noconftest

# Rebuild datasets/manifest.json from a verified mirror (maintainers only).
manifest: setup
	$(PY) scripts/make_manifest.py $(or $(COURSE_DATA_MIRROR),../shared/datasets)

clean:
	rm -rf $(VENV) build
