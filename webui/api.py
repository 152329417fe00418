"""The JSON API, /api/v1: thin routes over the query layer, with clear 400s and 404s.

Every route and its parameters are described in `webui.openapi.ROUTES`; `_route` parses and
checks the parameters from there, resolves `month=latest`, passes them to the view by name and
writes the view's dict as JSON (Flask's own conversion) or, for `format=csv`, its list as CSV.
Every error is JSON `{error}`, bad input is never a 500, and an internal error never shows a
stack trace.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote

from flask import Blueprint, Response, jsonify, request, url_for
from werkzeug.exceptions import BadRequest, HTTPException, InternalServerError, NotFound

from contract.records import MAX_TITLE_BYTES, check_lang, check_month
from webui import caching, csv_table, db, openapi
from webui.openapi import FILENAME_PARAMS, FORMATS, LATEST, PREFIX, ROUTES, Param, Route

api = Blueprint("api", __name__, url_prefix=PREFIX)
#: What a 503 asks the client to wait: about one driver request timeout.
RETRY_AFTER_SECONDS = 5


def _text(param: Param, raw: str) -> str:
    # Werkzeug keeps undecodable percent-escapes as text, so `raw` always encodes.
    if len(raw.encode("utf-8")) > MAX_TITLE_BYTES:
        raise BadRequest(f"{param.name} is longer than {MAX_TITLE_BYTES} bytes")
    return raw


def _integer(param: Param, raw: str) -> int:
    # isascii: str.isdigit() also accepts digits like '²' that int() refuses; the length bound
    # keeps int() away from its 4300-digit limit.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 9 and param.low <= int(raw) <= param.high):
        raise BadRequest(f"{param.name} must be an integer from {param.low} to {param.high}, got {raw[:40]!r}")
    return int(raw)


def _checked(check):
    def parse(param: Param, raw: str) -> str:
        try:
            return check(raw)
        except ValueError as err:
            raise BadRequest(str(err)) from None
    return parse


def _cursor(param: Param, raw: str) -> tuple[int, str]:
    """A page's `next` back to the (n, title) it was made from; anything else is a 400."""
    try:
        if len(raw) > openapi.MAX_CURSOR_CHARS:
            raise ValueError
        n, title = json.loads(base64.urlsafe_b64decode(raw.encode("ascii") + b"=" * (-len(raw) % 4)))
        if (type(n) is not int or not 0 <= n < 2**63
                or not isinstance(title, str) or len(title.encode("utf-8")) > MAX_TITLE_BYTES):
            raise ValueError
    except (ValueError, TypeError, UnicodeError, binascii.Error):
        raise BadRequest(f"{param.name} is not a cursor this API gave out") from None
    return n, title


def cursor(after: tuple[int, str]) -> str:
    text = json.dumps(list(after), ensure_ascii=False, separators=(",", ":"))
    return base64.urlsafe_b64encode(text.encode("utf-8")).decode("ascii").rstrip("=")


def _month(param: Param, raw: str) -> str:
    # `latest` needs the language, so `_latest_month` resolves it once every parameter is parsed.
    return LATEST if raw == LATEST else _checked(check_month)(param, raw)


def _format(param: Param, raw: str) -> str:
    if raw not in FORMATS:
        raise BadRequest(f"{param.name} must be one of {', '.join(FORMATS)}, got {raw[:40]!r}")
    return raw


PARSERS = {"text": _text, "integer": _integer, "cursor": _cursor, "format": _format,
           "lang": _checked(check_lang), "month": _month}


def _parse(param: Param):
    """A parameter left out takes its default (or is missing); one given empty is parsed like any value, so
    `limit=` is a 400 as the document says, except a cursor's, whose empty value is the first page."""
    raw = request.args.get(param.name)
    if raw is None or raw == "" and (param.kind == "cursor" or param.default is None):
        if param.default is None:
            raise BadRequest(f"missing parameter {param.name!r}")
        return param.default
    return PARSERS[param.kind](param, raw)


def _latest_month(lang: str) -> str:
    """The newest month of `lang` with a complete load, for `month=latest`."""
    found = db.queries().months(lang)
    if not found:
        raise NotFound(f"month={LATEST}: no complete load for language {lang!r}")
    return found[0]


def _route(path: str):
    """Register the decorated view for GET `path`; it is called with the route's parsed parameters."""
    route = ROUTES[path]

    def answer(view):
        values = {p.name: _parse(p) for p in route.params}
        as_csv = values.pop("format", None) == "csv"
        if values.get("month") == LATEST:
            values["month"] = _latest_month(values["lang"])
        body = view(**values)
        return _as_csv(path, route, values, body) if as_csv else body

    def register(view):
        api.add_url_rule(path, endpoint=view.__name__, view_func=lambda: answer(view))
        return view
    return register


def _as_csv(path: str, route: Route, values: dict, body: dict) -> Response:
    """The route's list as a CSV attachment; a following page is in the Link header, as the body has no room."""
    answer = Response(csv_table.to_csv(route.columns(), body[route.table]), mimetype="text/csv")
    answer.headers["Content-Disposition"] = _attachment(path, values)
    if body.get("next"):
        following = {name: value for name, value in values.items() if name != "after"}
        url = url_for(request.endpoint, **following, after=body["next"], format="csv")
        answer.headers["Link"] = f'<{url}>; rel="next"'
    return answer


def _attachment(path: str, values: dict) -> str:
    """`attachment` named like top-en-2024-11.csv, with the exact UTF-8 name alongside an ASCII one (RFC 6266)."""
    name = "-".join([path.strip("/")] + [values[param] for param in FILENAME_PARAMS if param in values])
    plain = re.sub(r"[^A-Za-z0-9._-]+", "_", name)[:200]
    exact = "" if plain == name else f"; filename*=UTF-8''{quote(name, safe='')}.csv"
    return f'attachment; filename="{plain}.csv"{exact}'


def _known_month(lang: str, month: str) -> dict:
    """The month's totals, or a 404 when its load has not completed (an empty list alone is no answer)."""
    found = db.queries().month(lang, month)
    if found is None:
        raise NotFound(f"no complete load for {lang} {month}")
    return found


def _known_article(lang: str, month: str, title: str) -> None:
    if not db.queries().article_exists(lang, month, title):
        raise NotFound(f"no clickstream rows for {title!r} in {lang} {month}")


@_route("/article")
def article(title: str, lang: str, month: str, limit: int):
    found = db.queries().article(lang, month, title, limit)
    if found is None:
        raise NotFound(f"no clickstream rows for {title!r} in {lang} {month}")
    return found


def _edges(direction: str, title: str, lang: str, month: str, limit: int, after):
    _known_article(lang, month, title)
    page, following = db.queries().edges(lang, month, title, direction, limit, after or None)
    return dict(title=title, lang=lang, month=month, edges=page, next=cursor(following) if following else None)


@_route("/incoming")
def incoming(**params):
    return _edges("incoming", **params)


@_route("/outgoing")
def outgoing(**params):
    return _edges("outgoing", **params)


@_route("/months")
def months(lang: str):
    found = db.queries().months(lang)
    if not found:
        raise NotFound(f"no complete load for language {lang!r}")
    return dict(lang=lang, months=found)


@_route("/languages")
def languages():
    return dict(languages=db.queries().languages())


@_route("/month")
def month_totals(lang: str, month: str):
    return _known_month(lang, month)


def _month_list(lang: str, month: str, name: str, found: list) -> dict:
    """A month's list under `name`; an empty one answers only for a known month (its first has no movers)."""
    if not found:
        _known_month(lang, month)
    return {"lang": lang, "month": month, name: found}


def _article_list(title: str, lang: str, month: str, name: str, found: list, **extra) -> dict:
    """An article's analytics under `name`; they may find nothing for a real article, only an unknown one is a 404."""
    if not found:
        _known_article(lang, month, title)
    return {"title": title, "lang": lang, "month": month, **extra, name: found}


@_route("/top")
def top(lang: str, month: str, limit: int):
    return _month_list(lang, month, "articles", db.queries().top(lang, month, limit))


@_route("/movers")
def movers(lang: str, month: str, limit: int):
    return _month_list(lang, month, "movers", db.queries().movers(lang, month, limit))


@_route("/search")
def search(q: str, lang: str, month: str, limit: int):
    return dict(titles=db.queries().search(lang, month, q, limit))


@_route("/trend")
def trend(title: str, lang: str):
    found = db.queries().trend(lang, title)
    if not found:
        raise NotFound(f"no month has clickstream rows for {title!r} in {lang}")
    return dict(title=title, lang=lang, months=found)


@_route("/related")
def related(title: str, lang: str, month: str, limit: int):
    return _article_list(title, lang, month, "related", db.queries().related(lang, month, title, limit))


@_route("/paths")
def paths(title: str, lang: str, month: str, k: int, limit: int):
    return _article_list(title, lang, month, "paths", db.queries().paths(lang, month, title, k, limit), k=k)


@_route("/pagerank")
def pagerank(lang: str, month: str, limit: int):
    return _month_list(lang, month, "articles", db.queries().pagerank(lang, month, limit))


@_route("/ingestion")
def ingestion():
    return dict(loads=db.queries().ingestion())


@_route("/health")
def health():
    try:
        report = db.queries().health()
    except Exception as err:  # noqa: BLE001 - no session at all (Cassandra down at first use) is a report too
        report = {"status": "unavailable", "cassandra": {"status": "unavailable", "error": str(err), "hosts": []},
                  "streaming": {"status": "unknown", "age_seconds": None, "lag": None}}
    return report, 200 if report["status"] == "ok" else 503


@_route("/openapi.json")
def openapi_document():
    return openapi.document()


# Without this, Dash's catch-all page route would answer unknown API paths with HTML and a 200.
@api.get("/", defaults={"unknown": ""})
@api.get("/<path:unknown>")
def unknown_path(unknown: str):
    raise NotFound(f"no such API route: {request.path} (see {PREFIX}/openapi.json)")


@api.errorhandler(HTTPException)
def _http_error(err: HTTPException):
    return jsonify(error=err.description), err.code


@api.app_errorhandler(405)
def _method_not_allowed(err: HTTPException):
    # A routing error belongs to no blueprint, so this handler is app-wide; other paths keep Flask's page.
    if request.path.startswith(PREFIX + "/"):
        return jsonify(error=err.description), 405, {"Allow": ", ".join(err.valid_methods or ())}
    return err


# A read-only public API that reads no cookies or other credentials, so any origin may call it:
# `*` is right, and with `*` browsers send no credentials anyway. ETag and Link must be exposed
# for a page's script to read them.
CORS_HEADERS = {"Access-Control-Allow-Origin": "*",
                "Access-Control-Expose-Headers": "ETag, Link, Retry-After, Content-Disposition"}
PREFLIGHT_HEADERS = {"Access-Control-Allow-Methods": "GET", "Access-Control-Allow-Headers": "If-None-Match",
                     "Access-Control-Max-Age": "86400"}


@api.after_app_request
def _allow_any_origin(response: Response) -> Response:
    """CORS on every /api/v1 answer, errors and 405s included (app-wide, as a routing error has no blueprint)."""
    if request.path.startswith(PREFIX + "/"):
        response.headers.update(CORS_HEADERS)
        if request.method == "OPTIONS":  # Flask answers the preflight itself, from the route's methods
            response.headers.update(PREFLIGHT_HEADERS)
    return response


def _storage_unavailable(err: Exception) -> bool:
    """Whether `err` is Cassandra being unreachable or too slow, rather than a bug of ours."""
    from cassandra import OperationTimedOut, RequestExecutionException
    from cassandra.cluster import NoHostAvailable

    # RequestExecutionException covers the coordinator's Unavailable, ReadTimeout and ReadFailure;
    # not DriverException as a whole, whose InvalidRequest and Unauthorized are our bugs.
    return isinstance(err, (NoHostAvailable, OperationTimedOut, RequestExecutionException))


@api.errorhandler(InternalServerError)
def _internal_error(err: InternalServerError):
    cause = err.original_exception
    if cause is not None and _storage_unavailable(cause):
        # A client can do something about this one: wait and ask again.
        return (jsonify(error=f"storage is unavailable or slow ({type(cause).__name__}); try again shortly"),
                503, {"Retry-After": str(RETRY_AFTER_SECONDS)})
    # Flask has already logged the exception with its traceback (Flask.log_exception).
    return jsonify(error="internal error; the server log has the details"), 500


caching.register(api)
