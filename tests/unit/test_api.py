import pytest

from webui import db
from webui.app import create_app


class FakeQueries:
    def __init__(self):
        self.calls = []

    def article(self, lang, month, title, limit):
        self.calls.append((lang, month, title, limit))
        return None if title == "Missing" else {"title": title, "lang": lang, "month": month}

    def ingestion(self):
        return [{"lang": "en", "month": "2024-11", "status": "complete"}]


@pytest.fixture
def client(monkeypatch):
    fake = FakeQueries()
    monkeypatch.setattr(db, "queries", lambda: fake)
    client = create_app().server.test_client()
    client.fake = fake
    return client


def test_article_passes_exact_title_and_default_limit(client):
    r = client.get("/api/v1/article", query_string={"title": 'AC/DC_"x"&?', "lang": "en", "month": "2024-11"})
    assert r.status_code == 200
    assert client.fake.calls == [("en", "2024-11", 'AC/DC_"x"&?', 10)]


def test_unknown_article_is_404_with_error(client):
    r = client.get("/api/v1/article?title=Missing&lang=en&month=2024-11")
    assert r.status_code == 404 and "Missing" in r.json["error"]


@pytest.mark.parametrize("query, message", [
    ("lang=en&month=2024-11", "title"),
    ("title=A&month=2024-11", "lang"),
    ("title=A&lang=en&month=2024-13", "month"),
    ("title=A&lang=EN!&month=2024-11", "language"),
    ("title=A&lang=en&month=2024-11&limit=501", "limit"),
    ("title=A&lang=en&month=2024-11&limit=abc", "limit"),
    ("title=" + "x" * 256 + "&lang=en&month=2024-11", "255 bytes"),
])
def test_bad_parameters_are_400_with_a_message(client, query, message):
    r = client.get("/api/v1/article?" + query)
    assert r.status_code == 400
    assert message in r.json["error"]
    assert client.fake.calls == []


def test_ingestion_lists_loads(client):
    assert client.get("/api/v1/ingestion").json == {"loads": [{"lang": "en", "month": "2024-11", "status": "complete"}]}
