"""End to end on the real dev stack: pulumi up, load the bundled real sample, compare every
article the API returns with ground truth computed straight from the file, then pulumi destroy.

The tests in this module run in order; the last one destroys the stack and checks nothing is left.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request

import pytest

from scripts import stack as stack_tool
from tests.conftest import SAMPLE, ground_truth, read_sample

pytestmark = pytest.mark.stack
STACK = "dev"
SOURCE_KEYS = ("link", "other", "other-search", "other-external", "other-internal", "other-empty", "other-other")


@pytest.fixture(scope="module")
def outputs():
    # Start clean: whatever an earlier, interrupted run left behind must not decide this one.
    stack_tool.down(STACK)
    stack_tool.remove_leftovers(STACK)
    return stack_tool.up(STACK)


def api(outputs, path: str, **params) -> tuple[int, dict]:
    url = f"{outputs['webUrl']}/api/v1/{path}?{urllib.parse.urlencode(params)}"
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_stack_is_healthy_and_exposes_only_loopback(outputs):
    status, health = api(outputs, "health")
    assert status == 200 and health["status"] == "ok"
    for endpoint in (outputs["webUrl"], outputs["kafkaBootstrap"], outputs["cassandraAdmin"], outputs["sparkMasterUi"]):
        assert "127.0.0.1" in endpoint


def test_sample_load_completes(outputs):
    stack_tool.load(STACK, SAMPLE, None, None, wait=True)
    status, body = api(outputs, "ingestion")
    (load,) = [x for x in body["loads"] if (x["lang"], x["month"]) == ("en", "2024-11")]
    assert load["status"] == "complete"
    assert load["rows_accepted"] == len(read_sample()) and load["rows_rejected"] == 0
    assert load["rows_processed"] == len(read_sample())


def test_every_article_matches_ground_truth(outputs):
    truth = ground_truth(read_sample())
    mismatches = []
    for title, expected in truth.items():
        status, got = api(outputs, "article", title=title, lang="en", month="2024-11", limit=500)
        want = {
            "title": title, "lang": "en", "month": "2024-11",
            "incoming_total": expected["incoming_total"], "outgoing_total": expected["outgoing_total"],
            "sources": {k: expected["sources"].get(k, 0) for k in SOURCE_KEYS},
            "incoming": expected["incoming"][:500], "outgoing": expected["outgoing"][:500],
        }
        if status != 200 or got != want:
            mismatches.append((title, status, got, want))
    assert not mismatches, f"{len(mismatches)} of {len(truth)} articles differ; first: {mismatches[0]}"


def test_limit_and_unknown_article(outputs):
    status, got = api(outputs, "article", title="Main_Page", lang="en", month="2024-11", limit=2)
    assert status == 200 and len(got["incoming"]) <= 2
    status, got = api(outputs, "article", title="No_such_article_in_the_sample", lang="en", month="2024-11")
    assert status == 404 and "error" in got
    status, got = api(outputs, "article", title="Main_Page", lang="en", month="2024-13")
    assert status == 400 and "month" in got["error"]


def test_destroy_leaves_nothing_behind(outputs):
    stack_tool.down(STACK)
    assert stack_tool.leftovers(STACK) == {"container": [], "network": [], "volume": []}
