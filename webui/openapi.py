"""The /api/v1 routes, described once: `webui.api` parses every request's parameters from this
table (so a range is written only here) and `document()` turns it into the OpenAPI 3.1 document
served at /api/v1/openapi.json.
"""

from __future__ import annotations

from dataclasses import dataclass

from contract.status import LoadStatus
from contract.records import LANG_PATTERN, MAX_TITLE_BYTES, MONTH_PATTERN, SOURCE_KEYS
from contract.schema import (
    ANALYTICS_TOP, MAX_PATH_STEPS, MOVERS_LIMIT, PAGERANK_LIMIT, SEARCH_PREFIX_CHARS, SEARCH_SCAN, SEARCH_TOP,
    TOP_ARTICLES_LIMIT,
)

PREFIX = "/api/v1"


@dataclass(frozen=True)
class Param:
    """A query parameter. `kind` picks the parser in `webui.api`: lang, month (or `latest`), text
    (non-empty, at most MAX_TITLE_BYTES UTF-8 bytes), integer (from `low` to `high`), cursor (a
    page's `next`) or format (one of FORMATS). Without a default it is required."""

    name: str
    kind: str
    description: str
    default: int | str | None = None
    low: int = 1
    high: int = 1


@dataclass(frozen=True)
class Route:
    summary: str
    params: tuple[Param, ...]
    response: dict
    errors: tuple[int, ...] = (400,)
    #: Whether the route asks Cassandra, and so answers 503 when it is down or too slow.
    reads_storage: bool = True

    @property
    def table(self) -> str | None:
        """The key of the body's one list, which format=csv writes a row per item; None without FORMAT."""
        if FORMAT not in self.params:
            return None
        (key,) = [key for key, schema in self.response["properties"].items() if schema.get("type") == "array"]
        return key

    def columns(self) -> list[str]:
        """The csv header: an object item's properties in order, or a scalar item's `title`."""
        items = self.response["properties"][self.table]["items"]
        return list(items["properties"]) if items.get("type") == "object" else [items["title"]]


LANG = Param("lang", "lang", "Wiki code, e.g. `en`, `de`, `zh_yue`.")
#: The `month` value that stands for the newest complete month of the request's language.
LATEST = "latest"
MONTH = Param("month", "month",
              f"Month of the dump, `YYYY-MM`, or `{LATEST}` for the newest month of the language with a complete load.")
TITLE = Param("title", "text", "Exact article title, with `_` for spaces (e.g. `AC/DC`, `New_York_City`).")


#: At most this many characters: a cursor holds one n and one title.
MAX_CURSOR_CHARS = 4 * MAX_TITLE_BYTES
AFTER = Param("after", "cursor", "The `next` of the previous page; leave it out for the first page.", default="")


FORMATS = ("json", "csv")
FORMAT = Param("format", "format", "`json`, or `csv` for the list alone as a table (a header row, then one row per "
               "item; a nested value is written as JSON). Errors are JSON either way.", default="json")


#: The parameters a csv answer's file is named after, in this order: top-en-2024-11.csv.
FILENAME_PARAMS = ("lang", "month", "title", "q")


def limit(default: int, high: int) -> Param:
    return Param("limit", "integer", "Number of rows to return.", default=default, high=high)


# JSON Schema pieces of the responses.
STRING, INTEGER, NUMBER = {"type": "string"}, {"type": "integer"}, {"type": "number"}


def obj(**properties) -> dict:
    return {"type": "object", "properties": properties, "required": list(properties)}


def array(items: dict) -> dict:
    return {"type": "array", "items": items}


def nullable(schema: dict) -> dict:
    return {**schema, "type": [schema["type"], "null"]}


def named(schema: dict, column: str) -> dict:
    """A scalar list item, with the csv column it fills."""
    return {**schema, "title": column}


SOURCES = obj(**{key: INTEGER for key in SOURCE_KEYS})
EDGE = obj(title=STRING, type=STRING, n=INTEGER)
RANKED = obj(title=STRING, incoming_total=INTEGER)
LOAD = {
    "type": "object",
    "properties": {
        "lang": STRING, "month": STRING, "run": nullable(STRING),
        "status": {"enum": [status.value for status in LoadStatus]},
        "file": nullable(STRING), "checksum": nullable(STRING),
        "rows_accepted": INTEGER, "rows_rejected": INTEGER, "rows_processed": nullable(INTEGER),
        "rejected_by_reason": {"type": "object", "additionalProperties": INTEGER},
        "rows_per_second": nullable(NUMBER), "seconds": nullable(NUMBER),
        "lag": nullable(INTEGER), "error": nullable(STRING),
        **{f"{moment}_at": nullable(STRING) for moment in ("started", "produced", "completed", "updated")},
    },
    "required": ["lang", "month", "status"],
}
HEALTH = {
    "type": "object",
    "properties": {
        "status": {"enum": ["ok", "unavailable"]},
        "cassandra": {"type": "object", "properties": {
            "status": {"enum": ["ok", "unavailable"]}, "error": STRING,
            "hosts": array(obj(address=STRING, datacenter=nullable(STRING), is_up=nullable({"type": "boolean"}))),
        }},
        "streaming": {"type": "object", "properties": {
            "status": {"enum": ["ok", "stale", "unknown"]}, "age_seconds": nullable(NUMBER), "lag": nullable(INTEGER),
        }},
    },
    "required": ["status", "cassandra"],
}

ROUTES = {
    "/article": Route(
        "Totals, source mix and top incoming/outgoing rows of one article in one month.",
        (TITLE, LANG, MONTH, limit(10, 500)),
        obj(title=STRING, lang=STRING, month=STRING, incoming_total=INTEGER, outgoing_total=INTEGER,
            sources=SOURCES, source_count=nullable(INTEGER), destination_count=nullable(INTEGER),
            incoming=array(EDGE), outgoing=array(EDGE)),
        (400, 404),
    ),
    **{f"/{direction}": Route(
        f"Every row {way} an article, best first (n descending, then title), a page at a time: pass the "
        "answer's `next` as `after` for the next page; `next` is null on the last page.",
        (TITLE, LANG, MONTH, limit(100, 1000), AFTER, FORMAT),
        obj(title=STRING, lang=STRING, month=STRING, edges=array(EDGE), next=nullable(STRING)),
        (400, 404),
    ) for direction, way in (("incoming", "into"), ("outgoing", "out of"))},
    "/months": Route("Months of a language with a complete load, newest first.", (LANG, FORMAT),
                     obj(lang=STRING, months=array(named(STRING, "month"))), (400, 404)),
    "/languages": Route("Languages with at least one complete load.", (FORMAT,),
                        obj(languages=array(named(STRING, "lang")))),
    "/month": Route("Totals and source mix of a whole month.", (LANG, MONTH),
                    obj(lang=STRING, month=STRING, rows=INTEGER, total_clicks=INTEGER, sources=SOURCES), (400, 404)),
    "/top": Route("The month's most-read articles, by incoming clicks.",
                  (LANG, MONTH, limit(10, TOP_ARTICLES_LIMIT), FORMAT),
                  obj(lang=STRING, month=STRING, articles=array(RANKED)), (400, 404)),
    "/movers": Route(
        "The biggest changes in incoming clicks against the previous month, by absolute change.",
        (LANG, MONTH, limit(10, MOVERS_LIMIT), FORMAT),
        obj(lang=STRING, month=STRING,
            movers=array(obj(title=STRING, incoming_total=INTEGER, previous_total=INTEGER, change=INTEGER))),
        (400, 404),
    ),
    "/search": Route(
        "Titles starting with `q`, ignoring case, accents and `_` against space, most-read first (by incoming "
        f"clicks, then title). A `q` longer than {SEARCH_PREFIX_CHARS} characters ranks its first {SEARCH_SCAN} "
        "matches in folded title order.",
        (Param("q", "text", "What the reader typed so far."), LANG, MONTH, limit(10, SEARCH_TOP), FORMAT),
        obj(titles=array(named(STRING, "title"))), (400, 404),
    ),
    "/trend": Route("An article's totals and source mix in every loaded month, oldest first.", (TITLE, LANG, FORMAT),
                    obj(title=STRING, lang=STRING,
                        months=array(obj(month=STRING, incoming_total=INTEGER, outgoing_total=INTEGER,
                                         sources=SOURCES))),
                    (400, 404)),
    "/related": Route("Articles read from the same places as this one, best first.",
                      (TITLE, LANG, MONTH, limit(ANALYTICS_TOP, ANALYTICS_TOP), FORMAT),
                      obj(title=STRING, lang=STRING, month=STRING, related=array(obj(title=STRING, score=NUMBER))),
                      (400, 404)),
    "/paths": Route(
        "The most probable paths of exactly `k` clicks out of an article; each path starts with the article.",
        (TITLE, LANG, MONTH, Param("k", "integer", "Clicks per path.", default=3, high=MAX_PATH_STEPS),
         limit(ANALYTICS_TOP, ANALYTICS_TOP), FORMAT),
        obj(title=STRING, lang=STRING, month=STRING, k=INTEGER,
            paths=array(obj(path=array(STRING), probability=NUMBER))),
        (400, 404),
    ),
    "/pagerank": Route("The month's articles by PageRank, best first.",
                       (LANG, MONTH, limit(10, PAGERANK_LIMIT), FORMAT),
                       obj(lang=STRING, month=STRING, articles=array(obj(rank=INTEGER, title=STRING, score=NUMBER))),
                       (400, 404)),
    "/ingestion": Route("Every load and its status: loading, processing, complete or failed.", (FORMAT,),
                        obj(loads=array(LOAD)), (400,)),
    "/health": Route("Whether Cassandra answers (503 if not), the nodes the driver knows, and the stream's lag.",
                     (), HEALTH, ()),
    "/openapi.json": Route("This document.", (), {"type": "object"}, (), reads_storage=False),
}

ERRORS = {
    400: "A parameter is missing or malformed.",
    404: "Nothing is stored for these parameters.",
    503: "Cassandra does not answer, or not in time; ask again after the Retry-After header's seconds.",
}
#: Refused before the API sees the request (gunicorn's limit_request_line, nginx's header buffers), as their HTML.
URI_TOO_LONG = {"description": "The request line is longer than 4,094 bytes; answered by the web server, not "
                               "the API, so the body is the server's own HTML."}


def param_schema(param: Param) -> dict:
    if param.kind == "integer":
        return {"type": "integer", "minimum": param.low, "maximum": param.high, "default": param.default}
    if param.kind == "lang":
        return {"type": "string", "pattern": LANG_PATTERN.pattern}
    if param.kind == "month":
        return {"type": "string", "pattern": f"{MONTH_PATTERN.pattern}|^{LATEST}$"}
    if param.kind == "format":
        return {"type": "string", "enum": list(FORMATS), "default": param.default}
    if param.kind == "cursor":
        return {"type": "string", "maxLength": MAX_CURSOR_CHARS}
    # maxLength counts characters; the real limit is in UTF-8 bytes, so it is also in the description.
    return {"type": "string", "minLength": 1, "maxLength": MAX_TITLE_BYTES}


def _csv_answer(path: str, route: Route) -> dict:
    """The 200's text/csv half, and the headers a csv answer carries."""
    names = {p.name for p in route.params}
    name = "-".join([path.strip("/")] + [f"<{name}>" for name in FILENAME_PARAMS if name in names])
    headers = {"Content-Disposition": {"description": f'With format=csv: `attachment; filename="{name}.csv"`.',
                                       "schema": STRING}}
    if AFTER in route.params:
        headers["Link"] = {"description": 'With format=csv and a following page: `<URL of that page>; rel="next"` '
                                          "(a JSON answer has it as `next`).", "schema": STRING}
    description = (f"OK. With format=csv: the header row `{','.join(route.columns())}`, then one row per item "
                   f"of `{route.table}`.")
    return {"description": description, "headers": headers, "content": {
        "application/json": {"schema": route.response},
        "text/csv": {"schema": {"type": "string"}},
    }}


def _operation(path: str, route: Route) -> dict:
    responses = {"200": {"description": "OK", "content": {"application/json": {"schema": route.response}}}}
    if route.table:
        responses["200"] = _csv_answer(path, route)
    for status in route.errors + ((503,) if route.reads_storage else ()):
        error = {"$ref": "#/components/schemas/Error"}
        responses[str(status)] = {"description": ERRORS[status], "content": {"application/json": {"schema": error}}}
    responses["414"] = URI_TOO_LONG
    parameters = [{
        "name": p.name, "in": "query", "required": p.default is None, "schema": param_schema(p),
        "description": p.description + (f" At most {MAX_TITLE_BYTES} UTF-8 bytes." if p.kind == "text" else ""),
    } for p in route.params]
    operation_id = path.strip("/").replace(".", "_")
    return {"get": {"operationId": operation_id, "summary": route.summary, "parameters": parameters,
                    "responses": responses}}


def document() -> dict:
    """The OpenAPI 3.1 description of every route in ROUTES."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Wikipedia clickstream API", "version": "1",
                 "description": "Read-only JSON over the loaded clickstream months; list routes also answer "
                                "`format=csv`. Errors are `{error}`; an unknown /api/v1 path is 404 and a "
                                "method other than GET is 405. Every answer allows any origin (CORS)."},
        "paths": {PREFIX + path: _operation(path, route) for path, route in ROUTES.items()},
        "components": {"schemas": {"Error": obj(error=STRING)}},
    }
