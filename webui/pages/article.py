"""Explore one article: where its readers come from and go next, its trend, the same title in the
other loaded languages, related articles and likely paths. Every choice lives in the URL.

`show_article` is the page's main callback (one read; see webui/ids.py); the side panels each have
their own small callback so a slow analytics read never holds up the article itself. A page load
renders the article in the layout itself, so the first view needs no callback round trip; the
callback redraws it when a choice changes.
"""

from __future__ import annotations

from urllib.parse import urlencode

import dash
from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from contract.records import search_text
from contract.schema import MAX_PATH_STEPS
from webui import charts, db, ids
from webui.charts import pretty
from webui.pages._common import (arg, card, count_column, data_table, decimal_column, follow_language, graph_config,
                                 labelled, md_text, md_title, month_href, notice, options, period_controls,
                                 period_problem, scroll_to_anchor, search, share_column, text_column, title_problem,
                                 unavailable, wiki_link)

dash.register_page(__name__, path="/", name="Article", order=0, title="Article · Clickstream explorer")

DEFAULT_TITLE = "Main_Page"
LIMIT = 20  # rows each way in the tables, and the Sankey's default top N
SANKEY_TOPS = (10, 20, 50)
READ = max(SANKEY_TOPS)  # rows each way the main callback reads, for the largest Sankey
HIDE_EXTERNAL = "hide-external"
SUGGESTIONS = 15
ANALYTICS_ROWS = 10


def layout(title=None, lang=None, month=None, steps=None, **_):
    title = arg(title, DEFAULT_TITLE)
    period = period_controls(ids.ARTICLE_LANG, ids.ARTICLE_MONTH, arg(lang), arg(month))
    return html.Div([
        dcc.Location(id=ids.ARTICLE_URL, refresh=False),
        html.Div([
            labelled("Article", dcc.Dropdown(
                id=ids.ARTICLE_TITLE, value=title, options=options([], [title], pretty), clearable=False,
                placeholder="Type a title…", className="title-picker")),
            *period.controls,
        ], className="controls"),
        period.trouble,
        dcc.Loading(html.Div(article_view(title, period.lang, period.month), id=ids.ARTICLE_RESULT),
                    delay_show=300),
        html.Div([
            _panel("Over time", "Clicks per loaded month. Click a point to show that month.", ids.ARTICLE_TREND),
            _panel("In other languages", "The same title in each language loaded for this month; most articles "
                   "have another name elsewhere.", ids.ARTICLE_LANGS),
            _panel("Related articles", "Read by people who arrive from the same places.", ids.ARTICLE_RELATED),
            card("Likely paths",
                 dcc.RadioItems(id=ids.ARTICLE_STEPS, value=_steps(arg(steps, "1")), inline=True,
                                options=[{"label": f"{n} click{'s' if n > 1 else ''}", "value": n}
                                         for n in range(1, MAX_PATH_STEPS + 1)], className="steps"),
                 _loading(ids.ARTICLE_PATHS)),
        ], className="grid"),
    ])


def _panel(heading: str, hint: str, body_id: str):
    return card(heading, _loading(body_id), hint=hint)


def _loading(body_id: str):
    """A side panel's body, with a spinner while its callback runs (after 300 ms, so a quick one does not flash)."""
    return dcc.Loading(html.Div(id=body_id), delay_show=300)


def _steps(text: str) -> int:
    return int(text) if text.isdigit() and 1 <= int(text) <= MAX_PATH_STEPS else 1


def choices(kind=Input) -> list:
    """The page's three choices, the title, language and month, as callback Inputs (or States)."""
    return [kind(ids.ARTICLE_TITLE, "value"), kind(ids.ARTICLE_LANG, "value"), kind(ids.ARTICLE_MONTH, "value")]


@callback(
    Output(ids.ARTICLE_RESULT, "children"),
    *choices(),
    prevent_initial_call=True,  # the layout has rendered the URL's choices
)
def show_article(title, lang, month):
    """The page's main callback: one article read, rendered."""
    return article_view(title, lang, month)


def article_view(title, lang, month):
    why = title_problem(title) or period_problem(lang, month)
    if why:
        return notice(why)
    try:
        found = db.queries().article(lang, month, title, READ)
    except Exception as err:  # noqa: BLE001 - a read failure is shown, not raised
        return unavailable(err)
    if found is None:
        return notice(f"No clickstream rows for “{pretty(title)}” in {lang} {month}. Titles are exact: "
                      "pick one of the suggestions as you type.", "warn")
    return render(found)


def render(article: dict):
    lang, month, title = article["lang"], article["month"], article["title"]
    treemap = charts.sources_treemap(article["sources"])
    api = "/api/v1/article?" + urlencode({"title": title, "lang": lang, "month": month, "limit": LIMIT})
    return html.Div([
        html.P([html.Strong(pretty(title), dir="auto"), f" · {lang} · {month} · ",
                f"{article['incoming_total']:,} clicks in · {article['outgoing_total']:,} clicks out · ",
                f"out/in {ratio(article)} · {links(article)} · ", wiki_link(title, lang), " · ",
                dcc.Link("the whole month", href=month_href(lang, month)), " · ", html.A("JSON", href=api)],
               className="headline"),
        card("Where readers come from and go next",
             *(_sankey(article) if article["incoming"] or article["outgoing"] else
               [notice("No clicks recorded in either direction.")]),
             hint="Click a title or a flow to re-centre on it. Long titles are cut; hover for the whole one."),
        html.Div([
            card("Top sources", _rows(article["incoming"], article["incoming_total"], article, "sources")),
            card("Top destinations", _rows(article["outgoing"], article["outgoing_total"], article, "destinations")),
            card("Source mix", dcc.Graph(figure=treemap, config=graph_config(lang, month, title, "source-mix"))
                 if treemap else notice("No clicks in.")),
        ], className="grid"),
    ])


def links(article: dict) -> str:
    """How many distinct titles link in and out (a month loaded before they were counted says so)."""
    sources, destinations = article.get("source_count"), article.get("destination_count")
    if sources is None or destinations is None:
        return "sources and destinations not counted for this load"
    return f"{sources:,} source{'s' * (sources != 1)} · {destinations:,} destination{'s' * (destinations != 1)}"


def ratio(article: dict) -> str:
    """Clicks out per click in, to two decimals: below 1 the article is mostly where readers stop."""
    if not article["incoming_total"]:
        return "–"
    return f"{article['outgoing_total'] / article['incoming_total']:.2f}"


def _sankey(article: dict) -> list:
    """The Sankey and its two controls; the article rides along in a Store, so a control redraws the
    chart (redraw_sankey) without another read."""
    return [
        html.Div([
            dcc.RadioItems(id=ids.ARTICLE_SANKEY_TOP, value=LIMIT, inline=True, className="steps",
                           options=[{"label": f"top {n}", "value": n} for n in SANKEY_TOPS]),
            dcc.Checklist(id=ids.ARTICLE_SANKEY_EXTERNAL, value=[], inline=True,
                          options=[{"label": "hide search engines, other websites and other sources outside "
                                             "the wiki", "value": HIDE_EXTERNAL}]),
        ], className="chart-controls"),
        dcc.Store(id=ids.ARTICLE_DATA, data=article),
        dcc.Graph(id=ids.ARTICLE_SANKEY, figure=charts.sankey(article, LIMIT),
                  config=graph_config(article["lang"], article["month"], article["title"], "flows")),
    ]


@callback(
    Output(ids.ARTICLE_SANKEY, "figure"),
    Input(ids.ARTICLE_SANKEY_TOP, "value"),
    Input(ids.ARTICLE_SANKEY_EXTERNAL, "value"),
    State(ids.ARTICLE_DATA, "data"),
    prevent_initial_call=True,  # render() drew it with the defaults
)
def redraw_sankey(top, external, article):
    """The Sankey again, with the chosen top N and with or without the sources outside the wiki."""
    if not article:
        raise PreventUpdate
    return charts.sankey(article, top if top in SANKEY_TOPS else LIMIT, HIDE_EXTERNAL in (external or []))


def _rows(rows: list[dict], total: int, article: dict, side: str):
    """Top rows with each one's share of the article's total in that direction; an other-* source by its
    friendly name, not linked."""
    if not rows:
        return notice("None recorded.")
    rows, lang, month = rows[:LIMIT], article["lang"], article["month"]
    shown = [{"title": md_title(r["title"], lang, month), "type": r["type"], "n": r["n"],
              "share": r["n"] / total if total else None} for r in rows]
    exact = [{"title": r["title"], "type": r["type"], "n": r["n"]} for r in rows]
    return data_table([text_column("Title", "title"), {"name": "Type", "id": "type"}, count_column("Clicks", "n"),
                       share_column("Share", "share")], shown, f"{lang}-{month}-{article['title']}-{side}", exact)


@callback(
    Output(ids.ARTICLE_URL, "search"),
    *choices(),
    Input(ids.ARTICLE_STEPS, "value"),
)
def sync_url(title, lang, month, steps):
    """Every choice back into the address bar (refresh=False: the page is not reloaded)."""
    return search(title=title, lang=lang, month=month, steps=steps)


@callback(
    Output(ids.ARTICLE_TITLE, "options"),
    Input(ids.ARTICLE_TITLE, "search_value"),
    *choices(State),
    prevent_initial_call=True,
)
def suggest(typed, title, lang, month):
    """Titles starting with what is typed (case and accents aside), most-read first. The typed text is an
    option too, so an exact title the search ranks low stays reachable, and the current title stays so the
    dropdown keeps it."""
    if not typed or period_problem(lang, month):
        raise PreventUpdate
    try:
        hits = db.queries().search(lang, month, search_text(typed), SUGGESTIONS)
    except Exception:  # noqa: BLE001 - no suggestions; the main callback reports the outage
        raise PreventUpdate from None
    return options(hits, [search_text(typed), title], pretty)


@callback(
    Output(ids.ARTICLE_TITLE, "value"),
    Output(ids.ARTICLE_TITLE, "options", allow_duplicate=True),
    Input(ids.ARTICLE_SANKEY, "clickData"),
    prevent_initial_call=True,
)
def recentre(click):
    """A click on a Sankey node or flow re-centres on its title (its customdata; '' for none)."""
    title = _clicked(click)
    if not title:
        raise PreventUpdate
    return title, options([], [title], pretty)


@callback(
    Output(ids.ARTICLE_MONTH, "value", allow_duplicate=True),
    Input(ids.ARTICLE_TREND_GRAPH, "clickData"),
    State(ids.ARTICLE_MONTH, "options"),
    prevent_initial_call=True,
)
def pick_month(click, month_options):
    """A click on the trend shows that month, if it is one the month picker offers."""
    month = _clicked(click)
    if month not in {o["value"] for o in month_options or []}:
        raise PreventUpdate
    return month


def _clicked(click) -> str | None:
    points = (click or {}).get("points") or [{}]
    value = points[0].get("customdata")
    return value if isinstance(value, str) else None


language_changed = follow_language(ids.ARTICLE_LANG, ids.ARTICLE_MONTH)
scroll_to_anchor(ids.ARTICLE_RESULT)


def side_panel(name: str, body_id: str, read, view, *inputs: str):
    """Register one side panel and return its callback, `name`d: on the title, language and month (and the
    values of `inputs`) it stays empty for a bad choice, which the main callback explains once; shows the
    outage when `read(queries, title, lang, month, *more)` fails; else returns `view(found, title, lang,
    month, *more)`. A new panel is a read, a view and one call."""

    @callback(Output(body_id, "children"), *choices(), *(Input(i, "value") for i in inputs))
    def show(title, lang, month, *more):
        if title_problem(title) or period_problem(lang, month):
            return None
        try:
            found = read(db.queries(), title, lang, month, *more)
        except Exception as err:  # noqa: BLE001 - a read failure is shown, not raised
            return unavailable(err)
        return view(found, title, lang, month, *more)

    show.__name__ = show.__qualname__ = name
    return show


def trend_view(points: list[dict], title: str, lang: str, month: str):
    if not points:
        return notice("No month has totals for this title yet; they are stored once a load completes.")
    graph = dcc.Graph(id=ids.ARTICLE_TREND_GRAPH, figure=charts.trend(points, month),
                      config=graph_config(lang, title, "trend"))
    if len(points) == 1:
        return [graph, notice("Only one month is loaded so far.")]
    return [graph, source_shift(points, title, lang, month)]


def source_shift(points: list[dict], title: str, lang: str, month: str):
    """Where readers came from in `month` against the loaded month before it: each source's share of the
    article's incoming clicks in both, and the change in percentage points."""
    now = next((p for p in points if p["month"] == month), None)
    before = max((p for p in points if p["month"] < month), key=lambda p: p["month"], default=None)
    if not now or not before:
        return notice(f"No month before {month} is loaded for this title, so there is no source mix to compare.")
    rows = [{"source": charts.SOURCE_LABELS[key], "share": _share(now, key), "before": _share(before, key)}
            for key in now["sources"] if now["sources"][key] or before["sources"].get(key)]
    for row in rows:
        row["change"] = row["share"] - row["before"]
    rows.sort(key=lambda r: -r["share"])
    return html.Div([
        html.H4(f"Source mix: {month} against {before['month']}"),
        data_table([text_column("Source", "source"), share_column(f"Share {month}", "share"),
                    share_column(f"Share {before['month']}", "before"), share_column("Change (points)", "change")],
                   rows, f"{lang}-{month}-{title}-sources-against-{before['month']}", rows),
    ])


def _share(point: dict, key: str) -> float:
    return point["sources"].get(key, 0) / point["incoming_total"] if point["incoming_total"] else 0.0


def language_totals(q, title: str, lang: str, month: str) -> dict:
    """The title's incoming total in every language that has this month loaded (None: not there)."""
    totals = {}
    for other in q.languages():
        if month in q.months(other):
            found = q.article(other, month, title, 1)
            totals[other] = found["incoming_total"] if found else None
    return totals


def languages_table(totals: dict, title: str, lang: str, month: str):
    if not totals:
        return notice(f"No language has {month} loaded.")
    ordered = sorted(totals.items())
    shown = [{"lang": f"**{other}**" if other == lang else other,
              "title": md_title(title, other, month) if n is not None else "*not found*", "n": n}
             for other, n in ordered]
    exact = [{"lang": other, "title": title, "incoming_total": n} for other, n in ordered]
    return data_table([text_column("Language", "lang"), text_column("Article", "title"),
                       count_column("Clicks in", "n")], shown, f"{month}-{title}-languages", exact)


def related_view(rows: list[dict], title: str, lang: str, month: str):
    if not rows:
        return notice("Nothing yet: related articles are computed after a month's load completes, "
                      "for articles with enough readers.")
    shown = [{"title": md_title(r["title"], lang, month), "score": r["score"]} for r in rows]
    return data_table([text_column("Article", "title"), decimal_column("Score", "score", 3)], shown,
                      f"{lang}-{month}-{title}-related", rows)


def paths_view(rows: list[dict], title: str, lang: str, month: str, steps: int):
    if not rows:
        return notice(f"No paths of {steps} click{'s' if steps > 1 else ''} from here: they are computed after "
                      "a month's load completes, and need readers who click on.")
    shown = [{"path": _path(r["path"], lang, month), "probability": r["probability"]} for r in rows]
    return data_table([text_column("Path", "path"), share_column("Probability", "probability")], shown,
                      f"{lang}-{month}-{title}-paths-{steps}", rows)


show_trend = side_panel("show_trend", ids.ARTICLE_TREND, lambda q, title, lang, month: q.trend(lang, title),
                        trend_view)
show_languages = side_panel("show_languages", ids.ARTICLE_LANGS, language_totals, languages_table)
show_related = side_panel("show_related", ids.ARTICLE_RELATED,
                          lambda q, title, lang, month: q.related(lang, month, title, ANALYTICS_ROWS), related_view)
show_paths = side_panel("show_paths", ids.ARTICLE_PATHS,
                        lambda q, title, lang, month, steps: q.paths(lang, month, title, steps, ANALYTICS_ROWS),
                        paths_view, ids.ARTICLE_STEPS)


def _path(titles: list[str], lang: str, month: str) -> str:
    """A path as markdown: it starts at the article itself, shown plain, then each next title as a link."""
    parts = [md_text(pretty(titles[0]))] if titles else []
    parts += [md_title(title, lang, month) for title in titles[1:]]
    return " → ".join(parts)
