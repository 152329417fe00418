import datetime as dt
import re
from collections import namedtuple
from types import SimpleNamespace

import pytest

from contract.records import SOURCE_KEYS, fold
from contract.schema import SEARCH_PREFIX_CHARS, SEARCH_SCAN, SOURCE_BUCKETS, TABLES
from webui.queries import CQL, STREAM_STALE_SECONDS, Queries

Edge = namedtuple("Edge", "prev curr type n")
# source_count and destination_count are None for a month loaded before article_trend held them.
Stats = namedtuple("Stats", "incoming_total outgoing_total sources source_count destination_count",
                   defaults=(None, None))
Total = namedtuple("Total", "total edges")
Load = namedtuple("Load", "lang month status run", defaults=("r1",))
MonthStats = namedtuple("MonthStats", "rows total_clicks sources")
Top = namedtuple("Top", "rank title incoming_total")
Mover = namedtuple("Mover", "rank title incoming_total previous_total change")
Title = namedtuple("Title", "title")
Ranked = namedtuple("Ranked", "title incoming_total")
Trend = namedtuple("Trend", "month incoming_total outgoing_total sources")
Related = namedtuple("Related", "rank related score")
Path = namedtuple("Path", "rank path probability")
Rank = namedtuple("Rank", "rank title score")
Progress = namedtuple("Progress", "lag updated_at")
Host = namedtuple("Host", "address datacenter is_up")


class PreparedStub:
    """A prepared statement as the query layer sees it: a name here, plus the flags it sets."""

    def __init__(self, name):
        self.name = name
        self.is_idempotent = False


class Answered:
    """A read sent to FakeSession: `result()` gives its rows (or raises its error), as the driver's
    ResponseFuture does, and notes in the session's `events` that it was awaited."""

    def __init__(self, session, name, answer):
        self._session, self._name, self._answer = session, name, answer

    def result(self):
        self._session.events.append(("result", self._name))
        if isinstance(self._answer, Exception):
            raise self._answer
        return self._answer


class FakeSession:
    """Answers prepared statements from canned rows (our own boundary: the query layer's session).
    `events` lists each read as it is sent ("send") and as its result is awaited ("result")."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []
        self.prepared = []
        self.events = []

    def prepare(self, cql):
        stmt = PreparedStub(next(name for name, text in CQL.items() if text == cql))
        self.prepared.append(stmt)
        return stmt

    @property
    def reads(self):
        """The calls but the memo's checks of which months are complete."""
        return [call for call in self.calls if call[0] != "lang_loads"]

    def execute_async(self, statement, params):
        name = statement.name
        self.calls.append((name, params))
        self.events.append(("send", name))
        answer = self.answers.get(name, [])
        return Answered(self, name, answer(params) if callable(answer) else answer)


def _columns(create: str) -> tuple[set[str], list[str]]:
    """A CREATE TABLE's column names and its partition key columns."""
    # The first word of each comma-separated chunk: every column, plus harmless debris like `bigint>`.
    columns = {chunk.split()[0] for chunk in create[create.index("(") + 1:].split(",") if chunk.split()}
    key = re.search(r"PRIMARY KEY \(\(([^)]*)\)", create) or re.search(r"(\w+) text PRIMARY KEY", create)
    return columns, [c.strip() for c in key.group(1).split(",")]


@pytest.mark.parametrize("name", CQL)
def test_every_statement_reads_one_partition_of_a_schema_table(name):
    cql = CQL[name]
    table = re.search(r"FROM (\w+)", cql).group(1)
    assert table in TABLES
    columns, partition_key = _columns(TABLES[table])
    selected = re.match(r"SELECT (.*) FROM", cql).group(1)
    if selected != "*":
        named = [re.sub(r"^\w+\((\w+)\) AS \w+$", r"\1", c.strip()) for c in selected.split(",")]
        assert set(named) <= columns
    restricted = re.findall(r"(\w+)\s*(?:=|>=|<)\s*\?", cql)
    assert set(restricted) <= columns
    assert all(f"{key}=?" in cql for key in partition_key)


def test_article_uses_stored_stats_and_fills_every_source_key():
    session = FakeSession({
        "stats": [Stats(30, 12, {"other-search": 20, "link": 10}, 2, 1)],
        "incoming": [Edge("other-search", "A", "external", 20), Edge("B", "A", "link", 10)],
        "outgoing": [Edge("A", "C", "link", 12)],
    })
    article = Queries(session).article("en", "2024-11", "A", 10)
    assert article["incoming_total"] == 30 and article["outgoing_total"] == 12
    assert (article["source_count"], article["destination_count"]) == (2, 1)
    assert article["sources"] == {"link": 10, "other": 0, "other-search": 20, "other-external": 0,
                                  "other-internal": 0, "other-empty": 0, "other-other": 0}
    assert article["incoming"][0] == {"title": "other-search", "type": "external", "n": 20}
    assert ("outgoing", ("en", "2024-11", "A", 0, 10)) in session.calls


def test_article_before_completion_sums_landed_rows():
    session = FakeSession({
        "incoming": [Edge("B", "A", "link", 10)],
        "all_incoming": [Edge("B", "A", "link", 10), Edge("other-empty", "A", "external", 5)],
        "outgoing_total": [Total(7, 3)],
    })
    article = Queries(session).article("en", "2024-11", "A", 1)
    assert (article["incoming_total"], article["outgoing_total"]) == (15, 7)
    assert article["sources"]["other-empty"] == 5
    assert (article["source_count"], article["destination_count"]) == (2, 3)


def test_other_sources_merge_all_buckets_in_order():
    def outgoing(params):
        bucket = params[3]
        return [Edge("other-search", f"T{bucket:02d}", "external", 100 + bucket)]

    session = FakeSession({"outgoing": outgoing, "stats": [Stats(0, 1, {})]})
    article = Queries(session).article("en", "2024-11", "other-search", 3)
    assert [r["title"] for r in article["outgoing"]] == [f"T{b:02d}" for b in (SOURCE_BUCKETS - 1, SOURCE_BUCKETS - 2,
                                                                               SOURCE_BUCKETS - 3)]


def test_unknown_article_is_none():
    assert Queries(FakeSession({})).article("en", "2024-11", "Nope", 10) is None


def test_article_exists_in_a_complete_month_is_one_read_of_the_stored_totals():
    loads = {"lang_loads": [Load("en", "2024-11", "complete")]}
    session = FakeSession({**loads, "stats": [Stats(1, 0, {})]})
    assert Queries(session).article_exists("en", "2024-11", "A")
    assert session.reads == [("stats", ("en", "2024-11", "A"))]
    assert not Queries(FakeSession(loads)).article_exists("en", "2024-11", "Nope")


def test_article_exists_before_completion_sends_every_read_at_once_and_any_found_row_counts():
    session = FakeSession({"stats": [Stats(1, 0, {})]})
    assert Queries(session).article_exists("en", "2024-11", "A")
    assert [name for name, _ in session.reads] == ["stats", "incoming", "outgoing"]
    assert [event for event, name in session.events if name != "lang_loads"][:3] == ["send"] * 3
    assert not Queries(FakeSession({})).article_exists("en", "2024-11", "Nope")
    landed = FakeSession({"outgoing": [Edge("A", "B", "link", 3)]})
    assert Queries(landed).article_exists("en", "2024-11", "A")


def test_months_are_the_complete_loads_of_one_language_newest_first():
    session = FakeSession({"lang_loads": [Load("en", "2024-10", "complete"), Load("en", "2024-12", "complete"),
                                          Load("en", "2024-11", "processing"), Load("en", "2024-09", "failed")]})
    assert Queries(session).months("en") == ["2024-12", "2024-10"]
    assert session.calls == [("lang_loads", ("loads", "en"))]


def test_languages_have_a_complete_load_and_are_sorted():
    session = FakeSession({"loads": [Load("en", "2024-11", "complete"), Load("de", "2024-11", "complete"),
                                     Load("en", "2024-10", "complete"), Load("fr", "2024-11", "loading")]})
    assert Queries(session).languages() == ["de", "en"]


def test_month_fills_every_source_key_and_is_none_before_completion():
    session = FakeSession({"month_stats": [MonthStats(3, 60, {"link": 50, "other-search": 10})]})
    month = Queries(session).month("en", "2024-11")
    assert month == {"lang": "en", "month": "2024-11", "rows": 3, "total_clicks": 60,
                     "sources": {"link": 50, "other": 0, "other-search": 10, "other-external": 0,
                                 "other-internal": 0, "other-empty": 0, "other-other": 0}}
    assert Queries(FakeSession({})).month("en", "2024-11") is None


def test_ranked_lists_keep_rank_order_and_pass_the_limit():
    session = FakeSession({
        "top": [Top(1, "A", 90), Top(2, "B", 80)],
        "movers": [Mover(1, "B", 10, 70, -60), Mover(2, "A", 90, 40, 50)],
        "pagerank": [Rank(1, "A", 0.5), Rank(2, "B", 0.25)],
        "related": [Related(1, "C", 0.9)],
    })
    queries = Queries(session)
    assert queries.top("en", "2024-11", 2) == [{"title": "A", "incoming_total": 90},
                                               {"title": "B", "incoming_total": 80}]
    assert queries.movers("en", "2024-11", 2)[0] == {"title": "B", "incoming_total": 10, "previous_total": 70,
                                                     "change": -60}
    assert queries.pagerank("en", "2024-11", 2) == [{"rank": 1, "title": "A", "score": 0.5},
                                                    {"rank": 2, "title": "B", "score": 0.25}]
    assert queries.related("en", "2024-11", "A", 5) == [{"title": "C", "score": 0.9}]
    assert session.reads == [("top", ("en", "2024-11", 2)), ("movers", ("en", "2024-11", 2)),
                             ("pagerank", ("en", "2024-11", 2)), ("related", ("en", "2024-11", "A", 5))]


def test_a_short_query_is_one_read_of_its_folded_prefixs_ranked_titles():
    session = FakeSession({"search_top": [Title("Main_Page"), Title("Mainz"), Title("Maine")]})
    queries = Queries(session)
    assert queries.search("en", "2024-11", "MÄI", 3) == ["Main_Page", "Mainz", "Maine"]  # stored best first
    assert session.reads == [("search_top", ("en", "2024-11", "mai", 3))]
    for typed, prefix in [("z", "z"), ("Zü", "zu"), ("東京", "東京"), ("a_b", "a b"), ("ﬁ", "fi")]:
        session.calls.clear()
        queries.search("en", "2024-11", typed, 10)
        assert session.reads == [("search_top", ("en", "2024-11", prefix, 10))], typed


def test_a_long_query_is_one_bounded_range_read_ranked_by_incoming_clicks_then_title():
    session = FakeSession({"search_titles": [Ranked("Main_Page", 90), Ranked("Main_page_(film)", 5),
                                             Ranked("Main_Pages", 90), Ranked("Main_pagoda", None)]})
    got = Queries(session).search("en", "2024-11", "main p", 3)
    assert got == ["Main_Page", "Main_Pages", "Main_page_(film)"]
    assert session.reads == [("search_titles", ("en", "2024-11", "mai", "main p", "main p\U0010ffff", SEARCH_SCAN))]


@pytest.mark.parametrize("typed, folded", [("Zürich", "zurich"), ("ZURICH", "zurich"), ("東京都庁", "東京都庁"),
                                           ("New_York", "new york"), ("Straße", "strasse")])
def test_a_long_query_reads_the_range_of_its_fold_under_its_first_folded_characters(typed, folded):
    session = FakeSession({})
    Queries(session).search("en", "2024-11", typed, 10)
    ((name, params),) = session.reads
    assert (name, params[2:5]) == ("search_titles", (folded[:SEARCH_PREFIX_CHARS], folded, folded + "\U0010ffff"))


def test_what_the_search_returns_starts_with_the_folded_query():
    """Exact: the range read holds only titles whose fold starts with the folded query."""
    titles = ["Zürich", "Zurich_Airport", "ZÜRICH_(band)", "Zurbarán", "Zug"]
    stored = sorted(((fold(t), t) for t in titles))

    def range_read(params):
        start, stop, limit = params[3:6]
        return [Ranked(t, len(t)) for f, t in stored if start <= f < stop][:limit]

    got = Queries(FakeSession({"search_titles": range_read})).search("en", "2024-11", "zuri", 10)
    assert sorted(got) == sorted(["Zürich", "Zurich_Airport", "ZÜRICH_(band)"])


def test_nothing_to_fold_reads_nothing():
    session = FakeSession({})
    assert Queries(session).search("en", "2024-11", "", 10) == []
    assert Queries(session).search("en", "2024-11", "\u0301", 10) == []
    assert session.reads == []


def test_trend_and_paths_shapes():
    session = FakeSession({
        "trend": [Trend("2024-10", 5, 1, {"link": 5}), Trend("2024-11", 7, 2, None)],
        "paths": [Path(1, ("A", "B", "C"), 0.5)],
    })
    queries = Queries(session)
    none = dict.fromkeys(SOURCE_KEYS, 0)
    # A stored mix leaves out the sources it has no clicks of (and an empty one is null): every key is there.
    assert queries.trend("en", "A") == [
        {"month": "2024-10", "incoming_total": 5, "outgoing_total": 1, "sources": {**none, "link": 5}},
        {"month": "2024-11", "incoming_total": 7, "outgoing_total": 2, "sources": none}]
    assert queries.paths("en", "2024-11", "A", 2, 10) == [{"path": ["A", "B", "C"], "probability": 0.5}]
    assert ("paths", ("en", "2024-11", "A", 2, 10)) in session.calls


NOW = dt.datetime(2024, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_health_reports_hosts_and_the_stream_age_and_lag():
    session = FakeSession({"progress": [Progress(42, dt.datetime(2024, 12, 1, 11, 59, 30))]})
    session.cluster = SimpleNamespace(metadata=SimpleNamespace(all_hosts=lambda: [
        Host("10.0.0.1", "dc1", True), Host("10.0.0.2", "dc1", False)]))
    assert Queries(session).health(now=NOW) == {
        "status": "ok",
        "cassandra": {"status": "ok", "hosts": [{"address": "10.0.0.1", "datacenter": "dc1", "is_up": True},
                                                {"address": "10.0.0.2", "datacenter": "dc1", "is_up": False}]},
        "streaming": {"status": "ok", "age_seconds": 30.0, "lag": 42},
    }


def test_health_calls_an_old_report_stale_and_a_missing_one_unknown():
    old = NOW.replace(tzinfo=None) - dt.timedelta(seconds=STREAM_STALE_SECONDS + 1)
    stale = Queries(FakeSession({"progress": [Progress(0, old)]})).health(now=NOW)
    assert stale["status"] == "ok" and stale["streaming"]["status"] == "stale"
    assert Queries(FakeSession({})).health(now=NOW)["streaming"] == {"status": "unknown", "age_seconds": None,
                                                                     "lag": None}


def test_health_is_unavailable_when_cassandra_does_not_answer():
    report = Queries(FakeSession({"progress": RuntimeError("no host available")})).health()
    assert report["status"] == "unavailable"
    assert report["cassandra"] == {"status": "unavailable", "error": "no host available", "hosts": []}


def test_ingestion_lists_each_load_with_its_ledger_fields_newest_month_first():
    columns = ("lang month run status file checksum rows_accepted rows_rejected rejected_by_reason rows_processed "
               "rows_per_second seconds error started_at produced_at completed_at updated_at")
    Ledger = namedtuple("Ledger", columns)
    at = dt.datetime(2024, 12, 1, 12, 0, 0)
    rows = [Ledger("en", "2024-10", "r1", "complete", "a.tsv", "md5:aa", 10, 0, {}, 10, 5.0, 2.0, None, at, at, at, at),
            Ledger("en", "2024-11", "r2", "loading", "b.tsv", "md5:bb", 3, 1, {"n_below_one": 1}, None, 1.5, 2.0,
                   None, at, None, None, at)]
    loads = Queries(FakeSession({"loads": rows, "progress": [Progress(7, at)]})).ingestion()
    assert [(x["month"], x["checksum"], x["lag"]) for x in loads] == [("2024-11", "md5:bb", 7),
                                                                       ("2024-10", "md5:aa", 7)]
    assert loads[0]["rejected_by_reason"] == {"n_below_one": 1} and loads[0]["started_at"] == "2024-12-01T12:00:00Z"


def test_reads_are_memoized_for_a_few_seconds_but_ingestion_is_live():
    from webui.cache import TTLCache

    now = [0.0]
    session = FakeSession({"top": [Top(1, "A", 5)], "loads": []})
    queries = Queries(session, TTLCache(ttl=5.0, clock=lambda: now[0]))
    assert queries.top("en", "2024-11", 10) == queries.top("en", "2024-11", 10)
    assert [c[0] for c in session.calls].count("top") == 1
    queries.top("en", "2024-11", 20)  # other arguments, other entry
    now[0] = 6.0
    queries.top("en", "2024-11", 10)  # expired
    assert [c[0] for c in session.calls].count("top") == 3
    queries.ingestion(), queries.ingestion()
    assert [c[0] for c in session.calls].count("loads") == 2


def test_the_memo_evicts_the_least_recently_used_entry():
    from webui.cache import TTLCache

    cache, computed = TTLCache(ttl=60, max_entries=2), []
    for key in ("a", "b", "a", "c", "a", "b"):
        cache.get_or_compute(key, lambda k=key: computed.append(k) or k)
    assert computed == ["a", "b", "c", "b"]


def test_an_unknown_title_of_a_complete_month_is_answered_by_its_stats_alone():
    session = FakeSession({"lang_loads": [Load("en", "2024-11", "complete")]})
    assert Queries(session).article("en", "2024-11", "Nope", 10) is None
    # The edge reads went out with the stats read (one round trip), but only the stats are awaited.
    assert [name for name, _ in session.reads] == ["stats", "incoming", "outgoing"]
    assert [name for event, name in session.events if event == "result"] == ["lang_loads", "stats"]


def test_the_reads_of_one_answer_are_all_sent_before_any_is_awaited():
    session = FakeSession({"lang_loads": [Load("en", "2024-11", "complete")], "stats": [Stats(0, 1, {})],
                           "outgoing": lambda p: [Edge("other-search", f"T{p[3]:02d}", "external", 100 + p[3])],
                           "search_top": [Title("New_York")]})
    queries = Queries(session)

    def sent_then_awaited(read):
        session.events.clear()
        read()
        events = [event for event, name in session.events if name != "lang_loads"]
        return events.index("result"), events.count("send"), events.count("result")

    article = queries.article("en", "2024-11", "other-search", 3)
    assert [r["title"] for r in article["outgoing"]] == [f"T{b:02d}" for b in range(SOURCE_BUCKETS - 1,
                                                                                     SOURCE_BUCKETS - 4, -1)]
    queries.cache = type(queries.cache)()  # forget the answer, to read it again
    # stats, incoming and every bucket of outgoing: all sent before the first result is awaited.
    assert sent_then_awaited(lambda: queries.article("en", "2024-11", "other-search", 3)) == (
        2 + SOURCE_BUCKETS, 2 + SOURCE_BUCKETS, 2 + SOURCE_BUCKETS)
    assert sent_then_awaited(lambda: queries.edges("en", "2024-11", "other-search", "outgoing", 2, (101, "T01"))) == (
        2 * SOURCE_BUCKETS, 2 * SOURCE_BUCKETS, 2 * SOURCE_BUCKETS)
    assert sent_then_awaited(lambda: queries.search("en", "2024-11", "new", 5)) == (1, 1, 1)
    # Before completion the totals come from the landed rows, once the first reads found no stored
    # ones: the whole incoming partition and every bucket's outgoing total, again sent together.
    session = FakeSession({"incoming": [Edge("B", "other-search", "link", 1)], "outgoing_total": [Total(0, 0)]})
    Queries(session).article("en", "2024-11", "other-search", 3)
    totals = [event for event, name in session.events if name in ("all_incoming", "outgoing_total")]
    assert totals == ["send"] * (1 + SOURCE_BUCKETS) + ["result"] * (1 + SOURCE_BUCKETS)


def test_a_complete_months_answers_are_kept_longer_than_a_loading_ones():
    from webui.cache import TTLCache

    now = [0.0]
    loads = [Load("en", "2024-11", "complete"), Load("en", "2024-12", "processing")]
    session = FakeSession({"lang_loads": loads, "top": [Top(1, "A", 5)], "stats": [Stats(5, 0, {})]})
    queries = Queries(session, TTLCache(ttl=5.0, settled_ttl=60.0, clock=lambda: now[0], spread=lambda: 1.0))

    def reads(name):
        return [c[0] for c in session.calls].count(name)

    for month in ("2024-11", "2024-12"):
        queries.top("en", month, 10), queries.article("en", month, "A", 10)
    now[0] = 30.0  # the loading month's entries have expired, the complete one's have not
    for month in ("2024-11", "2024-12"):
        queries.top("en", month, 10), queries.article("en", month, "A", 10)
    assert (reads("top"), reads("stats")) == (3, 3)
    now[0] = 61.0
    queries.top("en", "2024-11", 10)
    assert reads("top") == 4
    # Movers and analytics change after completion (the next month's load, the batch jobs): short.
    queries.movers("en", "2024-11", 10)
    now[0] = 67.0
    queries.movers("en", "2024-11", 10)
    assert reads("movers") == 2


def test_a_reloaded_month_is_never_answered_from_its_previous_load():
    from webui.cache import TTLCache

    now = [0.0]
    session = FakeSession({"lang_loads": [Load("en", "2024-11", "complete", "first")], "top": [Top(1, "A", 5)]})
    queries = Queries(session, TTLCache(ttl=5.0, settled_ttl=600.0, clock=lambda: now[0], spread=lambda: 1.0))
    assert queries.top("en", "2024-11", 10) == [{"title": "A", "incoming_total": 5}]
    session.answers.update(lang_loads=[Load("en", "2024-11", "complete", "second")], top=[Top(1, "B", 7)])
    now[0] = 6.0  # the memo of which loads are complete has expired; the first load's top list has not
    assert queries.top("en", "2024-11", 10) == [{"title": "B", "incoming_total": 7}]


def test_settled_entries_expire_at_spread_out_times():
    from webui.cache import TTLCache

    factors = iter([1.0, 1.5, 1.0])
    cache = TTLCache(ttl=5.0, settled_ttl=100.0, clock=lambda: now, spread=lambda: next(factors))
    now, computed = 0.0, []
    for key in ("a", "b"):
        cache.get_or_compute(key, lambda k=key: computed.append(k), settled=True)
    now = 120.0
    for key in ("a", "b"):
        cache.get_or_compute(key, lambda k=key: computed.append(k), settled=True)
    assert computed == ["a", "b", "a"]


def test_every_read_is_idempotent_so_the_driver_may_speculate():
    session = FakeSession({})
    Queries(session)
    assert session.prepared and all(stmt.is_idempotent for stmt in session.prepared)


def _partition(edges, params, ties: bool, below: bool):
    """What Cassandra answers for one edges partition, clustered (n DESC, title ASC), under the cursor's
    restrictions."""
    ordered = sorted(edges, key=lambda e: (-e.n, e.prev))
    if ties:
        n, title, limit = params[-3:]
        return [e for e in ordered if e.n == n and e.prev > title][:limit]
    if below:
        n, limit = params[-2:]
        return [e for e in ordered if e.n < n][:limit]
    return ordered[:params[-1]]


def test_incoming_pages_walk_every_row_once_in_order_even_across_ties():
    edges = [Edge(f"T{i}", "A", "link", n) for i, n in enumerate([9, 5, 5, 5, 5, 3, 3, 1])]
    session = FakeSession({"incoming": lambda p: _partition(edges, p, False, False),
                           "incoming_ties": lambda p: _partition(edges, p, True, False),
                           "incoming_below": lambda p: _partition(edges, p, False, True)})
    queries, seen, after = Queries(session), [], None
    for _ in range(10):
        page, after = queries.edges("en", "2024-11", "A", "incoming", 3, after)
        seen += page
        if after is None:
            break
    assert [(e["title"], e["n"]) for e in seen] == [(e.prev, e.n) for e in sorted(edges, key=lambda e: (-e.n, e.prev))]
    assert len(seen) == 8 and after is None


def test_outgoing_pages_of_an_other_source_merge_every_bucket():
    by_bucket = {b: [Edge(f"T{b:02d}{i}", "other-search", "external", 10 * b + i) for i in range(2)]
                 for b in range(SOURCE_BUCKETS)}

    def answer(ties, below):
        # edges_out's clustering title is curr; _partition orders by prev, so swap them in.
        def read(params):
            rows = [Edge(e.curr, e.prev, e.type, e.n) for e in by_bucket[params[3]]]
            return [Edge(r.curr, r.prev, r.type, r.n) for r in _partition(rows, params, ties, below)]
        return read

    session = FakeSession({"outgoing": answer(False, False), "outgoing_ties": answer(True, False),
                           "outgoing_below": answer(False, True)})
    queries, seen, after = Queries(session), [], None
    while True:
        page, after = queries.edges("en", "2024-11", "other-search", "outgoing", 5, after)
        seen += page
        if after is None:
            break
    everything = sorted((e for rows in by_bucket.values() for e in rows), key=lambda e: (-e.n, e.curr))
    assert [e["title"] for e in seen] == [e.curr for e in everything]


def test_the_last_full_page_has_no_next():
    edges = [Edge("B", "A", "link", 2), Edge("C", "A", "link", 1)]
    session = FakeSession({"incoming": lambda p: _partition(edges, p, False, False)})
    page, after = Queries(session).edges("en", "2024-11", "A", "incoming", 2)
    assert [e["title"] for e in page] == ["B", "C"] and after is None
    assert session.reads == [("incoming", ("en", "2024-11", "A", 3))]
