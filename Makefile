# The two commands a newcomer needs: `make run` and `make test`. Every target builds .venv
# first; `make help` lists them.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: help run test check simulate install install-dev mutate

help:
	@echo "make run                      start the helpline on http://127.0.0.1:5000 (writes .env)"
	@echo "make test                     ruff, then the whole test suite (PYTEST_ARGS=... to choose)"
	@echo "make check                    check flows/ and content/ (CHECK_ARGS=--verbose)"
	@echo "make simulate                 text the helpline in the terminal (ARGS=\"voice --lang es\")"
	@echo "every other command:          .venv/bin/flask --app helpline --help"

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

# Try it without a phone: `make simulate`, `make simulate ARGS="voice"`, ARGS="sms --lang es".
simulate: install
	$(BIN)/flask --app helpline simulate $(or $(ARGS),sms)

# ruff first (pyproject.toml), then pytest. pytest exits 5 when it collected no tests: that
# is a failure here, never a pass.
test: install-dev
	$(BIN)/ruff check .
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing"; exit 1; fi; exit $$rc

# Mutation testing (not part of `make test`; README "Tests"): small bugs planted one at a
# time where a silent bug hurts people, each of which some test must notice. CPU-heavy: it
# runs niced, two at a time, over setup.cfg's modules and test files, SQLite only.
MUTATE_TARGETS ?= 'helpline.security.*' 'helpline.matching.xǁMatcherǁcarrier_keyword__*' \
	'helpline.store.lookups.x_first_receipt__*' 'helpline.chats.x_in_chat__*' \
	'helpline.rep_texts.x_*' 'helpline.reps.xǁRosterǁ*chat*' \
	'helpline.reps.xǁRosterǁaccept__*' 'helpline.reps.xǁRosterǁend__*' \
	'helpline.reps.xǁRosterǁtexter_number__*' 'helpline.reps.xǁRosterǁopted_out__*' \
	'helpline.reps.x_parse_command__*'
# mutants/ is a copy of the code and tests: made afresh so that new tests count.
mutate: install-dev
	rm -rf mutants
	nice -n 15 $(BIN)/mutmut run --max-children 2 $(MUTATE_TARGETS)
	$(BIN)/mutmut results
