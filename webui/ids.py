"""Component ids shared by layouts, callbacks and load tests.

Load tests: the article page's main callback is `webui.pages.article.show_article`. It makes one
`Queries.article` read (top 50 each way: the Sankey's largest top N) and returns the page's body:
headline, Sankey, source-mix treemap and the incoming and outgoing tables. Its only output is
ARTICLE_RESULT.children and its inputs are exactly (ARTICLE_TITLE, ARTICLE_LANG, ARTICLE_MONTH)
values, in that order, with no state, so this body drives it (tests/unit/webui/test_pages.py posts it):

    POST /_dash-update-component
    {"output": "article-result.children",
     "outputs": {"id": "article-result", "property": "children"},
     "inputs": [{"id": "article-title", "property": "value", "value": "Main_Page"},
                {"id": "article-lang", "property": "value", "value": "en"},
                {"id": "article-month", "property": "value", "value": "2024-11"}],
     "changedPropIds": ["article-title.value"], "state": []}

The Sankey's top-N and external-sources controls redraw it from a Store (ARTICLE_DATA), with no read.
A browser also fires, alongside it, one small callback per side panel (trend, languages, related,
paths: one or a few reads each) and the URL writer (no reads); the autocomplete fires per keystroke.
"""

# Article page ("/").
ARTICLE_URL = "article-url"
ARTICLE_TITLE = "article-title"
ARTICLE_LANG = "article-lang"
ARTICLE_MONTH = "article-month"
ARTICLE_RESULT = "article-result"
ARTICLE_SANKEY = "article-sankey"
ARTICLE_SANKEY_TOP = "article-sankey-top"
ARTICLE_SANKEY_EXTERNAL = "article-sankey-external"
ARTICLE_DATA = "article-data"  # the article as read, for redrawing the Sankey without another read
ARTICLE_TREND = "article-trend"
ARTICLE_TREND_GRAPH = "article-trend-graph"
ARTICLE_LANGS = "article-langs"
ARTICLE_RELATED = "article-related"
ARTICLE_STEPS = "article-steps"
ARTICLE_PATHS = "article-paths"

# Month page ("/month").
MONTH_URL = "month-url"
MONTH_LANG = "month-lang"
MONTH_MONTH = "month-month"
MONTH_RESULT = "month-result"

# Ingestion page ("/ingestion").
INGESTION_TABLE = "ingestion-table"
INGESTION_TIMER = "ingestion-timer"
INGESTION_MESSAGE = "ingestion-message"
