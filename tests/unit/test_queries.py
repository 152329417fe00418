from collections import namedtuple

from contract.schema import SOURCE_BUCKETS
from webui.queries import CQL, Queries

Edge = namedtuple("Edge", "prev curr type n")
Stats = namedtuple("Stats", "incoming_total outgoing_total sources")
Total = namedtuple("Total", "total")


class FakeSession:
    """Answers prepared statements from canned rows (our own boundary: the query layer's session)."""

    def __init__(self, answers):
        self.answers = answers
        self.calls = []

    def prepare(self, cql):
        return next(name for name, text in CQL.items() if text == cql)

    def execute(self, name, params):
        self.calls.append((name, params))
        answer = self.answers.get(name, [])
        return answer(params) if callable(answer) else answer


def test_article_uses_stored_stats_and_fills_every_source_key():
    session = FakeSession({
        "stats": [Stats(30, 12, {"other-search": 20, "link": 10})],
        "incoming": [Edge("other-search", "A", "external", 20), Edge("B", "A", "link", 10)],
        "outgoing": [Edge("A", "C", "link", 12)],
    })
    article = Queries(session).article("en", "2024-11", "A", 10)
    assert article["incoming_total"] == 30 and article["outgoing_total"] == 12
    assert article["sources"] == {"link": 10, "other": 0, "other-search": 20, "other-external": 0,
                                  "other-internal": 0, "other-empty": 0, "other-other": 0}
    assert article["incoming"][0] == {"title": "other-search", "type": "external", "n": 20}
    assert ("outgoing", ("en", "2024-11", "A", 0, 10)) in session.calls


def test_article_before_completion_sums_landed_rows():
    session = FakeSession({
        "incoming": [Edge("B", "A", "link", 10)],
        "all_incoming": [Edge("B", "A", "link", 10), Edge("other-empty", "A", "external", 5)],
        "outgoing_total": [Total(7)],
    })
    article = Queries(session).article("en", "2024-11", "A", 1)
    assert (article["incoming_total"], article["outgoing_total"]) == (15, 7)
    assert article["sources"]["other-empty"] == 5


def test_other_sources_merge_all_buckets_in_order():
    def outgoing(params):
        bucket = params[3]
        return [Edge("other-search", f"T{bucket:02d}", "external", 100 + bucket)]

    session = FakeSession({"outgoing": outgoing, "stats": [Stats(0, 1, {})]})
    article = Queries(session).article("en", "2024-11", "other-search", 3)
    assert [r["title"] for r in article["outgoing"]] == [f"T{b:02d}" for b in (SOURCE_BUCKETS - 1, SOURCE_BUCKETS - 2, SOURCE_BUCKETS - 3)]


def test_unknown_article_is_none():
    assert Queries(FakeSession({})).article("en", "2024-11", "Nope", 10) is None
