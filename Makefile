# The README's commands. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := webapp

.PHONY: run test fuzz lint install install-dev node browser db seed bench clean screenshots

$(BIN)/activate: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(BIN)/activate

install: $(BIN)/activate

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch node_modules/.installed

node: node_modules/.installed

# Debian's Chromium for the browser test (Playwright drives it; nothing is downloaded by Playwright).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian chromium for the browser test"; \
	  SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

db: install
	$(BIN)/flask db upgrade

seed: db
	$(BIN)/flask seed-demo

run: install node seed
	@echo ""
	@echo "Switchboard on http://127.0.0.1:$(PORT)/  (log in with a demo user above)"
	@echo "  curl -s -X POST http://127.0.0.1:$(PORT)/api/auth/login -H 'Content-Type: application/json' \\"
	@echo "       -d '{\"email\": \"acme@demo.switchboard\", \"password\": \"acme-demo-pass\"}'"
	@echo ""
	PORT=$(PORT) $(BIN)/python wsgi.py

test: install node browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# The dashboard pictures in README.md and docs/dashboard.md (a throwaway server
# with a day of activity, Chromium signed in as each role).
screenshots: install node browser
	$(BIN)/python docs/screenshots/capture.py

# schemathesis on every REST operation of /openapi.json against a live server, with
# many more examples per operation than `make test` (8); FUZZ_EXAMPLES=1000 for more.
FUZZ_EXAMPLES ?= 200
fuzz: install
	OPENAPI_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) $(BIN)/python -m pytest tests/api/test_openapi_fuzz.py $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# Switchboard side by side with the Node socket.io reference, small sizes (~3 min).
# The issue's sizes: make bench BENCH="compare --full"; every benchmark: BENCH=all.
BENCH ?= compare
bench: install node
	$(BIN)/python -m bench $(BENCH)

clean:
	rm -rf $(VENV) node_modules switchboard.db .pytest_cache .mypy_cache .ruff_cache
