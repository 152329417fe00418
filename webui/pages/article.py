"""Explore one article: totals, source mix, top incoming and outgoing rows. State lives in the URL."""

from __future__ import annotations

from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, dash_table, dcc, html

from webui import db, ids

dash.register_page(__name__, path="/", name="Article")


def layout(title: str = "Main_Page", lang: str = "en", month: str = "", **_):
    return html.Div([
        dcc.Location(id=ids.ARTICLE_URL, refresh=False),
        html.H2("Explore an article"),
        html.Div([
            dcc.Input(id=ids.ARTICLE_TITLE, value=title, placeholder="Exact title, e.g. Main_Page", debounce=True),
            dcc.Input(id=ids.ARTICLE_LANG, value=lang, placeholder="en", size="4", debounce=True),
            dcc.Input(id=ids.ARTICLE_MONTH, value=month, placeholder="YYYY-MM", size="8", debounce=True),
        ], className="controls"),
        html.Div(id=ids.ARTICLE_RESULT),
    ])


@callback(
    Output(ids.ARTICLE_RESULT, "children"),
    Output(ids.ARTICLE_URL, "search"),
    Input(ids.ARTICLE_TITLE, "value"),
    Input(ids.ARTICLE_LANG, "value"),
    Input(ids.ARTICLE_MONTH, "value"),
)
def show_article(title, lang, month):
    search = "?" + urlencode({"title": title or "", "lang": lang or "", "month": month or ""})
    if not (title and lang and month):
        return html.P("Enter a title, a language and a month."), search
    found = db.queries().article(lang, month, title, limit=20)
    if found is None:
        return html.P(f"No clickstream rows for {title} in {lang} {month}."), search
    return render(found), search


def render(article: dict):
    """The article's numbers as tables; each row carries its share of the total."""
    return html.Div([
        html.P(f"Incoming clicks: {article['incoming_total']:,} · outgoing clicks: {article['outgoing_total']:,}"),
        html.H3("Where readers come from"),
        _table(article["incoming"], article["incoming_total"]),
        html.H3("Where readers go next"),
        _table(article["outgoing"], article["outgoing_total"]),
        html.H3("Source mix"),
        _table([{"title": k, "type": "", "n": v} for k, v in article["sources"].items()], article["incoming_total"]),
    ])


def _table(rows: list[dict], total: int):
    data = [{**r, "share": f"{r['n'] / total:.1%}" if total else ""} for r in rows]
    columns = [{"name": c, "id": c} for c in ("title", "type", "n", "share")]
    return dash_table.DataTable(data=data, columns=columns, page_size=20)
