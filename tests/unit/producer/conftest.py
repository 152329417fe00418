"""Fixtures of the producer's tests: a fake dumps site with two months."""

from __future__ import annotations

import pytest

from tests.fakes import FakeDumps, sample_gz


@pytest.fixture()
def site():
    gz = sample_gz()
    tree = {
        "2024-10": {"clickstream-enwiki-2024-10.tsv.gz": gz, "clickstream-dewiki-2024-10.tsv.gz": gz[:100]},
        "2024-11": {"clickstream-enwiki-2024-11.tsv.gz": gz},
    }
    with FakeDumps(tree) as fake:
        yield fake
