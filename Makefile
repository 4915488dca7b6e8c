# The README's two commands are `make up` and `make test`; the rest serve them.
SHELL := /bin/bash
VENV := .venv
STAMP := $(VENV)/.bootstrapped

.PHONY: up test check bench bootstrap clean

$(STAMP): scripts/bootstrap requirements.txt requirements-dev.txt pyproject.toml
	scripts/bootstrap
	@touch $@

bootstrap: $(STAMP)

## up: the whole stack on this machine (Redis, the service, Prometheus, ...)
up: $(STAMP)
	$(VENV)/bin/cachewatch up

## test: lint, types, then every test against real Redis, Prometheus, PostgreSQL, Chromium
test: $(STAMP)
	scripts/check
	$(VENV)/bin/pytest

check: $(STAMP)
	scripts/check

## bench: the benchmarks; writes docs/benchmarks.md
bench: $(STAMP)
	$(VENV)/bin/python -m bench

clean:
	rm -rf .state
