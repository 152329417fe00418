"""Security headers on every answer of the app factory's server: pages, assets, the API, its errors."""

import base64
import hashlib
import re

import pytest

from webui import db
from webui.app import create_app
from webui.headers import SECURITY_HEADERS


class HealthyQueries:
    """Just enough of the query layer for a health report and an unknown month."""

    def health(self):
        return {"status": "ok", "cassandra": {"status": "ok", "hosts": []}, "streaming": {"status": "unknown"}}

    def complete_run(self, lang, month):
        return None

    def month(self, lang, month):
        return None


@pytest.fixture(scope="module")
def client():
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(db, "queries", HealthyQueries)
        yield create_app().server.test_client()


@pytest.mark.parametrize("method, url, status", [
    ("get", "/", 200), ("get", "/_dash-layout", 200), ("get", "/assets/style.css", 200),
    ("get", "/api/v1/health", 200), ("get", "/api/v1/month?lang=en&month=2024-11", 404),
    ("get", "/api/v1/nope", 404), ("post", "/api/v1/health", 405), ("get", "/api/v1/month?lang=!", 400),
])
def test_every_answer_carries_the_security_headers(client, method, url, status):
    r = getattr(client, method)(url)
    assert r.status_code == status
    assert {name: r.headers.get(name) for name in SECURITY_HEADERS} == {
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY"}
    policy = directives(r.headers["Content-Security-Policy"])
    assert policy["default-src"] == policy["base-uri"] == policy["form-action"] == ["'self'"]
    assert policy["frame-ancestors"] == policy["object-src"] == ["'none'"]


def directives(policy: str) -> dict[str, list[str]]:
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def test_the_policy_runs_exactly_the_inline_scripts_dash_renders_the_page_with(client):
    page = re.sub(r"<!--.*?-->", "", client.get("/").text, flags=re.S)  # an IE-only script never runs
    inline = re.findall(r"<script(?![^>]*\b(?:src=|type=\"application/json\"))[^>]*>(.*?)</script>", page, re.S)
    # The renderer's start, and each page's clientside callbacks (the scroll to a #section) among them.
    assert any("new DashRenderer()" in s for s in inline) and any("scrollIntoView" in s for s in inline)
    hashes = {f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline}
    script_src = directives(client.get("/").headers["Content-Security-Policy"])["script-src"]
    assert script_src[0] == "'self'" and set(script_src[1:]) == hashes
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
