"""Security headers on every answer of the app factory's server: pages, assets, the API, its errors."""

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
        "Content-Security-Policy": "frame-ancestors 'none'", "X-Frame-Options": "DENY"}


def test_the_policy_leaves_dashs_inline_renderer_script_alone(client):
    page = client.get("/")
    assert b">var renderer = new DashRenderer();</script>" in page.data
    assert "script-src" not in page.headers["Content-Security-Policy"]
