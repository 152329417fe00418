"""End to end on the real dev stack: pulumi up, load the bundled real sample, compare every
article the API returns with ground truth computed straight from the file, then pulumi destroy.

The tests in this module run in order; the last one destroys the stack and checks nothing is left.
"""

from __future__ import annotations

import random
import threading

import pytest

from devstack import stack as stack_tool
from devstack.progress import CAP_SECONDS
from tests.conftest import SAMPLE, ground_truth, read_sample
from tests.integration.helpers import STACK, api, synthetic

pytestmark = pytest.mark.stack
SOURCE_KEYS = ("link", "other", "other-search", "other-external", "other-internal", "other-empty", "other-other")
#: An article no file but the modified sample has.
NEW_TITLE = "Clickstream_reload_test_article"


def test_stack_is_healthy_and_exposes_only_loopback(outputs):
    status, health = api(outputs, "health")
    assert status == 200 and health["status"] == "ok"
    for endpoint in (outputs["webUrl"], outputs["kafkaBootstrap"], outputs["cassandraAdmin"], outputs["sparkMasterUi"]):
        assert "127.0.0.1" in endpoint


def test_sample_load_completes(sample_loaded):
    outputs = sample_loaded
    status, body = api(outputs, "ingestion")
    (load,) = [x for x in body["loads"] if (x["lang"], x["month"]) == ("en", "2024-11")]
    assert load["status"] == "complete"
    assert load["rows_accepted"] == len(read_sample()) and load["rows_rejected"] == 0
    assert load["rows_processed"] == len(read_sample())


def mismatches(outputs, truth: dict, lang: str, month: str, titles=None) -> list:
    """Articles whose API answer differs from ground truth (all of them, or just `titles`)."""
    found = []
    for title in titles or truth:
        expected = truth[title]
        # A correctness check: a moment of storage overload (a 503) is asked again, not counted.
        status, got = api(outputs, "article", attempts=3, title=title, lang=lang, month=month, limit=500)
        want = {
            "title": title, "lang": lang, "month": month,
            "incoming_total": expected["incoming_total"], "outgoing_total": expected["outgoing_total"],
            "sources": {k: expected["sources"].get(k, 0) for k in SOURCE_KEYS},
            "source_count": len(expected["incoming"]), "destination_count": len(expected["outgoing"]),
            "incoming": expected["incoming"][:500], "outgoing": expected["outgoing"][:500],
        }
        if status != 200 or got != want:
            found.append((title, status, got, want))
    return found


def spot_titles(truth: dict, count: int = 150) -> list[str]:
    """The most clicked articles plus a seeded random sample of the rest."""
    by_clicks = sorted(truth, key=lambda t: truth[t]["incoming_total"], reverse=True)
    return by_clicks[:20] + random.Random(7).sample(by_clicks[20:], min(count, len(by_clicks) - 20))


def test_every_article_matches_ground_truth(outputs):
    truth = ground_truth(read_sample())
    bad = mismatches(outputs, truth, "en", "2024-11")
    assert not bad, f"{len(bad)} of {len(truth)} articles differ; first: {bad[0]}"


def test_same_month_loaded_twice_counts_once(outputs):
    stack_tool.load(STACK, SAMPLE, None, None, wait=True)
    truth = ground_truth(read_sample())
    bad = mismatches(outputs, truth, "en", "2024-11")
    assert not bad, f"after a reload {len(bad)} articles differ; first: {bad[0]}"


def test_a_reload_with_different_content_leaves_nothing_of_the_old_file(outputs, tmp_path):
    original = read_sample()
    shuffled = random.Random(11).sample(original, len(original))
    changed, kept = shuffled[50:100], shuffled[100:]  # and the first 50 rows are dropped
    # A new article, clicked into from search and from 19 articles the changed file still has.
    sources = sorted({p for p, _, t, _ in kept if t == "link"})[:19]
    added = [("other-search", NEW_TITLE, "external", 500)]
    added += [(p, NEW_TITLE, "link", 10 + i) for i, p in enumerate(sources)]
    rows = kept + [(p, c, t, n + 7) for p, c, t, n in changed] + added
    path = tmp_path / SAMPLE.name  # the name says en, 2024-11: the month the sample loaded
    path.write_text("".join(f"{p}\t{c}\t{t}\t{n}\n" for p, c, t, n in rows), encoding="utf-8")
    stack_tool.load(STACK, path, None, None, wait=True)
    truth = ground_truth(rows)
    bad = mismatches(outputs, truth, "en", "2024-11")
    assert not bad, f"after a reload with other rows {len(bad)} of {len(truth)} articles differ; first: {bad[0]}"
    gone = set(ground_truth(original)) - set(truth)
    assert gone and NEW_TITLE in truth
    for title in gone:
        status, got = api(outputs, "article", title=title, lang="en", month="2024-11")
        assert status == 404, (title, got)
    # The sample back, for the tests after this one; the new article goes with the file that had it.
    stack_tool.load(STACK, SAMPLE, None, None, wait=True)
    bad = mismatches(outputs, ground_truth(original), "en", "2024-11")
    assert not bad, f"after reloading the sample {len(bad)} articles differ; first: {bad[0]}"
    assert api(outputs, "article", title=NEW_TITLE, lang="en", month="2024-11")[0] == 404


def test_two_months_and_two_languages_loaded_concurrently(outputs, tmp_path):
    other_month = synthetic(tmp_path, "en", "2024-08", 20_000, seed=1)
    other_lang = synthetic(tmp_path, "de", "2024-11", 20_000, seed=2)
    errors = []

    def load(path):
        try:
            stack_tool.load(STACK, path, None, None, wait=True)
        except BaseException as err:  # noqa: BLE001 - collected and asserted below
            errors.append(err)

    threads = [threading.Thread(target=load, args=(p,)) for p in (other_month, other_lang)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CAP_SECONDS)  # each load's own wait fails once it stops moving; this is the safety net
    assert not errors
    for path, lang, month in ((other_month, "en", "2024-08"), (other_lang, "de", "2024-11")):
        truth = ground_truth(read_sample(path))
        bad = mismatches(outputs, truth, lang, month, spot_titles(truth))
        assert not bad, f"{lang} {month}: {len(bad)} articles differ; first: {bad[0]}"
    # The first month is untouched by the others.
    assert not mismatches(outputs, ground_truth(read_sample()), "en", "2024-11", ["Main_Page", "Hyphen-minus"])


def test_limit_and_unknown_article(outputs):
    status, got = api(outputs, "article", title="Main_Page", lang="en", month="2024-11", limit=2)
    assert status == 200 and len(got["incoming"]) <= 2
    status, got = api(outputs, "article", title="No_such_article_in_the_sample", lang="en", month="2024-11")
    assert status == 404 and "error" in got
    status, got = api(outputs, "article", title="Main_Page", lang="en", month="2024-13")
    assert status == 400 and "month" in got["error"]


def paged(outputs, direction: str, title: str, limit: int) -> list[dict]:
    edges, after, pages = [], "", 0
    while after is not None:
        status, page = api(outputs, direction, title=title, lang="en", month="2024-11", limit=limit, after=after)
        assert status == 200, page
        edges, after, pages = edges + page["edges"], page["next"], pages + 1
        assert pages <= 1000
    return edges


def test_every_stored_row_comes_back_through_the_pages(outputs):
    """Small pages, so the other-* sources' rows span many pages and several edges_out buckets, and ties of n
    fall across page boundaries."""
    truth = ground_truth(read_sample())
    most_in = max(truth, key=lambda t: (len(truth[t]["incoming"]), t))
    for title in ["other-search", "other-empty", "other-internal", "Main_Page"]:
        assert paged(outputs, "outgoing", title, 7) == truth[title]["outgoing"], title
    assert paged(outputs, "incoming", most_in, 3) == truth[most_in]["incoming"]
    status, got = api(outputs, "incoming", title="Main_Page", lang="en", month="2024-11", after="not-a-cursor")
    assert status == 400 and "cursor" in got["error"]
