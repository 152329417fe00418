"""Benchmark: the article page's first render in the headless browser. Goal: at most 1 s.

    python -m bench.render [--stack dev | --url http://127.0.0.1:8050] [--runs 20] [--screenshots DIR]

Opens `/?title=<t>&lang=en&month=2024-11` for `--runs` titles, Main_Page and then the month's most-read
articles (GET /api/v1/top), each in a fresh page load (a full navigation, not a change of page inside
Dash), in the headless chromium the browser tests use (devstack/browser.py). The first load is cold: a
new browser profile with an empty cache, so it also fetches Dash's and Plotly's scripts; the others
find those in the cache, as a reader's second visit does.

A render is timed in the page, from the start of the navigation (performance.timeOrigin) to the moment
the article panel shows that title's headline with its totals: a MutationObserver installed before any
of the page's own scripts runs records performance.now() at the first DOM change after which the
headline is there and visible. The wall clock around driver.get and the wait is printed too, as a
check (it adds WebDriver's round trips). Also per load: when the HTML's first byte arrived and when
the load event ended (scripts fetched and run), so a slow render says where its time went.

With --screenshots DIR, the article (Main_Page), month and ingestion pages are then saved there as
article.png, month.png and ingestion.png, full page, once their callbacks are done (docs/screenshots
holds the README's).

Only this machine is reached: the URL must be loopback, and the browser sends anything else to a dead
proxy (devstack/browser.py).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from contract.schema import TOP_ARTICLES_LIMIT
from loadtests.target import loopback
from devstack import browser

GOAL_SECONDS = 1.0
TIMEOUT_SECONDS = 60
DEFAULT_TITLE = "Main_Page"

#: Installed in every new document before its scripts run: marks when the article panel first shows
#: the headline of the title in the URL (Dash shows spaces for underscores) with its totals.
WATCH = """
(() => {
  const wanted = (new URLSearchParams(location.search).get('title') || '').replaceAll('_', ' ');
  const check = () => {
    const panel = document.getElementById('article-result');
    if (!panel) return;
    const headline = panel.querySelector('p.headline');
    if (headline && headline.querySelector('strong')?.textContent === wanted
        && headline.textContent.includes('clicks in')
        && headline.checkVisibility({opacityProperty: true, visibilityProperty: true})) {
      window.__rendered = performance.now();
      observer.disconnect();
      // The frame after that change: a rAF callback runs just before the next paint, a task queued
      // from it just after.
      requestAnimationFrame(() => setTimeout(() => { window.__painted = performance.now(); }, 0));
      return;
    }
    const notice = panel.querySelector('.notice');
    if (notice && notice.textContent) window.__notRendered = notice.textContent;
  };
  const observer = new MutationObserver(check);
  observer.observe(document, {childList: true, subtree: true, attributes: true, characterData: true});
})();
"""
READ = """
const nav = performance.getEntriesByType('navigation')[0] || {};
return {rendered: window.__rendered ?? null, painted: window.__painted ?? null,
        notRendered: window.__notRendered ?? null,
        firstByte: nav.responseStart ?? null, loaded: nav.loadEventEnd || null};
"""


def get_json(url: str, timeout: float = 30) -> dict:
    """GET a loopback URL, never through a proxy the environment may name."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=timeout) as response:
        return json.load(response)


def titles(web: str, lang: str, month: str, runs: int) -> list[str]:
    """Main_Page, then the month's most-read articles: `runs` distinct titles (fewer if the month has fewer)."""
    query = urlencode({"lang": lang, "month": month, "limit": min(runs, TOP_ARTICLES_LIMIT)})
    top = [a["title"] for a in get_json(f"{web}/api/v1/top?{query}")["articles"]]
    return list(dict.fromkeys([DEFAULT_TITLE, *top]))[:runs]


def article_url(web: str, title: str, lang: str, month: str) -> str:
    return f"{web}/?" + urlencode({"title": title, "lang": lang, "month": month})


def measure(driver, url: str) -> dict:
    """One fresh page load of `url`: in-page times in seconds from the navigation's start, and the wall clock."""
    started = time.perf_counter()
    driver.get(url)
    deadline = started + TIMEOUT_SECONDS
    while True:
        seen = driver.execute_script(READ)
        if seen["painted"] is not None:
            break
        if time.perf_counter() > deadline:
            # A notice instead of the article: not found, or the database is down. (Notices also
            # appear inside a rendered article, e.g. an empty outgoing table, so only at the end.)
            raise SystemExit(f"no render within {TIMEOUT_SECONDS} s at {url}; last notice: {seen['notRendered']}")
        time.sleep(0.02)
    wall = time.perf_counter() - started
    return {"render": seen["painted"] / 1000, "in_dom": seen["rendered"] / 1000, "wall": wall,
            "first_byte": (seen["firstByte"] or 0) / 1000, "loaded": (seen["loaded"] or 0) / 1000}


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile: with under 20 values, the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def verdict(seconds: float) -> str:
    return "met" if seconds <= GOAL_SECONDS else "NOT met"


def take_screenshots(driver, web: str, lang: str, month: str, folder: Path) -> None:
    """The article, month and ingestion pages as the README shows them."""
    pages = [
        ("article", article_url(web, DEFAULT_TITLE, lang, month), "#article-result p.headline"),
        ("month", f"{web}/month?" + urlencode({"lang": lang, "month": month}), "#month-result p.headline"),
        ("ingestion", f"{web}/ingestion", "#ingestion-table td[data-dash-column='status']"),
    ]
    for name, url, ready in pages:
        driver.get(url)
        deadline = time.monotonic() + TIMEOUT_SECONDS
        while not driver.execute_script(f"return document.querySelector({json.dumps(ready)}) !== null;"):
            if time.monotonic() > deadline:
                raise SystemExit(f"{name} page: nothing matching {ready} within {TIMEOUT_SECONDS} s at {url}")
            time.sleep(0.1)
        browser.settle(driver)
        print(f"screenshot {browser.screenshot(driver, folder / f'{name}.png')}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--stack", default="dev", help="read the web URL from this stack's outputs (default: dev)")
    where.add_argument("--url", help="the web UI's URL instead, e.g. http://127.0.0.1:8050 (loopback only)")
    parser.add_argument("--runs", type=int, default=20, help="page loads, one title each (default: 20)")
    parser.add_argument("--lang", default="en")
    parser.add_argument("--month", default="2024-11")
    parser.add_argument("--screenshots", type=Path, metavar="DIR",
                        help="also save article.png, month.png and ingestion.png here")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    if args.url:
        web = args.url
    else:
        from devstack import stack as stack_tool

        web = stack_tool.outputs(args.stack)["webUrl"]
    web = web.rstrip("/")
    if not loopback(web):
        raise SystemExit(f"refusing {web}: the benchmark only opens this machine's web UI (a loopback address)")
    if browser.missing():
        raise SystemExit(f"the benchmark {browser.missing()}")

    chosen = titles(web, args.lang, args.month, args.runs)
    if len(chosen) < args.runs:
        print(f"only {len(chosen)} titles to open ({args.lang} {args.month} has no more in its top list)")
    print(f"{len(chosen)} fresh page loads of {web}/?title=...&lang={args.lang}&month={args.month}, "
          f"headless chromium {browser.WINDOW[0]}x{browser.WINDOW[1]}; times from the navigation's start", flush=True)
    driver = browser.chrome()
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})
        driver.get_log("browser")  # start with an empty console log
        results = []
        for i, title in enumerate(chosen):
            r = measure(driver, article_url(web, title, args.lang, args.month))
            results.append(r)
            print(f"{'cold' if i == 0 else f'{i:4d}'} {r['render']:6.3f} s  (in the DOM {r['in_dom']:.3f} s, "
                  f"HTML first byte {r['first_byte']:.3f} s, scripts loaded {r['loaded']:.3f} s; "
                  f"wall {r['wall']:.3f} s)  {title}", flush=True)
        errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        if args.screenshots:
            take_screenshots(driver, web, args.lang, args.month, args.screenshots)
    finally:
        driver.quit()

    cold, rest = results[0], results[1:]
    print(f"\nfirst render, article page (goal <= {GOAL_SECONDS:g} s)")
    print(f"  cold, first load: {cold['render']:.3f} s   (wall {cold['wall']:.3f} s)   goal {verdict(cold['render'])}")
    if rest:
        renders = [r["render"] for r in rest]
        within = sum(1 for s in renders if s <= GOAL_SECONDS)
        print(f"  the other {len(rest)}: median {statistics.median(renders):.3f} s, p95 {p95(renders):.3f} s, "
              f"max {max(renders):.3f} s   (wall median {statistics.median(r['wall'] for r in rest):.3f} s)")
        print(f"    of which HTML first byte median {statistics.median(r['first_byte'] for r in rest):.3f} s, "
              f"scripts loaded median {statistics.median(r['loaded'] for r in rest):.3f} s")
        print(f"  {within} of {len(rest)} within {GOAL_SECONDS:g} s; goal on the p95: {verdict(p95(renders))}")
    worst = max(r["render"] for r in results)
    print(f"\n{GOAL_SECONDS:g} s goal for every load, cold one included: {verdict(worst)} (slowest {worst:.3f} s)")
    if errors:
        print(f"\nbrowser console errors ({len(errors)}):\n  " + "\n  ".join(errors))
    return 0

if __name__ == "__main__":
    sys.exit(main())
