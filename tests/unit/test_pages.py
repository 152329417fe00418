import dash
import pytest

from webui import db
from webui.app import create_app


class FakeQueries:
    def article(self, lang, month, title, limit):
        if title == "Missing":
            return None
        return {"title": title, "lang": lang, "month": month, "incoming_total": 30, "outgoing_total": 0,
                "sources": {"link": 30}, "incoming": [{"title": "B", "type": "link", "n": 30}], "outgoing": []}

    def ingestion(self):
        return [{"lang": "en", "month": "2024-11", "status": "complete", "rows_accepted": 1, "rows_rejected": 0,
                 "rows_per_second": 1.0, "lag": 0, "error": None}]


@pytest.fixture(autouse=True)
def fake(monkeypatch):
    create_app()  # registers the pages and their callbacks
    monkeypatch.setattr(db, "queries", lambda: FakeQueries())


def test_article_callback_renders_and_puts_choices_in_the_url():
    from webui.pages.article import show_article

    children, search = show_article("AC/DC", "en", "2024-11")
    assert search == "?title=AC%2FDC&lang=en&month=2024-11"
    assert "30" in str(children)


def test_article_callback_says_when_nothing_is_found():
    from webui.pages.article import show_article

    children, _ = show_article("Missing", "en", "2024-11")
    assert "No clickstream rows" in str(children)


def test_ingestion_page_lists_loads():
    from webui.pages.ingestion import refresh

    assert refresh(0)[0]["status"] == "complete"


def test_every_page_is_registered():
    assert {p["path"] for p in dash.page_registry.values()} >= {"/", "/ingestion"}
