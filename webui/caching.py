"""HTTP caching of the JSON API: ETag and Cache-Control for answers that can no longer change.

Once a month's load is complete, its articles, edges, top list, titles and totals are fixed until
the month is loaded again, which gives it a new run id (`Queries.complete_run`). Such an answer
gets a strong ETag made from that run id and the request's path and query, so clients and caches
may keep it and ask again with If-None-Match, which is a 304 without running the view. Every
other API answer (a month still loading, movers and analytics, which change after completion,
health, ingestion, errors) is `no-store`. The fixed answers also tell the front server how long it
may keep them (`X-Accel-Expires`); nothing else carries that header, so nginx keeps nothing else.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, g, request
from werkzeug.http import is_resource_modified

from contract.records import check_lang, check_month
from webui import db
from webui.openapi import PREFIX

#: The views (endpoint names in webui.api) whose answer for a complete month is fixed until a reload.
IMMUTABLE_VIEWS = frozenset({"article", "incoming", "outgoing", "top", "search", "month_totals"})
#: Caches may keep such an answer but must ask again before each use (`no-cache`, not a max-age): a
#: reload gives the month a new run, and a cache that reused the old answer for a max-age would
#: serve it after the new run is complete. Asking again is cheap: a 304 runs no view.
CACHE_CONTROL = "public, no-cache"
#: How long the front server (infra/images/front) may reuse such an answer without asking the app: sent
#: as `X-Accel-Expires`, which nginx obeys and strips. Bounded by the query layer's memo of a month's run
#: id (webui.cache.TTL_SECONDS, 5 s), the one other place a reload is seen late: through nginx a
#: reload's new answers show at most this much later than through the app alone.
FRONT_CACHE_SECONDS = 5


def register(blueprint: Blueprint) -> None:
    """Install the caching hooks on the API's blueprint."""
    blueprint.before_request(_answer_from_cache)
    blueprint.after_app_request(_cache_headers)


def _settled_run() -> str | None:
    """The run id of the complete month this request's answer comes from, else None."""
    endpoint = (request.endpoint or "").rpartition(".")[2]
    if endpoint not in IMMUTABLE_VIEWS:
        return None
    try:
        lang, month = check_lang(request.args.get("lang", "")), check_month(request.args.get("month", ""))
    except ValueError:
        return None  # the view answers 400
    return db.queries().complete_run(lang, month)


def etag(run: str, full_path: str) -> str:
    """The strong ETag of the answer to `full_path` (path and query) from run `run`."""
    return hashlib.sha256(f"{run}\n{full_path}".encode()).hexdigest()[:32]


def _answer_from_cache():
    # Asked before the view reads, as the query layer's memo does: an answer read while the month
    # was still loading must not be tagged with the run that completed during the read.
    run = _settled_run()
    g.settled_etag = etag(run, request.full_path) if run else None
    if g.settled_etag and not is_resource_modified(request.environ, etag=g.settled_etag):
        return Response(status=304)
    return None


def _cache_headers(response: Response) -> Response:
    if request.path != PREFIX and not request.path.startswith(PREFIX + "/"):
        return response  # the dashboard's own answers are Dash's business
    tag = g.get("settled_etag")
    if tag and response.status_code in (200, 304):
        response.set_etag(tag)
        response.headers["Cache-Control"] = CACHE_CONTROL
        response.headers["X-Accel-Expires"] = str(FRONT_CACHE_SECONDS)
    else:
        response.headers["Cache-Control"] = "no-store"
    return response
