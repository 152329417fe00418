"""The JSON API, /api/v1: thin routes over the query layer, with clear 400s and 404s."""

from __future__ import annotations

from flask import Blueprint, jsonify, request

from contract.records import MAX_TITLE_BYTES, check_lang, check_month
from webui import db

api = Blueprint("api", __name__, url_prefix="/api/v1")

LIMIT_RANGE = (1, 500)
DEFAULT_LIMIT = 10


class BadRequest(ValueError):
    """A parameter is missing or malformed; the message is shown to the caller."""


def _param(name: str) -> str:
    value = request.args.get(name)
    if value is None or value == "":
        raise BadRequest(f"missing parameter {name!r}")
    return value


def _title() -> str:
    title = _param("title")
    if len(title.encode("utf-8")) > MAX_TITLE_BYTES:
        raise BadRequest(f"title is longer than {MAX_TITLE_BYTES} bytes")
    return title


def _checked(check, name: str) -> str:
    try:
        return check(_param(name))
    except ValueError as err:
        raise BadRequest(str(err)) from None


def _limit() -> int:
    raw = request.args.get("limit", str(DEFAULT_LIMIT))
    low, high = LIMIT_RANGE
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"limit must be an integer from {low} to {high}, got {raw!r}")
    return int(raw)


@api.errorhandler(BadRequest)
def _bad_request(err: BadRequest):
    return jsonify(error=str(err)), 400


@api.get("/article")
def article():
    """Totals, source mix and top incoming/outgoing rows of one article in one month."""
    lang, month = _checked(check_lang, "lang"), _checked(check_month, "month")
    title, limit = _title(), _limit()
    found = db.queries().article(lang, month, title, limit)
    if found is None:
        return jsonify(error=f"no clickstream rows for {title!r} in {lang} {month}"), 404
    return jsonify(found)


@api.get("/ingestion")
def ingestion():
    """Every load and its status: loading, processing, complete or failed."""
    return jsonify(loads=db.queries().ingestion())


@api.get("/health")
def health():
    """Whether the web UI can read Cassandra."""
    try:
        db.queries().ingestion()
    except Exception as err:  # noqa: BLE001 - health reports any failure instead of raising it
        return jsonify(status="unavailable", cassandra=str(err)), 503
    return jsonify(status="ok", cassandra="ok")
