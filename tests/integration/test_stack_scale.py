"""A generated month of a million rows through the real stack, checked exactly against its file.

The path a real month takes (the producer, Kafka, the stream, finalize's bulk writes to every replica, the
API), at a size where Spark tasks, SSTables and API pages each come in many pieces. Ground truth comes from
the file with the csv module (`bench.check_month`), independently of the pipeline's parser and transforms.

This module runs after the other stack modules (file order, before test_teardown.py): the month's analytics
then run while only the teardown is left, and delay no other test.
"""

from __future__ import annotations

import pytest

from bench import check_month
from bench.producer import bench_file
from devstack import stack as stack_tool
from tests.integration.helpers import STACK, api

pytestmark = pytest.mark.stack

ROWS = 1_000_000
LANG, MONTH = "en", "2001-04"


def test_a_million_row_month_lands_exactly(outputs):
    path = bench_file(ROWS, LANG, MONTH)
    stack_tool.load(STACK, path, None, None, wait=True)
    status, month = api(outputs, "month", lang=LANG, month=MONTH)
    assert status == 200 and month["rows"] == ROWS, month
    summary, wrong = check_month.check(f"{outputs['webUrl']}/api/v1", path, LANG, MONTH, sample=1000,
                                       paged_articles=3)
    assert not wrong, f"{summary}; first differences: {wrong[:5]}"
