# Thin wrapper over dev.py, which needs only Python 3.11+.
PY ?= python3

.PHONY: help install run test lint format reliability
help:    ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-8s %s\n", $$1, $$2}'
install: ## create .venv and install rmt-hub with its dev tools
	$(PY) dev.py install
run:     ## run the hub on the embedded broker
	$(PY) dev.py run
test:    ## ruff, mypy and the whole test suite
	$(PY) dev.py test
lint:    ## ruff and mypy only
	$(PY) dev.py lint
format:  ## apply ruff's formatter
	$(PY) dev.py format
reliability: ## long fault/hostile-input runs and a soak; writes bench/RESULTS.md
	$(PY) dev.py reliability
