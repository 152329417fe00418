"""One language's month: its most-read articles, where its clicks come from, the biggest movers
against the previous month and the top of the PageRank. lang and month live in the URL."""

from __future__ import annotations

import dash
from dash import Input, Output, callback, dcc, html
from dash.dash_table.Format import Format, Scheme

from webui import charts, db, ids
from webui.pages._common import (arg, card, count_column, data_table, follow_language, graph_config,
                                 md_title, notice, period_controls, period_problem, search, share_column,
                                 scroll_to_anchor, text_column, unavailable)

dash.register_page(__name__, path="/month", name="Month", order=1, title="Month · Clickstream explorer")

TOP = 25
MOVERS = 20
PAGERANK = 25


def layout(lang=None, month=None, **_):
    period = period_controls(ids.MONTH_LANG, ids.MONTH_MONTH, arg(lang), arg(month))
    return html.Div([
        dcc.Location(id=ids.MONTH_URL, refresh=False),
        html.Div(period.controls, className="controls"),
        period.trouble,
        dcc.Loading(html.Div(id=ids.MONTH_RESULT), delay_show=300),
    ])


@callback(
    Output(ids.MONTH_RESULT, "children"),
    Output(ids.MONTH_URL, "search"),
    Input(ids.MONTH_LANG, "value"),
    Input(ids.MONTH_MONTH, "value"),
)
def show_month(lang, month):
    url = search(lang=lang, month=month)
    why = period_problem(lang, month)
    if why:
        return notice(why), url
    try:
        q = db.queries()
        stats = q.month(lang, month)
        if stats is None:
            return notice(f"{lang} {month} has no totals: it is not loaded, or its load has not completed "
                          "(see Ingestion).", "warn"), url
        top, movers, ranks = q.top(lang, month, TOP), q.movers(lang, month, MOVERS), q.pagerank(lang, month, PAGERANK)
    except Exception as err:  # noqa: BLE001 - a read failure is shown, not raised
        return unavailable(err), url
    return render(stats, top, movers, ranks), url


def render(stats: dict, top: list[dict], movers: list[dict], ranks: list[dict]):
    lang, month, total = stats["lang"], stats["month"], stats["total_clicks"]
    treemap = charts.sources_treemap(stats["sources"])
    return html.Div([
        html.P([html.Strong(f"{lang} · {month}"), f" · {total:,} clicks over {stats['rows']:,} distinct links"],
               className="headline"),
        html.Div([
            card("Most read", _top(top, total, lang, month),
                 hint="Clicks in, and their share of all the month's clicks."),
            card("Where the clicks come from",
                 dcc.Graph(figure=treemap, config=graph_config(lang, month, "source-mix")) if treemap
                 else notice("No clicks.")),
            card("Biggest movers",
                 dcc.Graph(figure=charts.movers(movers), config=graph_config(lang, month, "movers")) if movers
                 else notice("Nothing to compare yet: movers need the previous month loaded too."),
                 hint="Change in clicks in against the previous month."),
            card("PageRank", _pagerank(ranks, lang, month),
                 hint="Where a reader following links at random ends up most."),
        ], className="grid"),
    ])


def _top(rows: list[dict], total: int, lang: str, month: str):
    if not rows:
        return notice("Not computed yet: the top list is written after the load completes.")
    shown = [{"rank": i, "title": md_title(r["title"], lang, month), "n": r["incoming_total"],
              "share": r["incoming_total"] / total if total else None} for i, r in enumerate(rows, 1)]
    exact = [{"rank": i, **r} for i, r in enumerate(rows, 1)]
    return data_table([count_column("#", "rank"), text_column("Article", "title"), count_column("Clicks in", "n"),
                       share_column("Share", "share")], shown, f"{lang}-{month}-most-read", exact)


def _pagerank(rows: list[dict], lang: str, month: str):
    if not rows:
        return notice("Not computed yet: PageRank runs after the load completes.")
    shown = [{"rank": r["rank"], "title": md_title(r["title"], lang, month), "score": r["score"]} for r in rows]
    # Scores are small and spread over decades: three significant digits, as before the table sorted.
    return data_table([count_column("#", "rank"), text_column("Article", "title"),
                       {"name": "Score", "id": "score", "type": "numeric", "format": _SIGNIFICANT}], shown,
                      f"{lang}-{month}-pagerank", rows)


_SIGNIFICANT = Format(precision=3, scheme=Scheme.decimal_or_exponent)


language_changed = follow_language(ids.MONTH_LANG, ids.MONTH_MONTH)
scroll_to_anchor(ids.MONTH_RESULT)
