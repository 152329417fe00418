"""The front server (nginx, infra/images/front) on the stack's published web port: compression, the micro-cache
of fixed API answers, health never cached, 304s, and its access log.

Assumes: the sample month (en 2024-11) is loaded and complete (`sample_loaded`) and nobody reloads it while this
module runs; the dashboard's index page links at least one JS file under /_dash-component-suites/ of 1 KiB or
more (nginx's gzip_min_length); the front container is `clickstream-<stack>-front` and `docker logs` works from
the test host; two GETs in a row of one URL come less than 5 s apart (webui.caching.FRONT_CACHE_SECONDS).
"""

from __future__ import annotations

import re
import subprocess
import urllib.error
import urllib.request
import uuid

import pytest

from tests.integration.helpers import REQUEST_TIMEOUT, STACK

pytestmark = pytest.mark.stack

#: Every request of this module carries it, so its lines are found in the access log.
AGENT = f"clickstream-test-front/{uuid.uuid4().hex}"
FIXED = "/api/v1/top?lang=en&month=2024-11&limit=7"


def get(url: str, **headers) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, raw body) of a GET, for 304s and errors too."""
    request = urllib.request.Request(url, headers={"User-Agent": AGENT, **headers})
    try:
        with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as err:
        return err.code, {k.lower(): v for k, v in err.headers.items()}, err.read()


def test_dashs_javascript_comes_compressed(sample_loaded):
    web = sample_loaded["webUrl"]
    _, _, page = get(f"{web}/")
    scripts = re.findall(r'src="(/_dash-component-suites/[^"]+\.js[^"]*)"', page.decode())
    assert scripts, "the index page links no Dash script"
    statuses = [get(f"{web}{s}", **{"Accept-Encoding": "gzip"}) for s in scripts]
    assert all(status == 200 for status, _, _ in statuses)
    assert any(h.get("content-encoding") == "gzip" for _, h, _ in statuses)


def test_a_fixed_answer_is_a_cache_hit_the_second_time_and_a_304_when_the_client_has_it(sample_loaded):
    url = f"{sample_loaded['webUrl']}{FIXED}"
    # A pair of GETs in a row: the second is answered by nginx. Three tries, in case one pair straddles expiry.
    pairs = [(get(url), get(url)) for _ in range(3)]
    assert any(second[1].get("x-cache-status") == "HIT" for _, second in pairs), [
        (a[1].get("x-cache-status"), b[1].get("x-cache-status")) for a, b in pairs]
    status, headers, body = pairs[-1][1]
    assert status == 200 and headers["etag"] and "x-accel-expires" not in headers  # nginx strips it
    again = get(url, **{"If-None-Match": headers["etag"]})
    assert again[0] == 304 and again[2] == b""


def test_health_is_never_cached(sample_loaded):
    web = sample_loaded["webUrl"]
    answers = [get(f"{web}/api/v1/health") for _ in range(3)]
    assert all(h.get("x-cache-status") != "HIT" for _, h, _ in answers)
    assert all(h.get("cache-control") == "no-store" for _, h, _ in answers)


def test_the_access_log_shows_each_request_with_its_cache_status(sample_loaded):
    web = sample_loaded["webUrl"]
    get(f"{web}{FIXED}")
    get(f"{web}{FIXED}")
    get(f"{web}/api/v1/health")
    logs = subprocess.run(["docker", "logs", f"clickstream-{STACK}-front"], check=True, capture_output=True,
                          text=True)
    ours = [line for line in (logs.stdout + logs.stderr).splitlines() if AGENT in line]
    assert any(f'"GET {FIXED} HTTP/1.1" 200' in line and "cache=HIT" in line for line in ours), ours[-10:]
    assert any('"GET /api/v1/health HTTP/1.1"' in line and "cache=-" in line for line in ours), ours[-10:]
    assert all(re.search(r" rt=[\d.]+ urt=\S+ cache=\S+ ", line) for line in ours)
