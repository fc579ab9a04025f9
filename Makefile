# The README's commands. `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
SG     := $(VENV)/bin/synthgov
DEMO   ?= $(CURDIR)/var/demo

.PHONY: install run test bench fuzz lint clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

## make run: demo provider profile, SQLite, API on 127.0.0.1:8000 (OpenAPI at /docs)
run: install
	SYNTHGOV_DATA_DIR=$(DEMO) $(SG) init --demo
	@echo "API key for the demo (keep it):"
	@SYNTHGOV_DATA_DIR=$(DEMO) $(SG) apikey create --name demo-$$(date +%s) | tail -n 1
	SYNTHGOV_DATA_DIR=$(DEMO) $(SG) serve --host 127.0.0.1 --port 8000

## make test: the whole suite (SQLite; PostgreSQL too when SYNTHGOV_TEST_POSTGRES_URL is set)
test: install
	$(VENV)/bin/mypy src/synthgov
	$(PY) -m pytest -q

## make bench: peers side by side; results go to docs/benchmarks.md
bench: install
	$(PY) -m pip install --quiet -e '.[bench]' || $(PY) -m pip install --quiet --no-deps invisible-watermark
	$(PY) -m bench

## make fuzz: every hand-written parser, coverage-guided (atheris), 1,000,000 inputs each; the corpus it
## finds is kept in fuzz/corpus and replayed by the test suite
fuzz: install
	$(PY) -m pip install --quiet -e '.[fuzz]'
	for t in jpeg png webp tiff gif heif read_labels xmp exif label_json checkpoint_note witness_request; do \
	  $(PY) -m fuzz $$t --runs $${FUZZ_RUNS:-1000000} || exit 1; \
	  rm -rf fuzz/merge-tmp/$$t; $(PY) -m fuzz $$t --merge || exit 1; \
	  rm -rf fuzz/corpus/$$t && mv fuzz/merge-tmp/$$t fuzz/corpus/$$t; done

lint: install
	$(VENV)/bin/ruff check
	$(VENV)/bin/mypy src/synthgov

clean:
	rm -rf $(VENV) var bench/.corpus
