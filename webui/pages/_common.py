"""Pieces every page uses: reading the query string, links that carry the choices, tables, and the
messages shown instead of a traceback. (A leading underscore keeps Dash from loading it as a page.)"""

from __future__ import annotations

import logging
import re
from typing import NamedTuple
from urllib.parse import quote, urlencode

from dash import Input, Output, State, callback, clientside_callback, dash_table, dcc, html
from dash.dash_table.Format import Format, Group, Scheme
from dash.exceptions import PreventUpdate

from contract.records import MAX_TITLE_BYTES, check_lang, check_month
from webui import db
from webui.charts import is_external, pretty, source_label
from webui.csv_table import to_csv

log = logging.getLogger(__name__)

DEFAULT_LANG = "en"


def graph_config(*name_parts: str) -> dict:
    """A graph's config: the mode bar (on hover) offers only "Download plot as a PNG", saved as
    clickstream-<name parts>.png with anything a file name should not hold replaced by "_"."""
    return {"displaylogo": False, "modeBarButtons": [["toImage"]],
            "toImageButtonOptions": {"format": "png", "filename": file_name(*name_parts), "scale": 2}}


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


def wiki_url(title: str, lang: str) -> str:
    """The article on its own wiki. `/` stays (MediaWiki subpage-style titles such as AC/DC); every
    other reserved or non-ASCII character is percent-encoded, so `?`, `#` and `&` stay in the title."""
    return f"https://{lang}.wikipedia.org/wiki/{quote(title, safe='/')}"


def wiki_link(title: str, lang: str, text: str = "on Wikipedia ↗"):
    return html.A(text, href=wiki_url(title, lang), target="_blank", rel="noopener",
                  title=f"{pretty(title)} on {lang}.wikipedia.org", className="wiki-link")


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


def anchor(heading: str) -> str:
    """The id of a section headed `heading` (lower case, words joined by "-"), so a URL can end in #that-id."""
    return re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")


def card(heading: str, *body, hint: str | None = None):
    """A titled section of a page, with an `anchor` as its id and a "#" link to itself beside its heading."""
    slug = anchor(heading)
    title = html.H3([heading, html.A("#", href=f"#{slug}", className="anchor", title=f"Link to “{heading}”")])
    return html.Section([title, *([html.P(hint, className="hint")] if hint else []), *body], id=slug,
                        className="card")


#: Browsers scroll to a URL's #section when the page loads, before a callback has drawn it. This scrolls
#: once the page's content is there, and again each time the page grows while its panels and charts are
#: drawn (for up to 30 s: a busy server draws slowly), until the reader scrolls, types or clicks.
#: Clientside: it is the browser's business, and needs no round trip.
SCROLL_TO_ANCHOR = """function(children) {
    const target = document.getElementById(window.location.hash.slice(1));
    if (!target) { return window.dash_clientside.no_update; }
    const follow = new ResizeObserver(() => target.scrollIntoView());
    const stop = () => follow.disconnect();
    for (const event of ["wheel", "touchmove", "keydown", "mousedown"]) {
        window.addEventListener(event, stop, {once: true, passive: true});
    }
    follow.observe(document.body);
    setTimeout(stop, 30000);
    return window.dash_clientside.no_update;
}"""


def scroll_to_anchor(content_id: str) -> None:
    """Register the clientside callback that scrolls to the URL's #section whenever `content_id` is drawn.
    Its output, the container's `title`, is never set: Dash calls a callback without outputs only when
    its input changes, not when a page first draws it."""
    clientside_callback(SCROLL_TO_ANCHOR, Output(content_id, "title"), Input(content_id, "children"))


def notice(text, kind: str = "info"):
    return html.Div(text, className=f"notice notice-{kind}")


def unavailable(err: Exception):
    """Cassandra is down or timed out: log the cause for operators, tell the reader in one line."""
    log.warning("read failed: %s", err, exc_info=err)
    return notice(["The database is not answering right now (", html.Code(type(err).__name__),
                   "). Try again in a moment."], "error")


# Tables: Dash DataTables, sortable by any column. A title cell is a markdown link (DataTable's markdown
# renders no HTML, and md_text escapes the rest); numbers stay numbers, so they sort as numbers.

def text_column(name: str, id_: str) -> dict:
    return {"name": name, "id": id_, "presentation": "markdown"}


def count_column(name: str, id_: str) -> dict:
    return {"name": name, "id": id_, "type": "numeric", "format": Format(group=Group.yes, precision=0,
                                                                              scheme=Scheme.fixed)}


def share_column(name: str, id_: str) -> dict:
    return {"name": name, "id": id_, "type": "numeric", "format": Format(precision=1, scheme=Scheme.percentage)}


def decimal_column(name: str, id_: str, digits: int) -> dict:
    return {"name": name, "id": id_, "type": "numeric", "format": Format(precision=digits, scheme=Scheme.fixed)}


def md_text(text: str) -> str:
    """`text` as markdown that renders exactly as `text`: every ASCII punctuation mark escaped."""
    return re.sub(r"([!-/:-@\[-`{-~])", r"\\\1", text)


def md_title(title: str, lang: str, month: str) -> str:
    """A title as a markdown cell: a link to its page here, or, for an other-* source, its friendly
    name as plain text (it is no article)."""
    if is_external(title):
        return md_text(source_label(title))
    return f"[{md_text(pretty(title))}]({article_href(title, lang, month)})"


def data_table(columns: list[dict], rows: list[dict], csv_name: str, csv_rows: list[dict]):
    """A sortable table of `rows`, and a link that downloads `csv_rows` (exact titles, plain numbers,
    written like the API's format=csv) as `csv_name`.csv. DataTable's own export would write each
    link's markdown source instead of the title."""
    markdown = [c["id"] for c in columns if c.get("presentation") == "markdown"]
    csv = to_csv(list(csv_rows[0]) if csv_rows else [], csv_rows)
    return html.Div([
        dash_table.DataTable(
            columns=columns, data=rows, sort_action="native", style_as_list_view=True,
            # A title opens its page here, in this tab (DataTable's markdown links open a new one by default).
            markdown_options={"link_target": "_self"},
            css=[{"selector": "p", "rule": "margin: 0"}],
            style_table={"overflowX": "auto"},
            style_cell={"fontFamily": "inherit", "fontSize": "13px", "padding": "3px 6px", "textAlign": "left",
                        "whiteSpace": "normal", "height": "auto", "backgroundColor": "var(--card)",
                        "color": "var(--ink)", "border": "none", "borderBottom": "1px solid var(--rule)"},
            style_header={"fontWeight": "600", "color": "var(--muted)", "fontSize": "12px"},
            # The cell form of dir="auto": each title is laid out in its own direction (fa, he, ar ...).
            style_cell_conditional=[{"if": {"column_id": c}, "unicodeBidi": "plaintext"} for c in markdown]
            + [{"if": {"column_type": "numeric"}, "textAlign": "right"}],
        ),
        html.A("Download CSV", href="data:text/csv;charset=utf-8," + quote(csv), download=file_name(csv_name) + ".csv",
               className="csv-link"),
    ], className="table-box")


def file_name(*parts: str) -> str:
    """Parts of a download's name joined by "-", with anything a file name should not hold as "_"."""
    return re.sub(r"[^\w.-]+", "_", "-".join(["clickstream", *parts])).strip("_")
