"""Locust users of the web UI: readers of the JSON API and people clicking through the Dash pages.

    python -m locust -f loadtests/locustfile.py --host http://127.0.0.1:8050                 # web UI on :8089
    python -m locust -f loadtests/locustfile.py --host http://127.0.0.1:8050 --class-picker  # choose the classes
    python -m locust -f loadtests/locustfile.py --headless -u 10 -t 30s ApiReader -T article # only article lookups
    python -m loadtests.run api                                                    # a scenario, with thresholds

It imports loadtests.* and webui.ids (installed editable: toolchain/checkout_venv.sh), from any directory;
`python -m loadtests.run` runs Locust from the repository root so that the relative -f paths resolve.
Only loopback hosts are accepted. Titles are the loaded month's /api/v1/top, drawn 1/rank
(see loadtests/titles.py); requests are named by route so the stats group per endpoint.

Weights (docs/loadtests.md): users ApiReader 3 : DashboardUser 1. An ApiReader runs
CLICKSTREAM_LOADTEST_PACE tasks a second (default 12), picked article 12, search 3, trend 2, top 1,
unknown article 1, related 1, paths 1, month/pagerank/movers 1, languages/months 1. A DashboardUser thinks
1-3 s between actions: explore an article 6, open a page 2, reload 1, watch a live page 1.
"""

from __future__ import annotations

import logging
import os
import random
from urllib.parse import urlencode

import gevent
from locust import between, constant_throughput, events, tag, task
from locust.exception import StopUser
from locust.contrib.fasthttp import FastHttpUser

from loadtests import dash_calls, target, titles
from webui import ids

DEFAULT_HOST = os.environ.get("CLICKSTREAM_WEB_URL", "http://127.0.0.1:8050")
PACE = float(os.environ.get("CLICKSTREAM_LOADTEST_PACE", "12"))
#: The article page's main callback, found by its inputs so page rewrites need no change here.
ARTICLE_INPUTS = [f"{ids.ARTICLE_TITLE}.value", f"{ids.ARTICLE_LANG}.value", f"{ids.ARTICLE_MONTH}.value"]
#: If the layout has no navigation links to read the pages from.
FALLBACK_PAGES = ["/", "/month", "/ingestion"]
UPDATE = "/_dash-update-component"
MAX_CALLBACKS = 10  # fired per page view or change; a bound, in case a page wires many
WATCH_SECONDS = 10  # how long a person watches a live page (its dcc.Interval ticks in that time)

log = logging.getLogger(__name__)
pool = titles.sample_pool()  # replaced at test start by what the stack has loaded


@events.test_start.add_listener
def _load_titles(environment, **_):
    """Refuse a non-loopback host; otherwise read the loaded titles once, before any user starts."""
    global pool
    host = environment.host or DEFAULT_HOST
    if not target.loopback(host):
        log.error("refusing %s: load tests send traffic to 127.0.0.1/localhost only", host)
        environment.process_exit_code = 3
        gevent.spawn(environment.runner.quit)
        return
    pool = titles.discover(host)
    log.info("%d titles of %s %s from %s", len(pool.titles), pool.lang, pool.month, pool.source)


class _WebUser(FastHttpUser):
    abstract = True
    host = DEFAULT_HOST

    def on_start(self):
        if not target.loopback(self.host):
            raise StopUser()  # _load_titles has said why
        self.rng = random.Random()

    def _expect(self, response, *statuses: int) -> None:
        """Pass on an expected status; an expected 404 must be "not found", not "no such route"."""
        missing_route = response.status_code == 404 and "no such API route" in (response.text or "")
        if response.status_code in statuses and not missing_route:
            response.success()
        else:
            response.failure(f"HTTP {response.status_code}: {(response.text or '')[:200]}")

    def _get(self, name: str, params: dict, *statuses: int, path: str | None = None):
        with self.client.get(path or name, params=params, name=name, catch_response=True) as response:
            self._expect(response, *(statuses or (200,)))
        return response


class ApiReader(_WebUser):
    """Someone exploring articles through the JSON API: autocomplete, lookups, rankings, trends."""

    weight = 3
    wait_time = constant_throughput(PACE)

    def _month(self) -> dict:
        return {"lang": pool.lang, "month": pool.month}

    @tag("article")
    @task(12)
    def article(self):
        self._get("/api/v1/article", {"title": pool.pick(self.rng), **self._month()})

    @tag("article")
    @task(1)
    def unknown_article(self):
        self._get("/api/v1/article [unknown]", {"title": titles.unknown_title(self.rng), **self._month()}, 404,
                  path="/api/v1/article")

    @tag("search")
    @task(3)
    def search_as_you_type(self):
        """One request per keystroke of a real title's first 1..6 characters, as an autocomplete box sends."""
        title, keys, lower = pool.pick(self.rng), self.rng.randint(1, 6), self.rng.random() < 0.3
        for n in range(1, min(keys, len(title)) + 1):
            if n > 1:
                gevent.sleep(self.rng.uniform(0.05, 0.15))  # a fast typist
            self._get("/api/v1/search", {"q": titles.typed(title, n, lower), **self._month(), "limit": 10})

    @tag("trend")
    @task(2)
    def trend(self):
        self._get("/api/v1/trend", {"title": pool.pick(self.rng), "lang": pool.lang})

    @tag("top")
    @task(1)
    def top(self):
        self._get("/api/v1/top", {**self._month(), "limit": 20})

    @tag("analytics")
    @task(1)
    def related(self):
        self._get("/api/v1/related", {"title": pool.pick(self.rng), **self._month()})

    @tag("analytics")
    @task(1)
    def paths(self):
        self._get("/api/v1/paths", {"title": pool.pick(self.rng), **self._month(), "k": self.rng.randint(1, 4)})

    @tag("month")
    @task(1)
    def month_overview(self):
        """One of the month page's reads: totals, PageRank or movers."""
        route = self.rng.choice(["/api/v1/month", "/api/v1/pagerank", "/api/v1/movers"])
        self._get(route, self._month() if route == "/api/v1/month" else {**self._month(), "limit": 20})

    @tag("meta")
    @task(1)
    def choices(self):
        """What a client loads to fill its language and month pickers."""
        if self.rng.random() < 0.5:
            self._get("/api/v1/languages", {})
        else:
            self._get("/api/v1/months", {"lang": pool.lang})


class DashboardUser(_WebUser):
    """A person on the Dash pages: opens pages, looks up articles, watches the live ingestion page.

    Drives the server as the browser's renderer does (loadtests/dash_calls.py): one full page load
    (index, layout, dependencies), then on every navigation the router callback and the callbacks the
    new page fires, and on every change of a control the callbacks that take it as an input (one level:
    chained callbacks are not followed). Static JS bundles are left out: a browser caches them.
    """

    weight = 1
    wait_time = between(1, 3)

    def on_start(self):
        super().on_start()
        self.page: dict[str, dict] = {}
        self.pages, self.shell, self.dependencies, self.router = FALLBACK_PAGES, {}, [], None
        self.reload()

    def _ready(self) -> bool:
        """Whether the app's layout and callbacks are known; if not (the server failed), load a page again."""
        if not self.dependencies:
            self.reload()
        return bool(self.dependencies)

    def _json(self, name: str):
        with self.client.get(name, name=name, catch_response=True) as response:
            self._expect(response, 200)
        return response.json() if response.status_code == 200 else None

    def _call(self, callback: dict, values: dict, changed=(), name: str | None = None) -> None:
        """POST one callback as the renderer does and apply its answer to the page."""
        name = name or f"{UPDATE} [{dash_calls.label(callback)}]"
        payload = dash_calls.body(callback, values, changed)
        with self.client.post(UPDATE, json=payload, name=name, catch_response=True) as response:
            self._expect(response, 200, 204)
        if response.status_code == 200:
            self.page = dash_calls.merge(self.page, response.json())

    def _change(self, changes: dict, fired: list[dict] | None = None) -> None:
        """Set control values as a person does; every callback taking the first one as input fires."""
        first = next(iter(changes))
        for callback in (fired or dash_calls.dependents(self.dependencies, first))[:MAX_CALLBACKS]:
            self._call(callback, {**dash_calls.values_of(self.page), **changes}, changed=[first])

    def _fail(self, name: str, why: str):
        self.environment.events.request.fire(request_type="POST", name=name, response_time=0, response_length=0,
                                             exception=LookupError(why), context={})

    def reload(self, path: str | None = None, search: str = ""):
        """A full page load: the index HTML, then the layout and callback graph the renderer fetches."""
        path = path or self.rng.choice(self.pages)
        self._get(path, {})
        layout, dependencies = self._json("/_dash-layout"), self._json("/_dash-dependencies")
        if layout is None or dependencies is None:
            return  # the failed requests are in the stats; the next task loads the page again
        self.shell, self.dependencies = dash_calls.components(layout), dependencies
        self.pages = dash_calls.page_paths(layout) or FALLBACK_PAGES
        self.router = dash_calls.router(self.dependencies, self.shell)
        self.navigate(path, search)

    def navigate(self, path: str, search: str = ""):
        """Client-side navigation: the router renders the page, then the page's own callbacks fire."""
        if self.router is None:
            self._fail(f"{UPDATE} [page {path}]", "no callback takes a dcc.Location's pathname")
            return
        location = next(d["id"] for d in self.router["inputs"] if d["property"] == "pathname")
        values = {f"{location}.pathname": path, f"{location}.search": search}
        self.page = dict(self.shell)
        self._call(self.router, values, changed=list(values), name=f"{UPDATE} [page {path}]")
        new = set(self.page) - set(self.shell)
        for callback in dash_calls.initial_callbacks(self.dependencies, new, set(self.page))[:MAX_CALLBACKS]:
            self._call(callback, dash_calls.values_of(self.page))

    @tag("dashboard")
    @task(6)
    def explore_article(self):
        """Type the start of a title into the article picker, pick it: the page's callbacks fire."""
        if not self._ready():
            return
        title = pool.pick(self.rng)
        if ids.ARTICLE_TITLE not in self.page:  # elsewhere: follow a link to the article instead
            self.navigate("/", "?" + urlencode({"title": title, "lang": pool.lang, "month": pool.month}))
            return
        main = dash_calls.find_callback(self.dependencies, ARTICLE_INPUTS)
        if main is None:
            self._fail(f"{UPDATE} [article]", f"no callback takes {', '.join(ARTICLE_INPUTS)}")
            return
        typing = f"{ids.ARTICLE_TITLE}.search_value"
        if dash_calls.dependents(self.dependencies, typing):
            for n in range(1, self.rng.randint(1, 6) + 1):
                gevent.sleep(self.rng.uniform(0.05, 0.15))  # a fast typist; the picker asks per keystroke
                self._change({typing: titles.typed(title, n, lower_first=False)})
        others = [cb for cb in dash_calls.dependents(self.dependencies, ARTICLE_INPUTS[0]) if cb is not main]
        self._change(dict(zip(ARTICLE_INPUTS, (title, pool.lang, pool.month))), fired=[main, *others])

    @tag("dashboard")
    @task(2)
    def open_page(self):
        if self._ready():
            self.navigate(self.rng.choice(self.pages))

    @tag("dashboard")
    @task(1)
    def reload_page(self):
        self.reload()

    @tag("dashboard")
    @task(1)
    def watch(self):
        """Stay on a live page while its dcc.Interval re-runs its callbacks, for WATCH_SECONDS at most."""
        for interval, seconds in dash_calls.intervals(self.page).items():
            for tick in range(1, int(WATCH_SECONDS // seconds) + 1):
                gevent.sleep(seconds)
                self._change({f"{interval}.n_intervals": tick})
