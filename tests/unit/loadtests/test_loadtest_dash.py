"""The dashboard load test's requests, posted to the real Dash app (over a fake query layer): the server
must accept every body loadtests.dash_calls builds, as it accepts the browser's."""

import pytest

from loadtests import dash_calls
from tests.fakes import SOURCES, FakeQueries, QueryLayer
from webui import db, ids
from webui.app import create_app

ARTICLE_INPUTS = [f"{ids.ARTICLE_TITLE}.value", f"{ids.ARTICLE_LANG}.value", f"{ids.ARTICLE_MONTH}.value"]


def _article(lang, month, title, limit):
    if title != "Loadtest_article":
        return None
    return {"title": title, "lang": lang, "month": month, "incoming_total": 60, "outgoing_total": 25,
            "sources": SOURCES, "incoming": [{"title": "other-search", "type": "external", "n": 60}],
            "outgoing": [{"title": "Next", "type": "link", "n": 25}]}


# The query layer's shapes, English 2024-11 loaded, one known article.
ANSWERS = dict(
    languages=["en"],
    months=lambda lang: ["2024-11"] if lang == "en" else [],
    article=_article,
    article_exists=lambda lang, month, title: title == "Loadtest_article",
    search=["Loadtest_article"],
    trend=[{"month": "2024-11", "incoming_total": 60, "outgoing_total": 25}],
    related=[{"title": "Next", "score": 0.5}],
    paths=lambda lang, month, title, steps, limit: [{"path": [title, "Next"], "probability": 0.25}],
)


@pytest.fixture
def client(monkeypatch):
    queries: QueryLayer = FakeQueries(**ANSWERS)
    monkeypatch.setattr(db, "queries", lambda: queries)
    return create_app().server.test_client()


def post(client, callback, values, changed=()):
    response = client.post("/_dash-update-component", json=dash_calls.body(callback, values, changed))
    assert response.status_code in (200, 204), (dash_calls.label(callback), response.data[:500])
    return response.get_json() if response.status_code == 200 else {}


def test_a_page_view_as_the_renderer_makes_it(client):
    layout = client.get("/_dash-layout").get_json()
    shell, dependencies = dash_calls.components(layout), client.get("/_dash-dependencies").get_json()
    assert "/" in dash_calls.page_paths(layout)
    router = dash_calls.router(dependencies, shell)
    location = next(d["id"] for d in router["inputs"] if d["property"] == "pathname")
    values = {f"{location}.pathname": "/", f"{location}.search": "?title=Loadtest_article&lang=en&month=2024-11"}

    page = dash_calls.merge(shell, post(client, router, values, changed=list(values)))
    assert page[ids.ARTICLE_TITLE]["props"]["value"] == "Loadtest_article"
    # The page's layout carries the article itself; the main callback waits for a change of choice.
    assert "60" in str(page[ids.ARTICLE_RESULT]["props"]["children"])
    fired = dash_calls.initial_callbacks(dependencies, set(page) - set(shell), set(page))
    main = dash_calls.find_callback(dependencies, ARTICLE_INPUTS)
    assert fired and main not in fired and router not in fired
    assert not any(cb.get("prevent_initial_call") for cb in fired)
    for callback in fired:
        page = dash_calls.merge(page, post(client, callback, dash_calls.values_of(page)))
    assert "60" in str(page[ids.ARTICLE_RESULT]["props"]["children"])


def test_typing_and_picking_a_title_fire_what_the_browser_fires(client):
    dependencies = client.get("/_dash-dependencies").get_json()
    typing = f"{ids.ARTICLE_TITLE}.search_value"
    for callback in dash_calls.dependents(dependencies, typing):
        post(client, callback, {typing: "Loadt", ARTICLE_INPUTS[1]: "en", ARTICLE_INPUTS[2]: "2024-11"}, [typing])
    main = dash_calls.find_callback(dependencies, ARTICLE_INPUTS)
    changes = dict(zip(ARTICLE_INPUTS, ("Loadtest_article", "en", "2024-11")))
    answer = post(client, main, changes, changed=[ARTICLE_INPUTS[0]])
    assert "60" in str(answer["response"][ids.ARTICLE_RESULT]["children"])
    assert main in dash_calls.dependents(dependencies, ARTICLE_INPUTS[0])


def test_bodies_match_the_renderers_shape():
    single = {"output": "a.children", "inputs": [{"id": "b", "property": "value"}], "state": []}
    multi = {"output": "..a.children...c.data@1f2e..", "inputs": [{"id": "b", "property": "value"}],
             "state": [{"id": "d", "property": "value"}]}
    assert dash_calls.body(single, {"b.value": 1}, ["b.value"]) == {
        "output": "a.children", "outputs": {"id": "a", "property": "children"},
        "inputs": [{"id": "b", "property": "value", "value": 1}],
        "changedPropIds": ["b.value"], "parsedChangedPropsIds": ["b.value"]}
    body = dash_calls.body(multi, {"d.value": "x"})
    assert body["outputs"] == [{"id": "a", "property": "children"}, {"id": "c", "property": "data@1f2e"}]
    assert body["inputs"] == [{"id": "b", "property": "value"}]  # not in the layout: the browser sends undefined
    assert body["state"] == [{"id": "d", "property": "value", "value": "x"}]
    assert dash_calls.label(multi) == "a.children"


def test_layout_walk_finds_nested_components_intervals_and_links():
    tree = {"type": "Div", "namespace": "h", "props": {"children": [
        {"type": "Link", "namespace": "d", "props": {"href": "/month", "children": "Month"}},
        {"type": "Link", "namespace": "d", "props": {"href": "/month", "children": "again"}},
        {"type": "Div", "namespace": "h", "props": {"id": "x", "children": {
            "type": "Interval", "namespace": "d", "props": {"id": "tick", "interval": 2000}}}},
        {"type": "Interval", "namespace": "d", "props": {"id": "off", "disabled": True}},
        {"type": "Link", "namespace": "d", "props": {"href": "https://elsewhere.example/"}},
    ]}}
    found = dash_calls.components(tree)
    assert set(found) == {"x", "tick", "off"}
    assert dash_calls.page_paths(tree) == ["/month"] and dash_calls.intervals(found) == {"tick": 2.0}
    assert dash_calls.values_of(found)["tick.interval"] == 2000
    page = dash_calls.merge(found, {"multi": True, "response": {"tick": {"interval": 30000}, "new": {"data": [1]}}})
    assert page["tick"]["props"]["interval"] == 30000 and page["new"]["props"] == {"data": [1]}
    assert found["tick"]["props"]["interval"] == 2000  # merge copies
