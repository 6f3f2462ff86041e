# make run: install into .venv and start the app on the demo data.
# make test: install (runtime + test deps) and run every test.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501
# Loopback by default: the app has no login. ADDRESS=0.0.0.0 make run to share it deliberately.
ADDRESS ?= 127.0.0.1

.PHONY: run test install install-dev lint format bench screenshots clean

$(VENV)/.installed: requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	# Sigma -> KQL (tests/sigma/test_sigma_kql.py): declares pysigma<2 but works with 2.0.1
	$(PY) -m pip install --quiet --no-deps pysigma-backend-kusto==1.0.1
	touch $@

install: $(VENV)/.installed

install-dev: $(VENV)/.installed-dev

run: install
	$(VENV)/bin/streamlit run streamlit_app.py --server.port $(PORT) --server.address $(ADDRESS)

tests/kusto/node_modules: tests/kusto/package.json
	cd tests/kusto && npm ci --no-audit --no-fund --loglevel=error
	touch $@

test: install-dev tests/kusto/node_modules
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy hunting
	$(VENV)/bin/pytest -q -n 2 --dist loadfile

screenshots: install-dev
	HUNTING_UPDATE_SCREENSHOTS=1 $(VENV)/bin/pytest -q -p no:cacheprovider tests/browser/test_analyst_flow.py

lint: install-dev
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check . && $(VENV)/bin/mypy hunting

format: install-dev
	$(VENV)/bin/ruff format . && $(VENV)/bin/ruff check --fix .

bench: install-dev
	$(PY) bench/ingest.py
	$(PY) bench/process_tree.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache
