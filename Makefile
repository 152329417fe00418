# Everything a user runs. `make up` and `make test` set up what they need first (toolchain/setup.sh).
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
STACK ?= dev
SAMPLE := tests/data/clickstream-enwiki-2024-11.tsv
ENV := . toolchain/env.sh &&
FILE ?=
WIKI ?=
MONTH ?=

.PHONY: help setup up down load test lint test-unit test-faults test-scaling test-multihost faults-report lock stack loadtest bench-producer bench-pipeline bench-analytics bench-render

help:
	@echo "make up          stand up the $(STACK) stack, load the bundled sample, print the dashboard URL"
	@echo "make test        run every test suite (unit, Spark local, end-to-end on the real stack)"
	@echo "make down        pulumi destroy the $(STACK) stack"
	@echo "make load FILE=clickstream-<lang>wiki-<YYYY-MM>.tsv[.gz] [WIKI=xx] [MONTH=YYYY-MM] [SKIP_DISK_CHECK=1]"
	@echo "make test-unit   ruff, then only the tests that need no stack"
	@echo "make lint        ruff check (pyproject.toml [tool.ruff])"
	@echo "make test-faults the full fault-injection suite on a fresh $(STACK) stack (docs/reliability.md)"
	@echo "make faults-report [FILE=run.jsonl]  the latest fault run's verdicts as docs/reliability.md's table"
	@echo "make test-scaling scale every cluster out and back in by config during loads, under Locust (docs/scaling.md)"
	@echo "make test-multihost the pipeline across two Docker daemons (devstack/hostb.py), one cut off and back (root)"
	@echo "make lock        re-pin requirements.lock from requirements.in"
	@echo "make bench-producer [ROWS=1000000]  our producer vs Kafka's ProducerPerformance on the $(STACK) stack"
	@echo "make bench-pipeline [ROWS=300000] [ARGS=--skip-analytics]  file to queryable on the $(STACK) stack, phase by phase; sink vs the ring's best"
	@echo "make bench-analytics [ROWS=1000000] [ARGS=--exact-related]  the analytics alone, Spark local mode, no stack"
	@echo "make bench-render   first render of the article page in headless chromium; refreshes docs/screenshots/"
	@echo "make loadtest [SCENARIO=api] [TASKSET=0]  Locust against the $(STACK) stack, thresholds checked (docs/loadtests.md)"

setup:
	@bash toolchain/setup.sh

stack: setup
	@$(ENV) python -m devstack.stack up --stack $(STACK)

up: stack
	@$(ENV) python -m devstack.stack load --stack $(STACK) --file $(SAMPLE) --wait
	@$(ENV) python -m devstack.stack url --stack $(STACK)

down: setup
	@$(ENV) python -m devstack.stack down --stack $(STACK)

load: setup
	@test -n "$(FILE)" || { echo "usage: make load FILE=path [WIKI=xx] [MONTH=YYYY-MM]"; exit 2; }
	@$(ENV) python -m devstack.stack load --stack $(STACK) --file "$(FILE)" \
	  $(if $(WIKI),--lang $(WIKI)) $(if $(MONTH),--month $(MONTH)) $(if $(SKIP_DISK_CHECK),--skip-disk-check) --wait

# The 15 slowest tests are printed at the end of every run (docs/testing.md).
test: setup lint
	@$(ENV) python -m pytest tests --durations=15

# ruff, configured in pyproject.toml; part of test and test-unit, so of CI too.
lint: setup
	@$(ENV) ruff check .

# Every fault scenario on a fresh stack, then destroy it; verdicts in $CLICKSTREAM_CACHE/faults/.
test-faults: setup
	@$(ENV) CLICKSTREAM_FAULTS=full python -m pytest tests/integration/test_faults.py \
	  tests/integration/test_faults_full.py tests/integration/test_teardown.py
	@$(MAKE) --no-print-directory faults-report

# The verdicts of the latest fault run as docs/reliability.md's table (FILE= another .jsonl).
faults-report: setup
	@$(ENV) python -m devstack.faults_report $(FILE)

# Scale out and back in with `pulumi up` during loads while Locust reads; a fresh stack, destroyed after.
test-scaling: setup
	@$(ENV) CLICKSTREAM_SCALING=1 python -m pytest tests/integration/test_scale_under_load.py tests/integration/test_teardown.py

# A second dockerd in its own network namespace as host b; the multihost stack across a and b; b cut off.
test-multihost: setup
	@$(ENV) CLICKSTREAM_MULTIHOST=1 python -m pytest tests/integration/test_multihost.py

test-unit: setup lint
	@$(ENV) python -m pytest tests -m "not stack"

lock:
	@$(ENV) uv pip compile requirements.in --python-version 3.11 --python-platform x86_64-manylinux_2_36 --generate-hashes -o requirements.lock

# Scenarios: loadtests/thresholds.toml; results: $CLICKSTREAM_CACHE/loadtests/<time>-<scenario>/.
loadtest: setup
	@$(ENV) python -m loadtests.run $(or $(SCENARIO),api) --stack $(STACK) $(if $(TASKSET),--taskset $(TASKSET))

# Our producer against Kafka's own ProducerPerformance, same cluster and settings (docs/benchmarks.md).
bench-producer: setup
	@$(ENV) python -m bench.producer --stack $(STACK) --rows $(or $(ROWS),1000000)

# A synthetic month from file to queryable, phase by phase, and the bulk sink against the ring's best write shape.
bench-pipeline: setup
	@$(ENV) python -m bench.pipeline --stack $(STACK) --rows $(or $(ROWS),300000) $(ARGS)

# The analytics alone, in Spark local mode on this machine: no stack (docs/benchmarks.md).
bench-analytics: setup
	@$(ENV) python -m bench.analytics --rows $(or $(ROWS),1000000) $(ARGS)

# First render of the article page in headless chromium, and the README's screenshots.
bench-render: setup
	@$(ENV) python -m bench.render --stack $(STACK) --screenshots docs/screenshots
