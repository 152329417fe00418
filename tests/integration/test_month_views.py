"""The month-level views on the real stack, against ground truth computed straight from the files:
totals and source mix, top articles, autocomplete, trend, movers between two loaded months, and
the batch analytics once they have run.

Runs on the shared session stack. Each module loads months no other module loads: a month reloaded
with *different* content keeps the rows the new file lacks (see docs/design.md).
"""

from __future__ import annotations

import unicodedata
from collections import Counter

import pytest

from producer import generate
from devstack import stack as stack_tool
from devstack.progress import wait_for_progress
from tests.conftest import read_sample
from tests.integration.helpers import STACK, api

pytestmark = pytest.mark.stack
OTHERS = ("other-search", "other-external", "other-internal", "other-empty", "other-other")
SOURCE_KEYS = ("link", "other") + OTHERS


def incoming_totals(rows) -> Counter:
    totals = Counter()
    for _, curr, _, n in rows:
        totals[curr] += n
    return totals


def source_mix(rows) -> dict[str, int]:
    """Clicks by source key (an other-* source by name, else the row's type), every key present."""
    mix = Counter()
    for prev, _, type_, n in rows:
        mix[prev if prev in OTHERS else type_] += n
    return {k: mix.get(k, 0) for k in SOURCE_KEYS}


def all_titles(rows) -> set[str]:
    return {t for prev, curr, _, _ in rows for t in (prev, curr)}


def test_month_totals_and_source_mix(sample_loaded):
    rows = read_sample()
    status, got = api(sample_loaded, "month", lang="en", month="2024-11")
    assert status == 200
    assert (got["rows"], got["total_clicks"]) == (len(rows), sum(r[3] for r in rows))
    assert got["sources"] == source_mix(rows)


def test_top_articles_in_order(sample_loaded):
    totals = incoming_totals(read_sample())
    expected = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:100]
    status, got = api(sample_loaded, "top", lang="en", month="2024-11", limit=100)
    assert status == 200
    assert [(a["title"], a["incoming_total"]) for a in got["articles"]] == expected


def folded(text: str) -> str:
    """The search's rule, written out here: compatibility forms, case, combining marks and `_` ignored."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("_", " ")


@pytest.mark.parametrize("typed", ["Ma", "ma", "main p", "Th", "2", "Σ", "Zzzzqx", "maori", "ROSÉ", "viktor gyok"])
def test_search_finds_every_match_ignoring_case_and_accents_most_read_first(sample_loaded, typed):
    rows = read_sample()
    totals = incoming_totals(rows)
    matches = [t for t in all_titles(rows) if folded(t).startswith(folded(typed))]
    expected = sorted(matches, key=lambda t: (-totals[t], t))[:50]
    status, got = api(sample_loaded, "search", q=typed, lang="en", month="2024-11", limit=50)
    assert status == 200 and got["titles"] == expected


def test_trend_of_an_article(sample_loaded):
    rows = read_sample()
    outgoing = sum(n for prev, _, _, n in rows if prev == "Main_Page")
    status, got = api(sample_loaded, "trend", title="Main_Page", lang="en")
    assert status == 200
    assert {"month": "2024-11", "incoming_total": incoming_totals(rows)["Main_Page"], "outgoing_total": outgoing,
            "sources": source_mix([r for r in rows if r[1] == "Main_Page"])} in got["months"]


def test_movers_against_the_previous_month_loaded_after(sample_loaded, tmp_path):
    """October is loaded after November, so November's movers must be recomputed when it lands."""
    october = tmp_path / "clickstream-enwiki-2024-10.tsv"
    generate.write(october, 3_000, 11, "en", "2024-10")
    # Overlap the months: October also holds 200 of November's rows, doubled. A dump holds each
    # (prev, curr) once, so synthetic rows with those keys make way.
    shared = [(p, c, t, n * 2) for p, c, t, n in read_sample()[:200]]
    keys = {(p, c) for p, c, _, _ in shared}
    rows = [r for r in read_sample(october) if (r[0], r[1]) not in keys] + shared
    october.write_text("".join(f"{p}\t{c}\t{t}\t{n}\n" for p, c, t, n in rows), encoding="utf-8")
    stack_tool.load(STACK, october, None, None, wait=True)
    now, before = incoming_totals(read_sample()), incoming_totals(rows)
    changes = {t: now[t] - before[t] for t in set(now) | set(before) if now[t] != before[t]}
    expected = sorted(changes.items(), key=lambda kv: (-abs(kv[1]), kv[0]))[:100]
    status, got = api(sample_loaded, "movers", lang="en", month="2024-11", limit=100)
    assert status == 200
    assert [(m["title"], m["change"], m["incoming_total"], m["previous_total"]) for m in got["movers"]] == \
        [(t, c, now[t], before[t]) for t, c in expected]
    status, got = api(sample_loaded, "months", lang="en")
    assert status == 200 and got["months"][:2] == ["2024-11", "2024-10"]


def test_analytics_are_stored_once_they_have_run(sample_loaded):
    # Analytics run in the driver after `complete`: its finished tasks are their progress.
    probe = stack_tool.probe(STACK, sample_loaded, "en", "2024-11")
    try:
        _, (status, ranks) = wait_for_progress(
            lambda: (probe(), api(sample_loaded, "pagerank", lang="en", month="2024-11", limit=50)),
            lambda state: state[1][0] == 200 and bool(state[1][1].get("articles")), "PageRank of en 2024-11 stored",
            interval=5, describe=lambda state: f"{state[0]}; pagerank answered {state[1][0]}")
    finally:
        probe.close()
    assert ranks["articles"], "no PageRank stored"
    scores = [a["score"] for a in ranks["articles"]]
    assert scores == sorted(scores, reverse=True) and 0 < sum(scores) <= 1.0 + 1e-9
    assert ranks["articles"][0]["title"] == "Main_Page"  # by far the most clicked-into article
    status, related = api(sample_loaded, "related", title="Main_Page", lang="en", month="2024-11")
    assert status == 200 and all(r["title"] != "Main_Page" for r in related["related"])
    links = {(p, c): n for p, c, _, n in read_sample() if p not in OTHERS}
    for k in (1, 2):
        status, got = api(sample_loaded, "paths", title="Main_Page", lang="en", month="2024-11", k=k)
        assert status == 200
        for path in got["paths"]:
            assert len(path["path"]) == k + 1 and path["path"][0] == "Main_Page"
            assert all((a, b) in links for a, b in zip(path["path"], path["path"][1:]))
