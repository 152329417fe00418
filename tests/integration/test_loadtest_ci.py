"""The short load test of `make test`: the `ci` scenario of loadtests/thresholds.toml against the
running stack, so a change that breaks the read path under load fails CI (relaxed thresholds;
the real targets are `make loadtest`'s, recorded in docs/benchmarks.md)."""

import subprocess
import sys

import pytest

from tests.integration.helpers import STACK

pytestmark = pytest.mark.stack


def test_ci_scenario_meets_its_thresholds(sample_loaded, tmp_path):
    done = subprocess.run([sys.executable, "-m", "loadtests.run", "ci", "--stack", STACK, "--out", str(tmp_path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
