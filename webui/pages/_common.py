"""Pieces every page uses: reading the query string, links that carry the choices, tables, and the
messages shown instead of a traceback. (A leading underscore keeps Dash from loading it as a page.)"""

from __future__ import annotations

import logging
from typing import NamedTuple
from urllib.parse import urlencode

from dash import Input, Output, State, callback, dcc, html
from dash.exceptions import PreventUpdate

from contract.records import MAX_TITLE_BYTES, check_lang, check_month
from webui import db
from webui.charts import pretty

log = logging.getLogger(__name__)

DEFAULT_LANG = "en"
#: Every page's graphs: no Plotly mode bar.
GRAPH_CONFIG = {"displayModeBar": False}


def arg(value, default: str = "") -> str:
    """One query-string value: Dash passes a list when a key is repeated; the first one wins."""
    if isinstance(value, list):
        value = value[0] if value else None
    return value if value else default


def search(**choices) -> str:
    """The query string of a page's choices, for dcc.Location.search and links."""
    return "?" + urlencode({k: "" if v is None else v for k, v in choices.items()})


def article_href(title: str, lang: str, month: str) -> str:
    return "/" + search(title=title, lang=lang, month=month)


def month_href(lang: str, month: str) -> str:
    return "/month" + search(lang=lang, month=month)


def title_link(title: str, lang: str, month: str):
    return dcc.Link(pretty(title), href=article_href(title, lang, month), title=title)


def options(values, keep=(), label=str) -> list[dict]:
    """Dropdown options of `values` plus any value in `keep` that is missing: Dash's dropdown
    clears a value that is not among its options, which would silently drop a URL's choice."""
    values = list(values)
    values += [v for v in keep if v and v not in values]
    return [{"label": label(v), "value": v} for v in values]


def labelled(text: str, control):
    return html.Label([html.Span(text), control], className="control")


class Period(NamedTuple):
    controls: list  # the two labelled pickers
    trouble: object  # None, or the message shown when the pickers could not be filled
    lang: str  # the choices the pickers start with
    month: str


def period_controls(lang_id: str, month_id: str, lang: str, month: str) -> Period:
    """A page's language and month pickers, filled from Cassandra: the URL's choices, else English
    (or the first loaded language) and its newest month. If the reads fail the URL's choices are
    kept and `trouble` says why."""
    langs, months, trouble = [], [], None
    try:
        langs = db.queries().languages()
        lang = lang or (DEFAULT_LANG if DEFAULT_LANG in langs or not langs else langs[0])
        months = db.queries().months(lang)
    except Exception as err:  # noqa: BLE001 - any read failure is shown, not raised
        trouble = unavailable(err)
    lang = lang or DEFAULT_LANG
    month = month or (months[0] if months else "")
    controls = [
        labelled("Language", dcc.Dropdown(id=lang_id, value=lang, options=options(langs, [lang]), clearable=False)),
        labelled("Month", dcc.Dropdown(id=month_id, value=month, options=options(months, [month]), clearable=False,
                                       placeholder="no month loaded")),
    ]
    return Period(controls, trouble, lang, month)


def months_of(lang: str, month: str):
    """(options, value) of the month picker after the language changed: the same month if `lang` has
    it loaded, else its newest. A failed read changes nothing; the page's main callback says why."""
    try:
        months = db.queries().months(lang) if lang else []
    except Exception:  # noqa: BLE001
        raise PreventUpdate from None
    return options(months), month if month in months else (months[0] if months else None)


def follow_language(lang_id: str, month_id: str):
    """Register a page's callback that offers the new language's months when its language changes,
    keeping the month if that language has it too (months_of); returns the callback."""

    @callback(Output(month_id, "options"), Output(month_id, "value"), Input(lang_id, "value"),
              State(month_id, "value"), prevent_initial_call=True)
    def language_changed(lang, month):
        return months_of(lang, month)

    return language_changed


def title_problem(title) -> str | None:
    """Why `title` cannot be looked up, in words; None when it can."""
    if not title:
        return "Pick an article: start typing a title."
    if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
        return f"That title is longer than {MAX_TITLE_BYTES} bytes, so no article has it."
    return None


def period_problem(lang, month) -> str | None:
    """Why (lang, month) cannot be looked up, in words; None when it can. Checked before any read,
    so a hand-edited URL gets a sentence instead of a Cassandra error."""
    if not lang:
        return "Pick a language."
    try:
        check_lang(lang)
        if not month:
            return f"No month is loaded for {lang} yet: see Ingestion."
        check_month(month)
    except ValueError as err:
        return str(err)
    return None


def notice(text, kind: str = "info"):
    return html.Div(text, className=f"notice notice-{kind}")


def unavailable(err: Exception):
    """Cassandra is down or timed out: log the cause for operators, tell the reader in one line."""
    log.warning("read failed: %s", err, exc_info=err)
    return notice(["The database is not answering right now (", html.Code(type(err).__name__),
                   "). Try again in a moment."], "error")


def share_bar(n: int, total: int):
    share = n / total if total else 0
    return html.Div([html.Div(html.Div(className="bar", style={"width": f"{min(share, 1):.1%}"}), className="track"),
                     html.Span(f"{share:.1%}" if total else "")], className="share")


def table(header: list[str], rows: list[list], numeric: tuple[int, ...] = ()):
    """A plain HTML table; cells may be components (links, bars). `numeric` columns align right."""
    def cells(tag, values):
        return [tag(v, className="num" if i in numeric else None) for i, v in enumerate(values)]
    return html.Table([html.Thead(html.Tr(cells(html.Th, header))),
                       html.Tbody([html.Tr(cells(html.Td, row)) for row in rows])], className="data")
