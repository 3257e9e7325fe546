# The two commands a newcomer needs: `make run` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test check install install-dev

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt $(VENV)/.installed
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# The web server and the worker (timers, alerts, check-ins, purge) from Procfile.dev, with
# honcho; one Ctrl-C stops both.
run: install-dev
	@test -f .env || { cp .env.example .env; echo "created .env from .env.example"; }
	$(BIN)/honcho start -f Procfile.dev -p $${PORT:-5000}

# Check flows/ and content/ before anything reaches a texter or caller (content/README.md).
check: install
	LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(BIN)/flask --app helpline check $(CHECK_ARGS)

# pytest exits 5 when it collected no tests: that is a failure here, never a pass.
test: install-dev
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing"; exit 1; fi; exit $$rc
