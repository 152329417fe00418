"""What the load tests ask for (titles drawn 1/rank from the loaded month) and where they may send it."""

import random
from collections import Counter

import pytest

from loadtests import target, titles


def test_sample_titles_are_the_most_clicked_articles_first(sample_rows):
    totals = Counter()
    for _, curr, _, n in sample_rows:
        totals[curr] += n
    got = titles.sample_titles(limit=10)
    assert got[0] == totals.most_common(1)[0][0]
    assert [totals[t] for t in got] == sorted((totals[t] for t in got), reverse=True)
    assert titles.sample_pool().lang == "en" and titles.sample_pool().month == "2024-11"


def test_picks_follow_one_over_rank():
    pool = titles.Pool("en", "2024-11", tuple(f"T{i}" for i in range(100)), "test")
    rng = random.Random(7)
    drawn = Counter(pool.pick(rng) for _ in range(20000))
    harmonic = sum(1 / r for r in range(1, 101))
    assert drawn["T0"] / 20000 == pytest.approx(1 / harmonic, rel=0.1)
    assert drawn["T0"] / drawn["T9"] == pytest.approx(10, rel=0.3)


@pytest.mark.parametrize("payload, expected", [
    ({"lang": "en", "month": "2024-11", "articles": [{"title": "A", "incoming_total": 9}, {"title": "B"}]}, ["A", "B"]),
    ([{"rank": 1, "title": "A"}], ["A"]),
    ({"months": ["2024-11"], "rows": [{"title": "X"}]}, ["X"]),
    ({"articles": []}, []),
    ("nonsense", []),
])
def test_titles_are_read_from_any_ranked_list(payload, expected):
    assert titles.titles_in(payload) == expected


def test_the_newest_complete_load_is_used_english_first():
    loads = [{"lang": "de", "month": "2024-12", "status": "complete"},
             {"lang": "en", "month": "2024-12", "status": "complete"},
             {"lang": "en", "month": "2025-01", "status": "loading"}]
    assert titles.newest_complete_load(loads) == ("en", "2024-12")
    assert titles.newest_complete_load(loads[2:]) is None


def test_typing_uses_spaces_and_sometimes_a_lower_case_start():
    assert titles.typed("Taylor_Swift", 8, lower_first=False) == "Taylor S"
    assert titles.typed("Taylor_Swift", 3, lower_first=True) == "tay"
    assert titles.unknown_title(random.Random(1)).startswith("Loadtest_no_such_article_")


def fetcher(answers):
    calls = []

    def fetch(url):
        calls.append(url)
        for prefix, answer in answers.items():
            if url.startswith(prefix):
                if isinstance(answer, Exception):
                    raise answer
                return answer
        raise AssertionError(url)
    fetch.calls = calls
    return fetch


def test_discover_reads_the_top_titles_of_the_newest_complete_load(monkeypatch):
    monkeypatch.delenv("CLICKSTREAM_LOADTEST_LANG", raising=False)
    monkeypatch.delenv("CLICKSTREAM_LOADTEST_MONTH", raising=False)
    fetch = fetcher({"http://127.0.0.1:8050/api/v1/ingestion": {"loads": [{"lang": "de", "month": "2024-10",
                                                                           "status": "complete"}]},
                     "http://127.0.0.1:8050/api/v1/top?": {"articles": [{"title": "Berlin"}]}})
    pool = titles.discover("http://127.0.0.1:8050/", fetch)
    assert (pool.lang, pool.month, pool.titles) == ("de", "2024-10", ("Berlin",))
    assert fetch.calls[1] == "http://127.0.0.1:8050/api/v1/top?lang=de&month=2024-10&limit=500"


def test_discover_takes_the_month_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLICKSTREAM_LOADTEST_LANG", "fr")
    monkeypatch.setenv("CLICKSTREAM_LOADTEST_MONTH", "2024-09")
    fetch = fetcher({"http://h/api/v1/top?lang=fr&month=2024-09": {"articles": [{"title": "Paris"}]}})
    assert titles.discover("http://h", fetch).titles == ("Paris",)


@pytest.mark.parametrize("answers", [
    {"http://h/api/v1/ingestion": OSError("refused")},
    {"http://h/api/v1/ingestion": {"loads": []}},
    {"http://h/api/v1/ingestion": {"loads": [{"lang": "en", "month": "2024-11", "status": "complete"}]},
     "http://h/api/v1/top": {"articles": []}},
])
def test_discover_falls_back_to_the_bundled_sample(monkeypatch, answers):
    monkeypatch.delenv("CLICKSTREAM_LOADTEST_LANG", raising=False)
    pool = titles.discover("http://h", fetcher(answers))
    assert pool.source.startswith("bundled sample") and pool.titles == tuple(titles.sample_titles())


@pytest.mark.parametrize("address", ["http://127.0.0.1:8050", "http://localhost:8050/", "http://127.3.2.1",
                                     "http://[::1]:8050", "127.0.0.1:19092", "localhost:19093"])
def test_loopback_targets_are_accepted(address):
    assert target.loopback(address)


@pytest.mark.parametrize("address", ["http://10.0.0.5:8050", "http://192.168.1.2", "http://172.17.0.2:8050",
                                     "http://example.com", "http://localhost.example.com", "http://0.0.0.0:8050",
                                     "kafka-0:9092", "8.8.8.8:53", ""])
def test_every_other_target_is_refused(address):
    assert not target.loopback(address)
    assert target.check(["127.0.0.1:1", address]) == [address]
