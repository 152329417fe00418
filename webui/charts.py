"""Figure builders: plain dicts from the query layer in, Plotly figures out. No Dash, no I/O,
so every chart can be checked in a unit test."""

from __future__ import annotations

import html

import plotly.graph_objects as go

from contract.records import OTHER_SOURCES

#: How each source-mix key reads to someone who has not seen the dump format.
SOURCE_LABELS = {
    "link": "Links in articles",
    "other": "Articles without a link",
    "other-search": "Search engines",
    "other-external": "Other websites",
    "other-internal": "Other Wikimedia projects",
    "other-empty": "No referrer",
    "other-other": "Unclassified",
}
#: Treemap parents: clicks from this wiki's own articles against everything else.
SOURCE_GROUPS = {"link": "Within the wiki", "other": "Within the wiki",
                 **{key: "From elsewhere" for key in OTHER_SOURCES}}
ALL_SOURCES = "All clicks in"

#: Longest Sankey label, in characters; a longer title is cut with "…" and shown whole on hover.
MAX_NODE_LABEL = 32
#: Charts draw on a transparent background with no fixed font colour, so the page's stylesheet (light or
#: dark, prefers-color-scheme) shows through; webui/assets/style.css colours their text.
TRANSPARENT = "rgba(0,0,0,0)"

TYPE_COLOURS = {"link": "#3366cc", "other": "#7fa7e8", "external": "#e69138"}
CENTRE_COLOUR, REST_COLOUR = "#202122", "#c8ccd1"
UP_COLOUR, DOWN_COLOUR = "#14866d", "#d33"
MARGIN = {"l": 10, "r": 10, "t": 10, "b": 10}


def pretty(title: str) -> str:
    """A title as readers see it: MediaWiki stores spaces as underscores."""
    return title.replace("_", " ")


def is_external(title: str) -> bool:
    """One of the dump's five other-* sources: a kind of referrer, not an article (never linked)."""
    return title in OTHER_SOURCES


def source_label(title: str) -> str:
    """A source or destination as readers see it: an other-* source by its friendly name (as in the
    treemap), an article by its title with spaces."""
    return SOURCE_LABELS[title] if is_external(title) else pretty(title)


def shorten(text: str, limit: int = MAX_NODE_LABEL) -> str:
    return text if len(text) <= limit else text[:limit - 1].rstrip() + "…"


def chart_label(title: str) -> str:
    """A title as a Plotly label shows it, exactly as `pretty` gives it. Plotly reads label text as
    pseudo-HTML (`<b>`, `<i>`, `<br>`, `<a href>`, `&amp;`): unescaped, a title would be formatted,
    cut or turned into a link. Escaping `&`, `<` and `>` makes Plotly show every character as typed
    (it decodes those entities and sets the text as text, never as markup)."""
    return _escape(pretty(title))


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def _layout(figure: go.Figure, **layout) -> go.Figure:
    """Every chart's common layout: tight margins and a transparent background (see TRANSPARENT)."""
    figure.update_layout(**{"margin": MARGIN, "paper_bgcolor": TRANSPARENT, "plot_bgcolor": TRANSPARENT, **layout})
    return figure


def _type_colour(type_: str) -> str:
    return TYPE_COLOURS.get(type_, REST_COLOUR)


def _fade(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},0.35)"


def sankey(article: dict, top: int = 20, hide_external: bool = False) -> go.Figure:
    """Sources -> article -> destinations: the `top` rows each way, the rest folded into one node per side
    so the article's node carries its real totals. `hide_external` folds the other-* sources into that
    rest too, leaving the flows between articles. Labels are friendly (source_label) and cut at
    MAX_NODE_LABEL characters; a flow's hover names both ends whole. `customdata` of every node and link
    is the title a click on it re-centres on ('' where there is none: the article itself, the folded rest,
    an other-* source). It must stay a string: dcc.Graph drops a point's list or object values from
    clickData, and a Sankey's customdata reaches it only as such a value of the point."""
    labels, full_labels, colours, node_data = [], [], [], []
    sources, targets, values, link_colours, link_data, link_labels = [], [], [], [], [], []

    def node(label, colour, title):
        labels.append(_escape(shorten(label))), full_labels.append(_escape(label))
        colours.append(colour), node_data.append(title)
        return len(labels) - 1

    def link(source, target, value, colour, title):
        sources.append(source), targets.append(target), values.append(value)
        link_colours.append(_fade(colour)), link_data.append(title)
        link_labels.append(f"{full_labels[source]} → {full_labels[target]}")

    def centre_on(title):
        return "" if is_external(title) else title

    incoming = [r for r in article["incoming"] if not (hide_external and is_external(r["title"]))][:top]
    outgoing = article["outgoing"][:top]
    centre = node(pretty(article["title"]), CENTRE_COLOUR, "")
    # A title can be both a source and a destination (A -> B -> A): it gets a node on each side.
    for row in incoming:
        colour = _type_colour(row["type"])
        title = centre_on(row["title"])
        link(node(source_label(row["title"]), colour, title), centre, row["n"], colour, title)
    rest_in = article["incoming_total"] - sum(r["n"] for r in incoming)
    if rest_in > 0:
        link(node("Other sources", REST_COLOUR, ""), centre, rest_in, REST_COLOUR, "")
    for row in outgoing:
        colour = _type_colour(row["type"])
        link(centre, node(source_label(row["title"]), colour, row["title"]), row["n"], colour, row["title"])
    rest_out = article["outgoing_total"] - sum(r["n"] for r in outgoing)
    if rest_out > 0:
        link(centre, node("Other destinations", REST_COLOUR, ""), rest_out, REST_COLOUR, "")

    figure = go.Figure(go.Sankey(
        # "fixed": draggable nodes swallow clicks in Chromium (plotly.js#3297), and a click re-centres.
        arrangement="fixed", valueformat=",d",
        node={"label": labels, "color": colours, "customdata": node_data, "pad": 12, "thickness": 14,
              "hovertemplate": "%{label}<br>%{value:,d} clicks<extra></extra>"},
        link={"source": sources, "target": targets, "value": values, "color": link_colours, "label": link_labels,
              "customdata": link_data, "hovertemplate": "%{label}<br>%{value:,d} clicks<extra></extra>"},
    ))
    # Room for every label: one row of at least 30 px per node on the fuller side.
    rows = max(len(incoming), len(outgoing)) + 1
    # The top margin keeps the PNG button, shown top-right on hover, off the first destination's label.
    return _layout(figure, height=max(320, 30 * rows), font={"size": 12}, margin={**MARGIN, "t": 36})


def sources_treemap(sources: dict) -> go.Figure | None:
    """The source mix as a treemap grouped into within-the-wiki and elsewhere; None if it is all zero."""
    total = sum(sources.values())
    if not total:
        return None
    groups: dict[str, int] = {}
    for key, n in sources.items():
        groups[SOURCE_GROUPS[key]] = groups.get(SOURCE_GROUPS[key], 0) + n
    figure = go.Figure(go.Treemap(
        ids=[ALL_SOURCES, *groups, *sources],
        labels=[ALL_SOURCES, *groups, *(SOURCE_LABELS[k] for k in sources)],
        parents=["", *(ALL_SOURCES for _ in groups), *(SOURCE_GROUPS[k] for k in sources)],
        values=[total, *groups.values(), *sources.values()],
        # Parents are the sum of their children, so shares read straight off the boxes.
        branchvalues="total",
        texttemplate="%{label}<br>%{value:,d} · %{percentRoot:.1%}",
        hovertemplate="%{label}<br>%{value:,d} clicks · %{percentRoot:.1%} of all<extra></extra>",
    ))
    return _layout(figure, height=300)


def trend(points: list[dict], month: str | None = None) -> go.Figure:
    """Incoming and outgoing clicks per month, oldest first; the month on show is marked.
    Each point's customdata is its month, so a click can switch to it."""
    months = [p["month"] for p in points]
    figure = go.Figure()
    for key, name, colour in (("incoming_total", "Clicks in", TYPE_COLOURS["link"]),
                              ("outgoing_total", "Clicks out", TYPE_COLOURS["external"])):
        figure.add_trace(go.Scatter(
            x=months, y=[p[key] for p in points], name=name, mode="lines+markers", customdata=months,
            line={"color": colour}, hovertemplate="%{x}: %{y:,d}<extra>" + name + "</extra>"))
    if month in months:
        figure.add_vline(x=months.index(month), line={"color": REST_COLOUR, "dash": "dot"})
    # Months are categories: a date axis would invent days and hours between two loaded months.
    return _layout(figure, height=260, xaxis={"type": "category"}, yaxis={"rangemode": "tozero"},
                   legend={"orientation": "h", "y": 1.1}, hovermode="x unified")


def _sign_colour(change: int) -> str:
    return UP_COLOUR if change > 0 else DOWN_COLOUR if change < 0 else REST_COLOUR


def movers(rows: list[dict]) -> go.Figure:
    """Change in incoming clicks against the previous month: gains in green, losses in red,
    biggest gain at the top."""
    rows = sorted(rows, key=lambda r: r["change"])
    figure = go.Figure(go.Bar(
        x=[r["change"] for r in rows], y=[chart_label(r["title"]) for r in rows], orientation="h",
        marker={"color": [_sign_colour(r["change"]) for r in rows]},
        customdata=[[r["previous_total"], r["incoming_total"]] for r in rows],
        hovertemplate="%{y}<br>%{customdata[0]:,d} → %{customdata[1]:,d} (%{x:+,d})<extra></extra>",
    ))
    return _layout(figure, height=max(260, 22 * len(rows) + 40), yaxis={"automargin": True},
                   xaxis={"zeroline": True})
