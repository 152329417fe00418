"""Tests of the fake dumps site the producer's tests use (tests/fakes.py FakeDumps).

`FakeDumps` serves index pages in the layout of the real site (an autoindex of month folders, each
listing its dumps and an md5sums file), honours `Range: bytes=N-`, and can misbehave on demand:
cut a transfer after some bytes, publish a wrong md5, or ignore Range.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest

from tests.fakes import FakeDumps, sample_gz


def test_the_fake_serves_ranges_and_cuts(site: FakeDumps, tmp_path: Path):
    url = site.base + "2024-11/clickstream-enwiki-2024-11.tsv.gz"
    request = urllib.request.Request(url, headers={"Range": "bytes=10-"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 206 and r.read() == sample_gz()[10:]
    site.cut_after["clickstream-enwiki-2024-11.tsv.gz"] = 50
    with pytest.raises(Exception), urllib.request.urlopen(url, timeout=5) as r:
        r.read()
