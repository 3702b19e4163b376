# Krov: `make run` serves the product with demo data; `make test` runs lint and every test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export KROV_DATA_DIR ?= $(CURDIR)/var

.PHONY: run test lint format messages bench bench-http clean install

$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	KROV_DEBUG=$${KROV_DEBUG:-1} bin/run-dev

test: $(STAMP)
	bin/test

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Extract strings, derive sr-latn from sr, compile. Translate the new entries, then run again.
messages: $(STAMP)
	cd krov && KROV_DEBUG=1 ../$(BIN)/krov makemessages --no-obsolete --no-location -l ru -l uk -l sr -l en -l de
	KROV_DEBUG=1 $(BIN)/krov sr-latn-catalogue
	cd krov && KROV_DEBUG=1 ../$(BIN)/krov compilemessages

bench: $(STAMP)
	$(BIN)/python -m bench
	$(BIN)/python -m bench.aid_matching
	$(BIN)/python -m bench.telegram_intake
	$(BIN)/python -m bench.public_pages
	$(BIN)/python -m bench.bulletins
	$(BIN)/python -m bench.rent_index
	$(BIN)/python -m bench.images
	$(BIN)/python -m bench.sealed_intake
	$(BIN)/python -m bench.sealed_browser

# Krov over HTTP against bare Django (bench/http.py); BENCH_RUNS, BENCH_DURATION to change.
bench-http: $(STAMP)
	$(BIN)/python -m bench.http

clean:
	rm -rf $(VENV) var build *.egg-info

# The production topology on 127.0.0.1 (nginx, two gunicorns, two workers, PostgreSQL,
# Redis) with faults: see bin/deploy-check. Needs root for apt-get when nginx is missing.
.PHONY: deploy-check
deploy-check: $(STAMP)
	$(BIN)/python bin/deploy-check
