"""Locust users that read the clickstream API the way people do.

    locust -f loadtests/locustfile.py --host http://127.0.0.1:8050

Titles are drawn Zipf-like from the bundled sample's articles, so hot articles are hot, and a few
unknown titles exercise the 404 path. Traffic goes to the host given (127.0.0.1 by default).
"""

from __future__ import annotations

import os
import random
from pathlib import Path

from locust import between, task
from locust.contrib.fasthttp import FastHttpUser

SAMPLE = Path(__file__).resolve().parent.parent / "tests" / "data" / "clickstream-enwiki-2024-11.tsv"
LANG, MONTH = "en", "2024-11"


def _titles_by_popularity() -> list[str]:
    """Articles of the sample, most clicked first."""
    totals: dict[str, int] = {}
    for line in SAMPLE.read_text(encoding="utf-8").splitlines():
        _, curr, _, n = line.split("\t")
        totals[curr] = totals.get(curr, 0) + int(n)
    return sorted(totals, key=totals.get, reverse=True)


TITLES = _titles_by_popularity()
ZIPF_WEIGHTS = [1 / rank for rank in range(1, len(TITLES) + 1)]


class ApiReader(FastHttpUser):
    """Someone exploring articles through the JSON API."""

    wait_time = between(0.0, 0.05)
    host = os.environ.get("CLICKSTREAM_WEB_URL", "http://127.0.0.1:8050")

    @task(20)
    def article(self):
        title = random.choices(TITLES, ZIPF_WEIGHTS)[0]
        self.client.get("/api/v1/article", params={"title": title, "lang": LANG, "month": MONTH},
                        name="/api/v1/article")

    @task(1)
    def unknown_article(self):
        with self.client.get("/api/v1/article", params={"title": f"No_such_{random.random()}", "lang": LANG,
                                                        "month": MONTH},
                             name="/api/v1/article [404]", catch_response=True) as response:
            if response.status_code == 404:
                response.success()

    @task(1)
    def ingestion(self):
        self.client.get("/api/v1/ingestion")
