"""Last module of the stack suite: `pulumi destroy` removes every container, network and volume."""

import pytest

from devstack import stack as stack_tool
from tests.integration.helpers import STACK

pytestmark = pytest.mark.stack


def test_destroy_leaves_nothing_behind(outputs):
    stack_tool.down(STACK)
    assert stack_tool.leftovers(STACK) == {"container": [], "network": [], "volume": []}
