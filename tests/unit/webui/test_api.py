import csv
import io
import json
import logging
import re
from urllib.parse import urlencode

import pytest

from contract.schema import MAX_PATH_STEPS
from tests.fakes import FakeQueries, QueryLayer
from webui import db
from webui.app import create_app
from webui.openapi import PREFIX, ROUTES, document

LANG_MONTH = "lang=en&month=2024-11"
KNOWN_MONTH = ("en", "2024-11")


def _known(lang, month):
    return (lang, month) in (KNOWN_MONTH, ("en", "2024-10"))


def _exists(lang, month, title):
    return _known(lang, month) and title != "Missing"


def _analysed(lang, month, title):
    return _exists(lang, month, title) and title != "Quiet"


def _in_known_month(rows):
    return lambda lang, month, limit: [dict(r) for r in rows] if (lang, month) == KNOWN_MONTH else []


# The query layer's answers. Known: en 2024-11 (and its articles, except 'Missing'); 'Quiet' is a known article
# without analytics; 2024-10 is complete but has no lists.
ANSWERS = dict(
    article=lambda lang, month, title, limit: None if title == "Missing" else {"title": title, "lang": lang,
                                                                               "month": month},
    article_exists=_exists,
    edges=lambda *call: ([{"title": "B", "type": "link", "n": 5}], (5, "B")),
    months=lambda lang: ["2024-11", "2024-10"] if lang == "en" else [],
    languages=["de", "en"],
    month=lambda lang, month: ({"lang": lang, "month": month, "rows": 3, "total_clicks": 60, "sources": {}}
                               if _known(lang, month) else None),
    top=_in_known_month([{"title": "A", "incoming_total": 90}]),
    movers=_in_known_month([{"title": "A", "incoming_total": 90, "previous_total": 10, "change": 80}]),
    search=["New_York"],
    trend=lambda lang, title: [] if title == "Missing" else [{"month": "2024-11", "incoming_total": 9,
                                                              "outgoing_total": 1, "sources": {"link": 9}}],
    related=lambda lang, month, title, limit: [{"title": "B", "score": 0.5}] if _analysed(lang, month, title) else [],
    paths=lambda lang, month, title, steps, limit: ([{"path": [title, "B"], "probability": 0.5}]
                                                    if _analysed(lang, month, title) else []),
    pagerank=_in_known_month([{"rank": 1, "title": "A", "score": 0.1}]),
    ingestion=[{"lang": "en", "month": "2024-11", "status": "complete"}],
    health={"status": "ok", "cassandra": {"status": "ok", "hosts": []}, "streaming": {"status": "unknown"}},
)


@pytest.fixture(scope="module")
def server():
    return create_app().server  # building the Dash app takes a while; one per module is enough


@pytest.fixture
def client(server, monkeypatch):
    fake: QueryLayer = FakeQueries(runs={KNOWN_MONTH: "run-1", ("en", "2024-10"): "run-0"}, **ANSWERS)
    monkeypatch.setattr(db, "queries", lambda: fake)
    client = server.test_client()
    client.fake = fake
    return client


def test_article_passes_exact_title_and_default_limit(client):
    r = client.get("/api/v1/article", query_string={"title": 'AC/DC_"x"&?', "lang": "en", "month": "2024-11"})
    assert r.status_code == 200
    assert client.fake.calls == [("article", "en", "2024-11", 'AC/DC_"x"&?', 10)]


def test_unknown_article_is_404_with_error(client):
    r = client.get("/api/v1/article?title=Missing&lang=en&month=2024-11")
    assert r.status_code == 404 and "Missing" in r.json["error"]


@pytest.mark.parametrize("url, body", [
    ("months?lang=en", {"lang": "en", "months": ["2024-11", "2024-10"]}),
    ("languages", {"languages": ["de", "en"]}),
    (f"month?{LANG_MONTH}", {"lang": "en", "month": "2024-11", "rows": 3, "total_clicks": 60, "sources": {}}),
    (f"top?{LANG_MONTH}", {"lang": "en", "month": "2024-11", "articles": [{"title": "A", "incoming_total": 90}]}),
    (f"movers?{LANG_MONTH}", {"lang": "en", "month": "2024-11", "movers": [
        {"title": "A", "incoming_total": 90, "previous_total": 10, "change": 80}]}),
    (f"search?q=new+y&{LANG_MONTH}", {"titles": ["New_York"]}),
    ("trend?title=A&lang=en", {"title": "A", "lang": "en", "months": [
        {"month": "2024-11", "incoming_total": 9, "outgoing_total": 1, "sources": {"link": 9}}]}),
    (f"related?title=A&{LANG_MONTH}", {"title": "A", "lang": "en", "month": "2024-11",
                                       "related": [{"title": "B", "score": 0.5}]}),
    (f"paths?title=A&{LANG_MONTH}", {"title": "A", "lang": "en", "month": "2024-11", "k": 3,
                                     "paths": [{"path": ["A", "B"], "probability": 0.5}]}),
    (f"pagerank?{LANG_MONTH}", {"lang": "en", "month": "2024-11",
                                "articles": [{"rank": 1, "title": "A", "score": 0.1}]}),
    ("ingestion", {"loads": [{"lang": "en", "month": "2024-11", "status": "complete"}]}),
    ("health", {"status": "ok", "cassandra": {"status": "ok", "hosts": []}, "streaming": {"status": "unknown"}}),
])
def test_routes_answer_their_documented_shape(client, url, body):
    r = client.get(f"/api/v1/{url}")
    assert r.status_code == 200 and r.json == body


def test_parameters_reach_the_query_layer_as_given(client):
    client.get("/api/v1/search", query_string={"q": "new y", "lang": "en", "month": "2024-11", "limit": "7"})
    client.get("/api/v1/paths", query_string={"title": "A", "lang": "en", "month": "2024-11", "k": "4", "limit": "2"})
    client.get("/api/v1/top?lang=en&month=2024-11&limit=1000")
    assert client.fake.calls == [("search", "en", "2024-11", "new y", 7), ("paths", "en", "2024-11", "A", 4, 2),
                                 ("top", "en", "2024-11", 1000)]


@pytest.mark.parametrize("direction", ["incoming", "outgoing"])
def test_edges_come_a_page_at_a_time_and_next_is_the_cursor_of_the_following_page(client, direction):
    first = client.get(f"/api/v1/{direction}", query_string={"title": "A/B", "lang": "en", "month": "2024-11"})
    assert first.status_code == 200
    assert first.json == {"title": "A/B", "lang": "en", "month": "2024-11",
                          "edges": [{"title": "B", "type": "link", "n": 5}], "next": first.json["next"]}
    second = client.get(f"/api/v1/{direction}", query_string={"title": "A/B", "lang": "en", "month": "2024-11",
                                                              "limit": "7", "after": first.json["next"]})
    assert second.status_code == 200
    assert [c for c in client.fake.calls if c[0] == "edges"] == [
        ("edges", "en", "2024-11", "A/B", direction, 100, None),
        ("edges", "en", "2024-11", "A/B", direction, 7, (5, "B"))]


def test_a_cursor_keeps_any_title_exactly():
    from webui.api import _cursor, cursor
    for after in [(0, "A"), (12, 'AC/DC_"x"&?=+'), (2**62, "東京" * 40), (3, "=")]:
        assert _cursor(None, cursor(after)) == after


def test_edges_of_an_unknown_article_are_404(client):
    r = client.get("/api/v1/incoming?title=Missing&lang=en&month=2024-11")
    assert r.status_code == 404 and "Missing" in r.json["error"]


def _url(path, **overrides):
    """A valid request to `path` with some parameters replaced (None drops one)."""
    valid = {"title": "A", "q": "A", "lang": "en", "month": "2024-11"}
    params = {p.name: valid[p.name] for p in ROUTES[path].params if p.name in valid} | overrides
    return PREFIX + path, {name: value for name, value in params.items() if value is not None}


BAD_INPUTS = [
    ("lang", None, "lang"), ("lang", "EN!", "language"), ("lang", "e", "language"),
    ("month", None, "month"), ("month", "2024-13", "month"), ("month", "24-11", "month"),
    ("title", None, "title"), ("title", "x" * 256, "255 bytes"), ("title", "é" * 128, "255 bytes"),
    ("q", None, "q"), ("q", "é" * 128, "255 bytes"),
    ("limit", "0", "limit"), ("limit", "-1", "limit"), ("limit", "abc", "limit"), ("limit", "²", "limit"),
    ("limit", "1" * 5000, "limit"), ("after", "1", "cursor"), ("after", "W10", "cursor"),
    ("after", "WyJ4IiwgIkEiXQ", "cursor"), ("after", "WzkyMjMzNzIwMzY4NTQ3NzU4MDgsIkEiXQ", "cursor"),
    ("after", "A" * 5000, "cursor"), ("k", "0", "k"), ("k", str(MAX_PATH_STEPS + 1), "k"), ("k", "NaN", "k"),
    ("format", "xml", "format must be one of json, csv"), ("format", "CSV", "format"), ("month", "Latest", "month"),
    # Given empty is not left out: the document's schemas refuse "" for all but a cursor.
    ("limit", "", "limit must be an integer"), ("k", "", "k must be an integer"), ("format", "", "format"),
    ("lang", "", "missing parameter 'lang'"), ("title", "", "missing parameter 'title'"),
]
BAD_REQUESTS = [(path, name, value, message) for path, route in ROUTES.items() for name, value, message in BAD_INPUTS
                if name in {p.name for p in route.params}]


@pytest.mark.parametrize("path, name, value, message", BAD_REQUESTS)
def test_bad_parameters_are_400_with_a_message_and_no_query(client, path, name, value, message):
    url, params = _url(path, **{name: value})
    r = client.get(url, query_string=params)
    assert r.status_code == 400
    assert message in r.json["error"]
    assert client.fake.calls == []


@pytest.mark.parametrize("path", [path for path, route in ROUTES.items() if "after" in {p.name for p in route.params}])
def test_an_empty_cursor_is_the_first_page(client, path):
    url, params = _url(path)
    first = client.get(url, query_string=params)
    assert first.status_code in (200, 404)
    again = client.get(url, query_string=params | {"after": ""})
    assert (again.status_code, again.get_data()) == (first.status_code, first.get_data())


@pytest.mark.parametrize("path", [path for path, route in ROUTES.items() if "limit" in {p.name for p in route.params}])
def test_each_limit_range_comes_from_the_route_table(client, path):
    (limit,) = [p for p in ROUTES[path].params if p.name == "limit"]
    url, params = _url(path, limit=str(limit.high))
    assert client.get(url, query_string=params).status_code in (200, 404)
    url, params = _url(path, limit=str(limit.high + 1))
    assert client.get(url, query_string=params).status_code == 400


@pytest.mark.parametrize("url", [
    "months?lang=fr",
    "month?lang=en&month=2023-01", "top?lang=en&month=2023-01", "movers?lang=en&month=2023-01",
    "pagerank?lang=en&month=2023-01",
    "trend?title=Missing&lang=en",
    f"related?title=Missing&{LANG_MONTH}", f"paths?title=Missing&{LANG_MONTH}",
    "related?title=A&lang=en&month=2023-01",
    "api/v1/nope", "", "article/extra",
])
def test_unknown_things_are_404_with_an_error(client, url):
    r = client.get(f"/api/v1/{url}")
    assert r.status_code == 404 and r.json["error"]


@pytest.mark.parametrize("url, key", [
    (f"related?title=Quiet&{LANG_MONTH}", "related"), (f"paths?title=Quiet&{LANG_MONTH}", "paths"),
    ("movers?lang=en&month=2024-10", "movers"), ("top?lang=en&month=2024-10", "articles"),
    ("pagerank?lang=en&month=2024-10", "articles"),
])
def test_an_empty_list_for_a_known_article_or_month_is_200(client, url, key):
    r = client.get(f"/api/v1/{url}")
    assert r.status_code == 200 and r.json[key] == []


def test_other_methods_are_a_json_405(client):
    r = client.post("/api/v1/top?lang=en&month=2024-11")
    assert r.status_code == 405 and r.json["error"] and "GET" in r.headers["Allow"]


def test_an_internal_error_is_a_json_500_without_details_and_is_logged(client, monkeypatch, caplog):
    def broken(*args):
        raise RuntimeError("secret detail")

    monkeypatch.setattr(client.fake, "top", broken)
    with caplog.at_level(logging.ERROR):
        r = client.get(f"/api/v1/top?{LANG_MONTH}")
    assert r.status_code == 500 and r.json["error"]
    assert b"secret" not in r.data and b"Traceback" not in r.data
    assert "secret detail" in caplog.text


@pytest.mark.parametrize("error", ["timed out", "unavailable", "no host"])
def test_storage_that_is_down_or_slow_is_a_503_with_retry_after(client, monkeypatch, error):
    from cassandra import ConsistencyLevel, OperationTimedOut, Unavailable
    from cassandra.cluster import NoHostAvailable

    raised = {"timed out": OperationTimedOut("errors={}, last_host=10.0.0.1"),
              "unavailable": Unavailable("1 of 2 replicas", ConsistencyLevel.LOCAL_QUORUM, 2, 1),
              "no host": NoHostAvailable("Unable to connect to any servers", {})}[error]

    def slow(*args):
        raise raised

    monkeypatch.setattr(client.fake, "article", slow)
    r = client.get(f"/api/v1/article?title=A&{LANG_MONTH}")
    assert r.status_code == 503 and type(raised).__name__ in r.json["error"]
    assert int(r.headers["Retry-After"]) > 0
    assert "503" in document()["paths"][PREFIX + "/article"]["get"]["responses"]


def test_a_bad_statement_is_still_a_500(client, monkeypatch):
    from cassandra import InvalidRequest

    def bad(*args):
        raise InvalidRequest("Undefined column name x")

    monkeypatch.setattr(client.fake, "article", bad)
    r = client.get(f"/api/v1/article?title=A&{LANG_MONTH}")
    assert r.status_code == 500 and b"Undefined" not in r.data


def test_health_is_503_when_cassandra_is_down(client, monkeypatch):
    down = {"status": "unavailable", "cassandra": {"status": "unavailable", "error": "x", "hosts": []}}
    monkeypatch.setattr(client.fake, "health", lambda: down)
    r = client.get("/api/v1/health")
    assert r.status_code == 503 and r.json["cassandra"]["status"] == "unavailable"


def test_health_is_503_when_no_session_can_be_opened(client, monkeypatch):
    def no_session():
        raise RuntimeError("NoHostAvailable")

    monkeypatch.setattr(db, "queries", no_session)
    r = client.get("/api/v1/health")
    assert r.status_code == 503 and r.json["cassandra"]["error"] == "NoHostAvailable"


NASTY = ["x" * 100_000, "%FF", "%ED%A0%80", "%00", "-1", "NaN", "1e3", " 5", "0x10", "²", "１", "🙂" * 64, "[]",
         "'; DROP"]


@pytest.mark.parametrize("path", ROUTES)
def test_no_bad_input_is_a_500(client, path):
    names = {p.name for p in ROUTES[path].params} | {"title", "limit"}
    for name in names:
        for value in NASTY:
            url, params = _url(path)
            query = "&".join(f"{k}={v}" for k, v in params.items() if k != name)
            r = client.get(f"{url}?{query}&{name}={value}")
            assert r.status_code < 500 or (path == "/health" and r.status_code == 503), (name, value)
            assert r.is_json, (name, value)


def test_openapi_document_lists_exactly_the_registered_routes(client):
    rules = {rule.rule for rule in client.application.url_map.iter_rules()
             if rule.rule.startswith(PREFIX + "/") and "<" not in rule.rule and rule.rule != PREFIX + "/"}
    served = client.get("/api/v1/openapi.json").json
    assert served["openapi"].startswith("3.1")
    assert set(served["paths"]) == rules


def test_openapi_parameters_match_the_route_table():
    for path, route in ROUTES.items():
        documented = document()["paths"][PREFIX + path]["get"]["parameters"]
        assert [p["name"] for p in documented] == [p.name for p in route.params]
        for param, spec in zip(route.params, documented):
            assert spec["required"] == (param.default is None)
            if param.kind == "integer":
                assert (spec["schema"]["minimum"], spec["schema"]["maximum"]) == (param.low, param.high)
                assert param.low <= param.default <= param.high


# format=csv: the list of a route's JSON answer, as a table.

TABLE_URLS = [f"{path}?{urlencode(params)}" for path, params in (_url(path) for path in ROUTES if ROUTES[path].table)]


def _read_csv(r):
    assert r.status_code == 200 and r.content_type == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(r.get_data(as_text=True), newline="")))


def _same_value(cell: str, value) -> bool:
    """Whether a csv cell reads back as the JSON answer's value."""
    if value is None:
        return cell == ""
    if isinstance(value, (list, dict)):
        return json.loads(cell) == value
    return type(value)(cell) == value


@pytest.mark.parametrize("url", TABLE_URLS)
def test_a_csv_answer_holds_the_json_answers_list(client, url):
    route = ROUTES[url.split("?")[0].removeprefix(PREFIX)]
    items = client.get(url).json[route.table]
    header, *rows = _read_csv(client.get(f"{url}&format=csv"))
    assert header[:len(route.columns())] == route.columns()
    assert len(rows) == len(items) > 0
    for row, item in zip(rows, items):
        values = [item.get(column) for column in header] if isinstance(item, dict) else [item]
        assert len(row) == len(values) and all(_same_value(c, v) for c, v in zip(row, values)), (row, item)


def test_titles_with_commas_quotes_line_breaks_and_any_script_round_trip(client, monkeypatch):
    nasty = ['Rock,_Paper_"and"_Scissors', "Zürich_東京", "two\nlines", "=1+1", ""]
    monkeypatch.setattr(client.fake, "top", lambda *a: [{"title": t, "incoming_total": i} for i, t in enumerate(nasty)])
    header, *rows = _read_csv(client.get(f"/api/v1/top?{LANG_MONTH}&format=csv"))
    assert header == ["title", "incoming_total"]
    assert rows == [[t, str(i)] for i, t in enumerate(nasty)]


def test_a_nested_value_is_one_json_cell_and_a_missing_one_is_empty(client, monkeypatch):
    monkeypatch.setattr(client.fake, "ingestion", lambda: [
        {"lang": "en", "month": "2024-11", "status": "failed", "rejected_by_reason": {"bad_n": 2}, "lag": None,
         "new_field": True}])
    header, row = _read_csv(client.get("/api/v1/ingestion?format=csv"))
    found = dict(zip(header, row))
    assert found["rejected_by_reason"] == '{"bad_n":2}' and found["lag"] == "" and found["run"] == ""
    assert header[-1] == "new_field" and found["new_field"] == "true"  # a key the schema lacks is kept, not dropped


def test_an_empty_list_is_a_header_alone(client):
    assert _read_csv(client.get("/api/v1/top?lang=en&month=2024-10&format=csv")) == [["title", "incoming_total"]]


@pytest.mark.parametrize("url, filename", [
    (f"top?{LANG_MONTH}", 'filename="top-en-2024-11.csv"'),
    ("languages?", 'filename="languages.csv"'),
    ("months?lang=en", 'filename="months-en.csv"'),
    (f"search?q=New_Y&{LANG_MONTH}", 'filename="search-en-2024-11-New_Y.csv"'),
    (f"incoming?title=AC/DC&{LANG_MONTH}", 'filename="incoming-en-2024-11-AC_DC.csv"; '
                                           "filename*=UTF-8''incoming-en-2024-11-AC%2FDC.csv"),
    ("trend?title=%E6%9D%B1%E4%BA%AC&lang=en", 'filename="trend-en-_.csv"; '
                                              "filename*=UTF-8''trend-en-%E6%9D%B1%E4%BA%AC.csv"),
])
def test_a_csv_answer_is_an_attachment_named_after_its_parameters(client, url, filename):
    r = client.get(f"/api/v1/{url}&format=csv")
    assert r.status_code == 200 and r.headers["Content-Disposition"] == f"attachment; {filename}"


@pytest.mark.parametrize("direction", ["incoming", "outgoing"])
def test_a_csv_page_links_to_the_next_page_which_is_csv_too(client, direction):
    first = client.get(f"/api/v1/{direction}", query_string={
        "title": 'A,"B"', "lang": "en", "month": "latest", "limit": "7", "format": "csv"})
    assert _read_csv(first) == [["title", "type", "n"], ["B", "link", "5"]]
    link = re.fullmatch(r'<([^>]+)>; rel="next"', first.headers["Link"])
    second = client.get(link.group(1))
    assert _read_csv(second)[0] == ["title", "type", "n"]
    # The link names the month that `latest` stood for, so the pages stay in one month.
    assert [c for c in client.fake.calls if c[0] == "edges"] == [
        ("edges", "en", "2024-11", 'A,"B"', direction, 7, None),
        ("edges", "en", "2024-11", 'A,"B"', direction, 7, (5, "B"))]
    assert "Link" not in client.get(f"/api/v1/{direction}?title=A&{LANG_MONTH}").headers  # JSON has `next`


def test_the_last_csv_page_has_no_link(client, monkeypatch):
    monkeypatch.setattr(client.fake, "edges", lambda *a: ([{"title": "B", "type": "link", "n": 5}], None))
    r = client.get(f"/api/v1/incoming?title=A&{LANG_MONTH}&format=csv")
    assert r.status_code == 200 and "Link" not in r.headers


def test_format_json_is_the_default_and_errors_stay_json_under_csv(client):
    assert client.get(f"/api/v1/top?{LANG_MONTH}&format=json").json == client.get(f"/api/v1/top?{LANG_MONTH}").json
    r = client.get("/api/v1/top?lang=en&month=2023-01&format=csv")
    assert r.status_code == 404 and r.json["error"]


def test_openapi_documents_csv_on_exactly_the_list_routes():
    lists = {"/top", "/movers", "/search", "/related", "/paths", "/pagerank", "/incoming", "/outgoing", "/months",
             "/languages", "/trend", "/ingestion"}
    for path, route in ROUTES.items():
        operation = document()["paths"][PREFIX + path]["get"]
        formats = [p["schema"] for p in operation["parameters"] if p["name"] == "format"]
        has_csv = "text/csv" in operation["responses"]["200"]["content"]
        assert (formats == [{"type": "string", "enum": ["json", "csv"], "default": "json"}]) == has_csv
        assert has_csv == (path in lists), path
        assert ("Link" in operation["responses"]["200"].get("headers", {})) == (path in {"/incoming", "/outgoing"})


# month=latest

MONTH_PATHS = [path for path, route in ROUTES.items() if "month" in {p.name for p in route.params}]


@pytest.mark.parametrize("path", MONTH_PATHS)
def test_month_latest_answers_as_the_newest_complete_month(client, path):
    url, params = _url(path)
    explicit = client.get(url, query_string=params)
    latest = client.get(url, query_string={**params, "month": "latest"})
    assert latest.status_code == explicit.status_code == 200 and latest.json == explicit.json
    assert ("months", "en") in client.fake.calls


@pytest.mark.parametrize("path", MONTH_PATHS)
def test_month_latest_of_a_language_without_a_complete_load_is_404(client, path):
    url, params = _url(path, lang="fr", month="latest")
    r = client.get(url, query_string=params)
    assert r.status_code == 404 and "latest" in r.json["error"] and "'fr'" in r.json["error"]
    assert client.fake.calls == [("months", "fr")]


def test_openapi_month_accepts_latest_and_months_only():
    parameters = document()["paths"][PREFIX + "/top"]["get"]["parameters"]
    schema = next(p["schema"] for p in parameters if p["name"] == "month")
    assert [v for v in ("latest", "2024-11", "latest2", "2024-13") if re.search(schema["pattern"], v)] == [
        "latest", "2024-11"]


# CORS

@pytest.mark.parametrize("url", [f"top?{LANG_MONTH}", f"top?{LANG_MONTH}&format=csv", "top?lang=en&month=2023-01",
                                 "top", "nope", "health"])
def test_every_api_answer_allows_any_origin(client, url):
    r = client.get(f"/api/v1/{url}", headers={"Origin": "https://notebook.example"})
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert "Link" in r.headers["Access-Control-Expose-Headers"]
    assert "Access-Control-Allow-Credentials" not in r.headers


def test_a_405_allows_any_origin_too(client):
    r = client.post(f"/api/v1/top?{LANG_MONTH}")
    assert r.status_code == 405 and r.headers["Access-Control-Allow-Origin"] == "*"


def test_a_preflight_allows_get_with_if_none_match(client):
    r = client.options(f"/api/v1/top?{LANG_MONTH}", headers={
        "Origin": "https://notebook.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "if-none-match"})
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.headers["Access-Control-Allow-Methods"] == "GET"
    assert r.headers["Access-Control-Allow-Headers"] == "If-None-Match"
    assert client.fake.calls == []  # a preflight asks nothing of Cassandra


def test_pages_outside_the_api_get_no_cors_headers(client):
    r = client.get("/_dash-layout")
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


IMMUTABLE_URLS = [f"article?title=A&{LANG_MONTH}", f"incoming?title=A&{LANG_MONTH}", f"outgoing?title=A&{LANG_MONTH}",
                  f"top?{LANG_MONTH}", f"search?q=new&{LANG_MONTH}", f"month?{LANG_MONTH}"]


@pytest.mark.parametrize("url", IMMUTABLE_URLS)
def test_a_complete_months_fixed_answers_carry_a_stable_etag_and_are_revalidated_before_reuse(client, url):
    first, again = client.get(f"/api/v1/{url}"), client.get(f"/api/v1/{url}")
    assert first.status_code == 200 and first.headers["ETag"] == again.headers["ETag"]
    etag, weak = first.get_etag()
    assert etag and not weak
    assert first.cache_control.public and first.cache_control.no_cache and first.cache_control.max_age is None
    assert client.get(f"/api/v1/{url}&limit=3").headers["ETag"] != first.headers["ETag"]  # other parameters


@pytest.mark.parametrize("url", IMMUTABLE_URLS)
def test_a_reload_gives_every_fixed_answer_a_new_etag(client, url):
    before = client.get(f"/api/v1/{url}")
    client.fake.runs[KNOWN_MONTH] = "run-2"
    after = client.get(f"/api/v1/{url}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.data == before.data
    assert after.headers["ETag"] != before.headers["ETag"]


def test_if_none_match_of_the_current_etag_is_a_304_without_a_body_or_a_read(client):
    url = f"/api/v1/article?title=A&{LANG_MONTH}"
    tag = client.get(url).headers["ETag"]
    client.fake.calls.clear()
    r = client.get(url, headers={"If-None-Match": tag})
    assert r.status_code == 304 and r.data == b"" and client.fake.calls == []
    assert r.headers["ETag"] == tag and r.cache_control.no_cache
    assert client.get(url, headers={"If-None-Match": '"other", ' + tag}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200


@pytest.mark.parametrize("url", IMMUTABLE_URLS)
def test_a_complete_months_fixed_answers_let_the_front_server_keep_them_a_few_seconds(client, url):
    from webui.caching import FRONT_CACHE_SECONDS

    first = client.get(f"/api/v1/{url}")
    again = client.get(f"/api/v1/{url}", headers={"If-None-Match": first.headers["ETag"]})
    assert [r.status_code for r in (first, again)] == [200, 304]
    # On the 304 too: nginx refreshes an expired entry by revalidating it (proxy_cache_revalidate).
    assert first.headers["X-Accel-Expires"] == again.headers["X-Accel-Expires"] == str(FRONT_CACHE_SECONDS)


def test_the_front_server_never_sees_a_reload_later_than_the_apps_own_memo_does():
    from webui.cache import TTL_SECONDS
    from webui.caching import FRONT_CACHE_SECONDS

    assert 0 < FRONT_CACHE_SECONDS <= TTL_SECONDS


@pytest.mark.parametrize("url", ["health", "ingestion", f"movers?{LANG_MONTH}", f"pagerank?{LANG_MONTH}",
                                 f"article?title=Missing&{LANG_MONTH}", "nope"])
def test_no_store_answers_give_the_front_server_nothing_to_keep(client, url):
    r = client.get(f"/api/v1/{url}")
    assert r.headers["Cache-Control"] == "no-store" and "X-Accel-Expires" not in r.headers


def test_a_month_not_yet_complete_gives_the_front_server_nothing_to_keep(client):
    del client.fake.runs[KNOWN_MONTH]
    assert "X-Accel-Expires" not in client.get(f"/api/v1/article?title=A&{LANG_MONTH}").headers


@pytest.mark.parametrize("url", [
    "health", "ingestion", f"movers?{LANG_MONTH}", f"related?title=A&{LANG_MONTH}", f"paths?title=A&{LANG_MONTH}",
    f"pagerank?{LANG_MONTH}", "trend?title=A&lang=en", "months?lang=en", "languages",
])
def test_live_answers_and_those_that_change_after_completion_are_no_store(client, url):
    r = client.get(f"/api/v1/{url}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers


def test_a_month_not_yet_complete_is_no_store(client):
    del client.fake.runs[KNOWN_MONTH]
    r = client.get(f"/api/v1/article?title=A&{LANG_MONTH}")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers


def test_error_answers_are_no_store(client, monkeypatch):
    def broken(*args):
        raise RuntimeError("bug")

    answers = [client.get(f"/api/v1/article?title=Missing&{LANG_MONTH}"), client.get("/api/v1/article?lang=en"),
               client.get("/api/v1/nope"), client.post(f"/api/v1/top?{LANG_MONTH}")]
    monkeypatch.setattr(client.fake, "top", broken)
    answers.append(client.get(f"/api/v1/top?{LANG_MONTH}"))
    assert [r.status_code for r in answers] == [404, 400, 404, 405, 500]
    assert all(r.headers["Cache-Control"] == "no-store" and "ETag" not in r.headers for r in answers)


def test_storage_down_while_asking_for_the_run_is_a_503_too(client, monkeypatch):
    from cassandra import OperationTimedOut

    def slow(*args):
        raise OperationTimedOut("errors={}, last_host=10.0.0.1")

    monkeypatch.setattr(client.fake, "complete_run", slow)
    r = client.get(f"/api/v1/article?title=A&{LANG_MONTH}")
    assert r.status_code == 503 and r.headers["Cache-Control"] == "no-store" and int(r.headers["Retry-After"]) > 0
