"""The dashboard without a browser or Cassandra: figure builders on plain dicts, and callbacks and
layouts called directly over a fake query layer."""

import json
import re
from urllib.parse import parse_qs, urlsplit

import dash
import pytest
from dash import dash_table, dcc, html
from dash._pages import _parse_query_string
from dash.development.base_component import Component
from dash.exceptions import PreventUpdate

from tests.fakes import SOURCES, FakeQueries, QueryLayer
from webui import charts, db, ids
from webui.app import create_app

AC_DC = {
    "title": "AC/DC", "lang": "en", "month": "2024-11", "incoming_total": 60, "outgoing_total": 25,
    "sources": SOURCES,
    "incoming": [{"title": "other-search", "type": "external", "n": 30},
                 {"title": "Back_in_Black", "type": "link", "n": 20}],
    "outgoing": [{"title": "Back_in_Black", "type": "link", "n": 15}, {"title": "Bon_Scott", "type": "other", "n": 10}],
}


def _ac_dc(lang, month, title, limit):
    return {**AC_DC, "lang": lang, "month": month} if (lang, title) == ("en", "AC/DC") else None


# The query layer's shapes, with English loaded for two months and German for one.
ANSWERS = dict(
    languages=["de", "en"],
    months=lambda lang: {"en": ["2024-11", "2024-10"], "de": ["2024-11"]}.get(lang, []),
    article=_ac_dc,
    search=lambda lang, month, q, limit: ["AC/DC", "AC_Milan"][:limit],
    trend=[{"month": "2024-10", "incoming_total": 50, "outgoing_total": 20,
            "sources": {"link": 20, "other": 0, "other-search": 30, "other-external": 0, "other-internal": 0,
                        "other-empty": 0, "other-other": 0}},
           {"month": "2024-11", "incoming_total": 60, "outgoing_total": 25,
            "sources": {"link": 30, "other": 0, "other-search": 24, "other-external": 6, "other-internal": 0,
                        "other-empty": 0, "other-other": 0}}],
    related=[{"title": "Bon_Scott", "score": 0.5}],
    paths=lambda lang, month, title, steps, limit: [
        {"path": ["AC/DC", "Back_in_Black", "Bon_Scott"][:steps + 1], "probability": 0.25}],
    month=lambda lang, month: ({"lang": lang, "month": month, "rows": 7, "total_clicks": 120, "sources": SOURCES}
                               if month == "2024-11" else None),
    top=[{"title": "AC/DC", "incoming_total": 60}],
    movers=[{"title": "AC/DC", "incoming_total": 60, "previous_total": 50, "change": 10},
            {"title": "Bon_Scott", "incoming_total": 2, "previous_total": 9, "change": -7}],
    pagerank=[{"rank": 1, "title": "AC/DC", "score": 0.0123}],
    ingestion=[
        {"lang": "en", "month": "2024-11", "run": "r2", "status": "processing", "file": "f.tsv.gz",
         "rows_accepted": 1000, "rows_rejected": 3,
         "rejected_by_reason": {"blank_title": 1, "n_not_integer": 2}, "rows_processed": 500,
         "rows_per_second": 250.5, "seconds": 2.0, "error": None, "lag": 500,
         "started_at": "2024-12-01T10:00:00.123456Z", "produced_at": None, "completed_at": None,
         "updated_at": "2024-12-01T10:00:02Z"},
        {"lang": "en", "month": "2024-10", "run": "r1", "status": "complete", "file": "g.tsv.gz",
         "rows_accepted": 9, "rows_rejected": 0, "rejected_by_reason": {}, "rows_processed": 9,
         "rows_per_second": 9.0, "seconds": 1.0, "error": None, "lag": 500, "started_at": None,
         "produced_at": None, "completed_at": None, "updated_at": None},
    ],
)


class DownQueries:
    """Cassandra unreachable: every read raises, as the driver does."""

    def __getattr__(self, name):
        def fail(*args, **kwargs):
            raise ConnectionError("no host available")
        return fail


@pytest.fixture(autouse=True)
def fake(monkeypatch):
    create_app()  # registers the pages and their callbacks
    queries: QueryLayer = FakeQueries(**ANSWERS)
    monkeypatch.setattr(db, "queries", lambda: queries)
    return queries


@pytest.fixture
def down(monkeypatch):
    monkeypatch.setattr(db, "queries", lambda: DownQueries())


def walk(component):
    """Every component in a tree (children may be a component, a list, text or None)."""
    if isinstance(component, (list, tuple)):
        for child in component:
            yield from walk(child)
    elif hasattr(component, "to_plotly_json"):
        yield component
        yield from walk(getattr(component, "children", None))


def text(component) -> str:
    parts = []

    def collect(node):
        if isinstance(node, (list, tuple)):
            for child in node:
                collect(child)
        elif isinstance(node, (str, int, float)):
            parts.append(str(node))
        elif hasattr(node, "to_plotly_json"):
            collect(getattr(node, "children", None))
    collect(component)
    return " ".join(parts)


def by_id(component, id_):
    return next(c for c in walk(component) if getattr(c, "id", None) == id_)


def tables(component) -> list:
    return [c for c in walk(component) if isinstance(c, dash_table.DataTable)]


MD_LINK = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(([^)]*)\)")


def md_links(cell: str) -> list[tuple[str, str]]:
    """(text, href) of each markdown link in a cell, its text unescaped as markdown renders it."""
    return [(unescape(text), href) for text, href in MD_LINK.findall(cell)]


def unescape(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def links(component) -> list[str]:
    """Every link to a page of this explorer: dcc.Links, and markdown links in the tables' cells."""
    found = [c.href for c in walk(component) if isinstance(c, dcc.Link)]
    for table in tables(component):
        markdown = [c["id"] for c in table.columns if c.get("presentation") == "markdown"]
        found += [href for row in table.data for id_ in markdown for _, href in md_links(str(row[id_]))]
    return found


def cells(component, column: str) -> list:
    """One column's values, table after table."""
    return [row[column] for table in tables(component) for row in table.data if column in row]


def graphs(component) -> list:
    return [c.figure for c in walk(component) if isinstance(c, dcc.Graph)]


# Figure builders.

def test_sankey_article_node_carries_the_articles_real_totals():
    figure = charts.sankey(AC_DC)
    node, link = figure.data[0].node, figure.data[0].link
    # An other-* source by its friendly name, as in the treemap.
    assert list(node.label) == ["AC/DC", "Search engines", "Back in Black", "Other sources", "Back in Black",
                                "Bon Scott"]
    into = [v for t, v in zip(link.target, link.value) if t == 0]
    out = [v for s, v in zip(link.source, link.value) if s == 0]
    assert sum(into) == AC_DC["incoming_total"]  # the top 50 plus 10 folded into "Other sources"
    assert sum(out) == AC_DC["outgoing_total"]  # all shown: no "Other destinations" node
    # A click re-centres on a node's or flow's title; the article, the folded rest and an other-* source
    # (no article) have none.
    assert list(node.customdata) == ["", "", "Back_in_Black", "", "Back_in_Black", "Bon_Scott"]
    # Room above the nodes for the PNG button, which otherwise covers the first destination's label.
    assert figure.layout.margin.t >= 30 and figure.layout.margin.l == charts.MARGIN["l"]
    assert list(link.customdata) == ["", "Back_in_Black", "", "Back_in_Black", "Bon_Scott"]


def test_treemap_leaves_are_the_sources_and_each_parent_the_sum_of_its_children():
    tree = charts.sources_treemap(SOURCES).data[0]
    values = dict(zip(tree.ids, tree.values))
    assert {key: values[key] for key in SOURCES} == SOURCES
    for parent in set(tree.parents) - {""}:
        assert values[parent] == sum(v for v, p in zip(tree.values, tree.parents) if p == parent)
    assert values[charts.ALL_SOURCES] == sum(SOURCES.values())
    assert charts.sources_treemap(dict.fromkeys(SOURCES, 0)) is None


def test_movers_are_green_up_red_down_biggest_gain_on_top():
    bar = charts.movers(FakeQueries(**ANSWERS).movers("en", "2024-11", 10)).data[0]
    assert list(bar.y) == ["Bon Scott", "AC/DC"]  # plotly draws the last category at the top
    assert list(bar.x) == [-7, 10]
    assert list(bar.marker.color) == [charts.DOWN_COLOUR, charts.UP_COLOUR]


def test_trend_has_one_point_per_month_each_carrying_its_month():
    figure = charts.trend(FakeQueries(**ANSWERS).trend("en", "AC/DC"), "2024-11")
    incoming, outgoing = figure.data
    assert list(incoming.x) == ["2024-10", "2024-11"] and list(incoming.y) == [50, 60]
    assert list(outgoing.y) == [20, 25] and list(incoming.customdata) == ["2024-10", "2024-11"]
    assert len(figure.layout.shapes) == 1  # the month on show is marked


# The article page.

def test_article_renders_totals_tables_sankey_and_treemap():
    from webui.pages.article import show_article

    body = show_article("AC/DC", "en", "2024-11")
    assert "60 clicks in" in text(body) and "25 clicks out" in text(body)
    assert by_id(body, ids.ARTICLE_SANKEY).figure.data[0].type == "sankey"
    assert [f.data[0].type for f in graphs(body)] == ["sankey", "treemap"]
    assert "/?title=Back_in_Black&lang=en&month=2024-11" in links(body)
    sources = tables(body)[0].data
    assert [(r["title"], r["n"], r["share"]) for r in sources] == [
        ("Search engines", 30, 0.5), ("[Back in Black](/?title=Back_in_Black&lang=en&month=2024-11)", 20, 20 / 60)]


def test_unknown_article_is_a_message():
    from webui.pages.article import show_article

    assert "No clickstream rows for “Missing”" in text(show_article("Missing", "en", "2024-11"))


@pytest.mark.parametrize("title, lang, month, message", [
    ("", "en", "2024-11", "Pick an article"),
    ("x" * 256, "en", "2024-11", "255 bytes"),
    ("A", "EN!", "2024-11", "unknown language code"),
    ("A", "en", "2024-13", "impossible month"),
    ("A", "en", "", "No month is loaded for en"),
])
def test_bad_choices_are_explained_without_a_read(fake, title, lang, month, message):
    from webui.pages.article import show_article

    assert message in text(show_article(title, lang, month))
    assert fake.calls == []


def test_article_url_round_trips_through_the_layout():
    from webui.pages.article import layout, sync_url

    search = sync_url("AC/DC & co?", "de", "2024-11", 3)
    assert search == "?title=AC%2FDC+%26+co%3F&lang=de&month=2024-11&steps=3"
    page = layout(**_parse_query_string(search))
    assert by_id(page, ids.ARTICLE_TITLE).value == "AC/DC & co?"
    assert by_id(page, ids.ARTICLE_LANG).value == "de"
    assert by_id(page, ids.ARTICLE_MONTH).value == "2024-11"
    assert by_id(page, ids.ARTICLE_STEPS).value == 3


def test_a_page_load_renders_the_article_without_waiting_for_the_main_callback():
    from webui.pages import article

    page = article.layout(title="AC/DC")  # lang and month: the defaults, en and its newest month
    result = by_id(page, ids.ARTICLE_RESULT)
    assert "en · 2024-11" in text(result) and "60 clicks in" in text(result)
    assert text(result) == text(article.show_article("AC/DC", "en", "2024-11"))
    assert "No clickstream rows for “Missing”" in text(by_id(article.layout(title="Missing"), ids.ARTICLE_RESULT))


def test_article_layout_defaults_to_english_and_its_newest_month():
    from webui.pages.article import layout

    page = layout()
    assert by_id(page, ids.ARTICLE_MONTH).value == "2024-11"
    assert [o["value"] for o in by_id(page, ids.ARTICLE_MONTH).options] == ["2024-11", "2024-10"]
    assert by_id(page, ids.ARTICLE_LANG).value == "en"
    assert by_id(page, ids.ARTICLE_STEPS).value == 1


def test_layout_keeps_a_url_choice_that_is_not_loaded_so_the_dropdown_does_not_drop_it():
    from webui.pages.article import layout

    page = layout(title="X", lang="fr", month="2023-01", steps="9")
    assert "fr" in [o["value"] for o in by_id(page, ids.ARTICLE_LANG).options]
    assert "2023-01" in [o["value"] for o in by_id(page, ids.ARTICLE_MONTH).options]
    assert by_id(page, ids.ARTICLE_STEPS).value == 1  # out of range: the default


def test_suggestions_offer_hits_the_typed_text_and_keep_the_current_title():
    from webui.pages.article import suggest

    values = [o["value"] for o in suggest("ac m", "Main_Page", "en", "2024-11")]
    assert values == ["AC/DC", "AC_Milan", "ac_m", "Main_Page"]
    with pytest.raises(PreventUpdate):
        suggest("", "Main_Page", "en", "2024-11")


def test_clicking_the_sankey_recentres_and_the_folded_rest_does_not():
    from webui.pages.article import recentre

    title, options = recentre({"points": [{"label": "Bon Scott", "customdata": "Bon_Scott"}]})
    assert title == "Bon_Scott" and options == [{"label": "Bon Scott", "value": "Bon_Scott"}]
    for click in ({"points": [{"label": "Other sources", "customdata": ""}]}, None):
        with pytest.raises(PreventUpdate):
            recentre(click)


def test_the_trend_compares_the_source_mix_with_the_month_loaded_before():
    from webui.pages.article import show_trend

    body = show_trend("AC/DC", "en", "2024-11")
    assert "Source mix: 2024-11 against 2024-10" in text(body)
    (table,) = tables(body)
    shares = {r["source"]: [round(r[k], 6) for k in ("share", "before", "change")] for r in table.data}
    # Only the sources with clicks in either month; shares of the article's incoming clicks.
    assert shares == {"Links in articles": [0.5, 0.4, 0.1], "Search engines": [0.4, 0.6, -0.2],
                      "Other websites": [0.1, 0.0, 0.1]}
    assert [r["source"] for r in table.data][0] == "Links in articles"  # the largest share first
    # The earliest month has nothing before it to compare with.
    assert "no source mix to compare" in text(show_trend("AC/DC", "en", "2024-10"))


def test_clicking_the_trend_shows_that_month_if_it_is_offered():
    from webui.pages.article import pick_month

    offered = [{"label": "2024-10", "value": "2024-10"}]
    assert pick_month({"points": [{"customdata": "2024-10"}]}, offered) == "2024-10"
    with pytest.raises(PreventUpdate):
        pick_month({"points": [{"customdata": "2023-01"}]}, offered)


def test_changing_language_keeps_the_month_if_loaded_else_takes_the_newest():
    from webui.pages.article import language_changed

    assert language_changed("en", "2024-10")[1] == "2024-10"
    options, month = language_changed("de", "2024-10")
    assert month == "2024-11" and options == [{"label": "2024-11", "value": "2024-11"}]
    assert language_changed("fr", "2024-10") == ([], None)


def test_side_panels_link_to_the_article_page():
    from webui.pages.article import show_languages, show_paths, show_related, show_trend

    assert graphs(show_trend("AC/DC", "en", "2024-11"))[0].data[0].type == "scatter"
    langs = show_languages("AC/DC", "en", "2024-11")
    assert cells(langs, "title")[0] == "*not found*" and links(langs) == ["/?title=AC%2FDC&lang=en&month=2024-11"]
    assert links(show_related("AC/DC", "en", "2024-11")) == ["/?title=Bon_Scott&lang=en&month=2024-11"]
    paths = show_paths("AC/DC", "en", "2024-11", 2)
    assert cells(paths, "probability") == [0.25] and len(links(paths)) == 2


def test_side_panels_say_when_analytics_are_not_computed(monkeypatch, fake):
    from webui.pages.article import show_paths, show_related

    monkeypatch.setattr(FakeQueries, "related", lambda *a: [])
    monkeypatch.setattr(FakeQueries, "paths", lambda *a: [])
    assert "computed after" in text(show_related("AC/DC", "en", "2024-11"))
    assert "No paths of 3 clicks" in text(show_paths("AC/DC", "en", "2024-11", 3))


def test_sankey_top_n_and_the_external_toggle_change_its_nodes():
    wide = {**AC_DC, "incoming_total": 10_000, "outgoing_total": 10_000,
            "incoming": [{"title": "other-empty", "type": "external", "n": 300}]
            + [{"title": f"In_{i}", "type": "link", "n": 100 - i} for i in range(60)],
            "outgoing": [{"title": f"Out_{i}", "type": "link", "n": 100 - i} for i in range(60)]}

    def labels(top, hide=False):
        return list(charts.sankey(wide, top, hide).data[0].node.label)
    # the article, N each way and a folded rest on each side
    assert [len(labels(top)) for top in (10, 20, 50)] == [23, 43, 103]
    assert "No referrer" in labels(10) and "No referrer" not in labels(10, hide=True)
    hidden = charts.sankey(wide, 10, True).data[0]
    assert labels(10, hide=True)[1:11] == [f"In {i}" for i in range(10)]
    assert sum(v for t, v in zip(hidden.link.target, hidden.link.value) if t == 0) == 10_000  # still the real total


def test_the_sankey_controls_redraw_it_from_the_stored_article_without_a_read(fake):
    from webui.pages.article import HIDE_EXTERNAL, redraw_sankey, show_article

    stored = by_id(show_article("AC/DC", "en", "2024-11"), ids.ARTICLE_DATA).data
    calls = len(fake.calls)
    assert "Search engines" in redraw_sankey(10, [], stored).data[0].node.label
    assert "Search engines" not in redraw_sankey(10, [HIDE_EXTERNAL], stored).data[0].node.label
    assert len(redraw_sankey(1, [], stored).data[0].node.label) == 6  # a top N not offered: the default
    assert len(fake.calls) == calls
    with pytest.raises(PreventUpdate):
        redraw_sankey(10, [], None)


def test_long_sankey_labels_are_cut_and_whole_on_the_flows_hover():
    long_title = "A_" + "very_" * 20 + "long_title"
    sankey = charts.sankey({**AC_DC, "outgoing": [{"title": long_title, "type": "link", "n": 25}]}).data[0]
    assert len(sankey.node.label[-1]) == charts.MAX_NODE_LABEL and sankey.node.label[-1].endswith("…")
    assert sankey.node.customdata[-1] == long_title  # a plain string: dcc.Graph drops lists from clickData
    assert sankey.link.label[-1] == f"AC/DC → {charts.pretty(long_title)}"


@pytest.mark.parametrize("article, shown", [
    (AC_DC, "out/in 0.42"), ({**AC_DC, "incoming_total": 0}, "out/in –"),
    ({**AC_DC, "source_count": 2, "destination_count": 1}, "· 2 sources · 1 destination ·"),
    ({**AC_DC, "source_count": 1, "destination_count": 12_345}, "· 1 source · 12,345 destinations ·"),
    (AC_DC, "sources and destinations not counted for this load"),  # a month loaded before they were counted
])
def test_the_headline_shows_clicks_out_per_click_in_and_distinct_sources_and_destinations(article, shown):
    from webui.pages.article import render

    assert shown in text(render(article))


def test_every_table_sorts_and_downloads_its_exact_rows_as_csv():
    from urllib.parse import unquote

    from webui.pages.article import show_article, show_languages, show_paths, show_related
    from webui.pages.month import show_month

    bodies = [show_article("AC/DC", "en", "2024-11"), show_languages("AC/DC", "en", "2024-11"),
              show_related("AC/DC", "en", "2024-11"), show_paths("AC/DC", "en", "2024-11", 2),
              show_month("en", "2024-11")[0]]
    found = [table for body in bodies for table in tables(body)]
    assert len(found) == 7 and all(table.sort_action == "native" for table in found)
    assert all(table.markdown_options == {"link_target": "_self"} for table in found)  # titles open here
    downloads = [c for body in bodies for c in walk(body) if isinstance(c, html.A) and getattr(c, "download", None)]
    assert len(downloads) == 7
    sources = unquote(downloads[0].href.split(",", 1)[1])
    assert downloads[0].download == "clickstream-en-2024-11-AC_DC-sources.csv"
    assert sources.splitlines() == ["title,type,n", "other-search,external,30", "Back_in_Black,link,20"]


@pytest.mark.parametrize("title, url", [
    ("Main_Page", "https://en.wikipedia.org/wiki/Main_Page"),
    ("AC/DC", "https://en.wikipedia.org/wiki/AC/DC"),
    ("Who_Framed_Roger_Rabbit?", "https://en.wikipedia.org/wiki/Who_Framed_Roger_Rabbit%3F"),
    ("Tom & Jerry#x", "https://en.wikipedia.org/wiki/Tom%20%26%20Jerry%23x"),
    ("Zürich", "https://en.wikipedia.org/wiki/Z%C3%BCrich"),
])
def test_wiki_links_quote_tricky_titles(title, url):
    from webui.pages._common import wiki_link, wiki_url

    assert wiki_url(title, "en") == url
    link = wiki_link(title, "en")
    assert (link.href, link.target, link.rel) == (url, "_blank", "noopener")


def test_the_headline_title_reads_in_its_own_direction_and_links_to_its_wiki():
    from webui.pages.article import show_article

    body = show_article("AC/DC", "en", "2024-11")
    headline = next(c for c in walk(body) if getattr(c, "className", None) == "headline")
    assert headline.children[0].dir == "auto"
    assert "https://en.wikipedia.org/wiki/AC/DC" in [c.href for c in walk(headline) if isinstance(c, html.A)]
    # Table cells have no dir attribute; unicode-bidi: plaintext is its CSS form, on every title column.
    for table in tables(body):
        bidi = {rule["if"]["column_id"] for rule in table.style_cell_conditional if "unicodeBidi" in rule}
        assert bidi == {c["id"] for c in table.columns if c.get("presentation") == "markdown"}


def test_every_panel_shows_a_loading_state():
    from webui.pages import article, month

    page = article.layout(title="AC/DC")
    loading = [c.children.id for c in walk(page) if isinstance(c, dcc.Loading)]
    assert loading == [ids.ARTICLE_RESULT, ids.ARTICLE_TREND, ids.ARTICLE_LANGS, ids.ARTICLE_RELATED,
                       ids.ARTICLE_PATHS]
    assert [c.children.id for c in walk(month.layout()) if isinstance(c, dcc.Loading)] == [ids.MONTH_RESULT]


def test_every_section_has_an_anchor_its_heading_links_to():
    from webui.pages import article, month
    from webui.pages._common import SCROLL_TO_ANCHOR

    pages = [article.layout(title="AC/DC"), month.show_month("en", "2024-11")[0]]
    sections = [c for page in pages for c in walk(page) if isinstance(c, html.Section)]
    assert [c.id for c in sections] == [
        "where-readers-come-from-and-go-next", "top-sources", "top-destinations", "source-mix",
        "over-time", "in-other-languages", "related-articles", "likely-paths",
        "most-read", "where-the-clicks-come-from", "biggest-movers", "pagerank"]
    for section in sections:
        heading = section.children[0]
        assert isinstance(heading, html.H3) and heading.children[1].href == f"#{section.id}"
    # A deep link's section is drawn by a callback, after the browser looked for it: the page scrolls then.
    assert "location.hash" in SCROLL_TO_ANCHOR and "scrollIntoView" in SCROLL_TO_ANCHOR


def test_the_ingestion_page_downloads_the_ledger_as_the_apis_csv():
    from webui.pages import ingestion

    client = create_app().server.test_client()
    [link] = [c for c in walk(ingestion.layout()) if isinstance(c, html.A)]
    answer = client.get(link.href)
    assert answer.status_code == 200 and answer.mimetype == "text/csv" and link.download.endswith(".csv")
    assert answer.text.splitlines()[0].startswith("lang,month,run,status")
    assert len(answer.text.splitlines()) == 1 + len(ANSWERS["ingestion"])


def test_every_chart_saves_as_png_on_a_transparent_background():
    from webui.pages.article import show_article, show_trend
    from webui.pages.month import show_month

    found = [c for body in (show_article("AC/DC", "en", "2024-11"), show_trend("AC/DC", "en", "2024-11"),
                            show_month("en", "2024-11")[0]) for c in walk(body) if isinstance(c, dcc.Graph)]
    assert len(found) == 5
    for graph in found:
        assert graph.config["modeBarButtons"] == [["toImage"]] and "displayModeBar" not in graph.config
        assert graph.config["toImageButtonOptions"]["format"] == "png"
        assert graph.figure.layout.paper_bgcolor == graph.figure.layout.plot_bgcolor == charts.TRANSPARENT
    assert found[0].config["toImageButtonOptions"]["filename"] == "clickstream-en-2024-11-AC_DC-flows"


@pytest.mark.parametrize("title", ["<script>alert(1)</script>", "A_*b*_[c](d)_\\e", "1._#_x"])
def test_markdown_cells_escape_every_mark(title):
    from webui.pages._common import md_text

    escaped = md_text(title)
    assert unescape(escaped) == title
    assert not re.search(r"(?<!\\)[*_\[\]()<>#`]", re.sub(r"\\.", "", escaped))


def test_the_stylesheet_has_a_dark_theme_and_fits_a_phone():
    from pathlib import Path

    css = (Path(charts.__file__).parent / "assets" / "style.css").read_text()
    assert "@media (prefers-color-scheme: dark)" in css
    assert "minmax(min(380px, 100%), 1fr)" in css  # a grid column never wider than the screen
    assert "@media (max-width: 480px)" in css


# The month page.

def test_month_page_shows_top_sources_movers_and_pagerank_and_writes_the_url():
    from webui.pages.month import layout, show_month

    body, search = show_month("en", "2024-11")
    assert search == "?lang=en&month=2024-11"
    assert [f.data[0].type for f in graphs(body)] == ["treemap", "bar"]
    assert "120 clicks" in text(body) and cells(body, "share") == [0.5]  # AC/DC: 60 of the month's 120
    assert links(body) == ["/?title=AC%2FDC&lang=en&month=2024-11"] * 2  # most read, PageRank
    page = layout(**_parse_query_string(search))
    assert (by_id(page, ids.MONTH_LANG).value, by_id(page, ids.MONTH_MONTH).value) == ("en", "2024-11")


def test_month_page_explains_a_month_without_totals_and_missing_movers(monkeypatch):
    from webui.pages.month import show_month

    assert "has no totals" in text(show_month("en", "2024-10")[0])
    monkeypatch.setattr(FakeQueries, "movers", lambda *a: [])
    assert "movers need the previous month" in text(show_month("en", "2024-11")[0])


# Titles as readers know them, and never as markup.

SCRIPT, QUOTES = "<script>alert(1)</script>", "A_b\"c'&<i>x</i>"
#: Named entities Plotly decodes in label text (plotly.js src/lib/svg_text_utils.js, entityToUnicode).
PLOTLY_ENTITIES = {"mu": "μ", "amp": "&", "lt": "<", "gt": ">", "nbsp": "\xa0", "times": "×", "plusmn": "±",
                   "deg": "°"}


def plotly_text(label: str) -> str:
    """What Plotly draws for a label: it would format or drop any <tag> (b, i, br, a, span, ...) and
    decodes entities; a label with no tag and only entities it knows is drawn as this text."""
    assert "<" not in label and ">" not in label, f"Plotly would read a tag in {label!r}"

    def decode(match):
        name = match.group(1)
        if name.startswith("#"):
            return chr(int(name[2:], 16) if name[1] == "x" else int(name[1:]))
        return PLOTLY_ENTITIES.get(name, match.group(0))
    return re.sub(r"&(#\d+|#x[\da-fA-F]+|[a-z]+);", decode, label)


@pytest.mark.parametrize("title", [SCRIPT, QUOTES, "AT&amp;T", "x_<br>_y", "<a_href=\"//example.com\">z</a>",
                                   "&lt;b&gt;", "$1_bill$"])
def test_a_chart_label_is_drawn_as_the_title_reads(title):
    assert plotly_text(charts.chart_label(title)) == charts.pretty(title)


def assert_no_raw_html(tree):
    """No component that would put a string into the page as HTML rather than as text."""
    for component in walk(tree):
        props = component.to_plotly_json()["props"]
        assert not isinstance(component, dcc.Markdown), component
        assert not props.get("dangerously_allow_html"), component
        assert "srcDoc" not in props, component  # an iframe's inline document
        assert not (props.get("markdown_options") or {}).get("html"), component
        # walk() follows children only: no component may hide in another prop.
        assert not any(isinstance(v, Component) for k, v in props.items() if k != "children"), component


def nasty_article(lang, month, title, limit):
    """An article whose own and neighbours' titles look like markup."""
    return {**AC_DC, "title": title, "lang": lang, "month": month,
            "incoming": [{"title": QUOTES, "type": "link", "n": 30},
                         {"title": "other-search", "type": "external", "n": 20}],
            "outgoing": [{"title": SCRIPT, "type": "link", "n": 15}, {"title": QUOTES, "type": "other", "n": 10}]}


def test_titles_show_with_spaces_as_plain_text_and_keep_their_exact_form_in_links(monkeypatch, fake):
    from webui.pages.article import layout, show_article, show_languages, show_paths, show_related

    monkeypatch.setattr(FakeQueries, "article", lambda self, *a: nasty_article(*a))
    monkeypatch.setattr(FakeQueries, "related", lambda self, *a: [{"title": QUOTES, "score": 0.5}])
    monkeypatch.setattr(FakeQueries, "paths", lambda self, *a: [{"path": [SCRIPT, QUOTES], "probability": 0.5}])
    body = show_article(SCRIPT, "en", "2024-11")
    shown = text(body)
    assert SCRIPT in shown and "A_b" not in shown
    headline = next(c for c in walk(body) if getattr(c, "className", None) == "headline")
    assert headline.children[0].children == SCRIPT
    # A link shows the title with spaces and carries it exactly in its URL; an other-* source is no link.
    table_links = [link for title in cells(body, "title") for link in md_links(title)]
    assert [text for text, _ in table_links] == ['A b"c\'&<i>x</i>', SCRIPT, 'A b"c\'&<i>x</i>']
    assert [parse_qs(urlsplit(href).query)["title"] for _, href in table_links] == [[QUOTES], [SCRIPT], [QUOTES]]
    assert cells(body, "title")[1] == "Search engines"
    # The Sankey's labels and hover text are drawn as typed; a click still re-centres on the exact title.
    node = by_id(body, ids.ARTICLE_SANKEY).figure.data[0].node
    assert [plotly_text(label) for label in node.label] == [
        SCRIPT, 'A b"c\'&<i>x</i>', "Search engines", "Other sources", SCRIPT, 'A b"c\'&<i>x</i>']
    assert list(node.customdata) == ["", QUOTES, "", "", SCRIPT, QUOTES]
    assert_no_raw_html(body)

    monkeypatch.setattr(FakeQueries, "article", lambda self, *a: None)
    missing = show_article(SCRIPT, "en", "2024-11")
    assert f"No clickstream rows for “{SCRIPT}”" in text(missing)
    assert_no_raw_html(missing)
    for panel in (show_related(SCRIPT, "en", "2024-11"), show_paths(SCRIPT, "en", "2024-11", 1),
                  show_languages(QUOTES, "en", "2024-11")):
        assert_no_raw_html(panel)
    assert md_links(cells(show_related(SCRIPT, "en", "2024-11"), "title")[0])[0][0] == 'A b"c\'&<i>x</i>'
    (path,) = cells(show_paths(SCRIPT, "en", "2024-11", 1), "path")
    start, link = path.split(" → ")
    assert unescape(start) == SCRIPT and md_links(link)[0][0] == 'A b"c\'&<i>x</i>'
    page = layout(title=QUOTES, lang="en", month="2024-11")
    assert by_id(page, ids.ARTICLE_TITLE).options == [{"label": 'A b"c\'&<i>x</i>', "value": QUOTES}]
    assert_no_raw_html(page)


def test_month_page_shows_markup_like_titles_as_text(monkeypatch):
    from webui.pages.month import show_month

    titles = [SCRIPT, QUOTES]
    monkeypatch.setattr(FakeQueries, "top", lambda self, *a: [{"title": t, "incoming_total": 30} for t in titles])
    monkeypatch.setattr(FakeQueries, "pagerank",
                        lambda self, *a: [{"rank": i, "title": t, "score": 0.1} for i, t in enumerate(titles, 1)])
    monkeypatch.setattr(FakeQueries, "movers", lambda self, *a: [
        {"title": t, "incoming_total": 30, "previous_total": 20, "change": 10 - i} for i, t in enumerate(titles)])
    body, _ = show_month("en", "2024-11")
    top = [link for title in cells(body, "title") for link in md_links(title)]
    assert [text for text, _ in top] == [SCRIPT, 'A b"c\'&<i>x</i>'] * 2
    assert [parse_qs(urlsplit(href).query)["title"] for _, href in top] == [[SCRIPT], [QUOTES]] * 2
    (movers,) = [f for f in graphs(body) if f.data[0].type == "bar"]
    assert [plotly_text(y) for y in movers.data[0].y] == ['A b"c\'&<i>x</i>', SCRIPT]
    assert_no_raw_html(body)


# The ingestion page.

def test_ingestion_rows_show_reasons_and_the_timer_is_fast_while_a_load_runs():
    from webui.pages import ingestion

    rows, interval, message = ingestion.refresh(0)
    assert interval == ingestion.FAST_MS and message is None
    assert rows[0]["status"] == "processing" and rows[0]["lag"] == 500
    assert rows[0]["reasons"] == "n not integer: 2, blank title: 1"
    assert rows[0]["started_at"] == "2024-12-01 10:00:00"
    assert ingestion.interval([{"status": "complete"}, {"status": "failed"}]) == ingestion.SLOW_MS
    # Its many columns scroll sideways inside the table on a narrow window, not the whole page.
    assert by_id(ingestion.layout(), ids.INGESTION_TABLE).style_table == {"overflowX": "auto"}


def test_ingestion_rows_show_the_landed_share_and_the_time_left():
    from webui.pages import ingestion

    rows, _, _ = ingestion.refresh(0)
    # 500 of 1,000 accepted rows processed, 500 left at 250.5 rows/s
    assert (rows[0]["progress"], rows[0]["eta"]) == ("▇▇▇▇▇▁▁▁▁▁ 50%", "~2 s")
    assert (rows[1]["progress"], rows[1]["eta"]) == ("▇▇▇▇▇▇▇▇▇▇ 100%", "")
    assert {"progress", "eta"} <= {column["id"] for column in ingestion.COLUMNS}
    assert "finalizing" in text(ingestion.layout())


def test_ingestion_with_no_loads_says_how_to_start(monkeypatch):
    from webui.pages.ingestion import refresh

    monkeypatch.setattr(FakeQueries, "ingestion", lambda self: [])
    rows, _, message = refresh(0)
    assert rows == [] and "Nothing loaded yet" in text(message)


# Cassandra down: a message everywhere, never a traceback.

def test_every_page_says_the_database_is_down(down):
    from webui.pages import article, ingestion, month

    for body in (article.show_article("AC/DC", "en", "2024-11"), article.show_trend("AC/DC", "en", "2024-11"),
                 article.show_languages("AC/DC", "en", "2024-11"), article.show_related("AC/DC", "en", "2024-11"),
                 article.show_paths("AC/DC", "en", "2024-11", 1), month.show_month("en", "2024-11")[0],
                 article.layout(), month.layout(lang="en", month="2024-11")):
        assert "database is not answering" in text(body)
    data, interval, message = ingestion.refresh(0)
    assert data is dash.no_update and interval == ingestion.RETRY_MS and "not answering" in text(message)
    with pytest.raises(PreventUpdate):
        article.suggest("ac", "AC/DC", "en", "2024-11")


# The app.

def test_create_app_registers_the_three_pages_in_the_nav():
    app = create_app()
    assert [p["path"] for p in dash.page_registry.values()] == ["/", "/month", "/ingestion"]
    assert [c.href for c in walk(app.layout) if getattr(c, "className", "") == "nav-link"] == \
        ["/", "/month", "/ingestion"]


def test_the_load_test_payload_in_ids_drives_the_main_callback():
    """The exact body documented in webui/ids.py, posted as a browser would."""
    payload = json.loads(ids.__doc__.split("POST /_dash-update-component")[1].split("\n\n")[0])
    payload["inputs"][0]["value"] = "AC/DC"  # the fake's one article
    client = create_app().server.test_client()
    client.get("/")  # Dash finishes registering callbacks on the first request
    response = client.post("/_dash-update-component", json=payload)
    assert response.status_code == 200
    body = response.get_json()["response"][ids.ARTICLE_RESULT]["children"]
    assert "sankey" in json.dumps(body)
