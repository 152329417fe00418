"""The real dev stack, stood up once per test session from a clean slate.

Modules run in file order and share the stack; `test_teardown.py` (last) destroys it and checks
nothing is left behind.
"""

from __future__ import annotations

import os

import pytest

from devstack import stack as stack_tool
from tests.conftest import SAMPLE
from tests.integration.helpers import STACK, failing_on_exit


@pytest.fixture(scope="session")
def outputs():
    with failing_on_exit():
        if os.environ.get("CLICKSTREAM_REUSE_STACK") == "1":
            return stack_tool.outputs(STACK)  # developers iterating on one module against a running stack
        # Start clean: whatever an earlier, interrupted run left behind must not decide this one.
        stack_tool.down(STACK)
        stack_tool.remove_leftovers(STACK)
        return stack_tool.up(STACK)


@pytest.fixture(scope="session")
def sample_loaded(outputs):
    """The bundled real sample, loaded and complete."""
    with failing_on_exit():
        stack_tool.load(STACK, SAMPLE, None, None, wait=True)
    return outputs
