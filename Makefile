# Everything a user runs. `make up` and `make test` set up what they need first (scripts/setup.sh).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
STACK ?= dev
SAMPLE := tests/data/clickstream-enwiki-2024-11.tsv
ENV := . scripts/env.sh &&
FILE ?=
WIKI ?=
MONTH ?=

.PHONY: help setup up down load test test-unit lock stack

help:
	@echo "make up          stand up the $(STACK) stack, load the bundled sample, print the dashboard URL"
	@echo "make test        run every test suite (unit, Spark local, end-to-end on the real stack)"
	@echo "make down        pulumi destroy the $(STACK) stack"
	@echo "make load FILE=clickstream-<lang>wiki-<YYYY-MM>.tsv[.gz] [WIKI=xx] [MONTH=YYYY-MM]"
	@echo "make test-unit   only the tests that need no stack"
	@echo "make lock        re-pin requirements.lock from requirements.in"

setup:
	@bash scripts/setup.sh

stack: setup
	@$(ENV) python -m scripts.stack up --stack $(STACK)

up: stack
	@$(ENV) python -m scripts.stack load --stack $(STACK) --file $(SAMPLE) --wait
	@$(ENV) python -m scripts.stack url --stack $(STACK)

down: setup
	@$(ENV) python -m scripts.stack down --stack $(STACK)

load: setup
	@test -n "$(FILE)" || { echo "usage: make load FILE=path [WIKI=xx] [MONTH=YYYY-MM]"; exit 2; }
	@$(ENV) python -m scripts.stack load --stack $(STACK) --file "$(FILE)" \
	  $(if $(WIKI),--lang $(WIKI)) $(if $(MONTH),--month $(MONTH)) --wait

test: setup
	@$(ENV) python -m pytest tests

test-unit: setup
	@$(ENV) python -m pytest tests -m "not stack"

lock:
	@$(ENV) uv pip compile requirements.in --python-version 3.11 --python-platform x86_64-manylinux_2_36 --generate-hashes -o requirements.lock
