# The two commands a newcomer needs: `make run` and `make test`. Both build .venv first.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: run test check install install-dev mutate

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

run: install
	@test -f .env || { cp .env.example .env; echo "created .env from .env.example"; }
	$(BIN)/flask --app helpline run --port $${PORT:-5000}

# Check flows/ and content/ before anything reaches a texter or caller (content/README.md).
check: install
	LOG_LEVEL=$${LOG_LEVEL:-WARNING} $(BIN)/flask --app helpline check $(CHECK_ARGS)

# pytest exits 5 when it collected no tests: that is a failure here, never a pass.
test: install-dev
	@$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest ran no tests: failing"; exit 1; fi; exit $$rc

# Mutation testing (not part of `make test`; README "Tests"): small bugs planted one at a
# time where a silent bug hurts people, each of which some test must notice. CPU-heavy: it
# runs niced, two at a time, over setup.cfg's modules and test files, SQLite only.
MUTATE_TARGETS ?= 'helpline.security.*' 'helpline.engine.xǁEngineǁcarrier_keyword__*' \
	'helpline.store.xǁStoreǁfirst_receipt__*' 'helpline.conversation.xǁHelplineǁ_in_chat__*' \
	'helpline.conversation.xǁHelplineǁ_from_rep__*' 'helpline.reps.xǁRosterǁ*chat*' \
	'helpline.reps.xǁRosterǁaccept__*' 'helpline.reps.xǁRosterǁend__*' \
	'helpline.reps.xǁRosterǁtexter_number__*' 'helpline.reps.xǁRosterǁopted_out__*' \
	'helpline.reps.x_parse_command__*'
# mutants/ is a copy of the code and tests: made afresh so that new tests count.
mutate: install-dev
	rm -rf mutants
	nice -n 15 $(BIN)/mutmut run --max-children 2 $(MUTATE_TARGETS)
	$(BIN)/mutmut results
