"""The front server's nginx config (infra/images/front/nginx.conf.template), parsed: what it caches, what it
never caches, what it compresses, and how it sheds load. Behaviour through a real nginx is tests/integration/
test_front.py."""

import re
from pathlib import Path

import pytest

TEMPLATE = Path(__file__).resolve().parents[3] / "infra" / "images" / "front" / "nginx.conf.template"


def _parse(text: str) -> list:
    """nginx's syntax as nested [name, args, children] (children None for a simple directive)."""
    tokens = re.findall(r"'[^']*'|\"[^\"]*\"|[{};]|[^\s{};'\"]+", re.sub(r"#[^\n]*", "", text))
    stack, current, words = [], [], []
    for token in tokens:
        if token == ";":
            current.append([words[0], words[1:], None])
            words = []
        elif token == "{":
            block = [words[0], words[1:], []]
            current.append(block)
            stack.append(current)
            current, words = block[2], []
        elif token == "}":
            current = stack.pop()
        else:
            words.append(token)
    assert not stack and not words, "unbalanced config"
    return current


def _all(block: list, name: str) -> list[list[str]]:
    return [args for n, args, _ in block if n == name]


def _one(block: list, name: str) -> list[str]:
    found = _all(block, name)
    assert len(found) == 1, (name, found)
    return found[0]


CONFIG = _parse(TEMPLATE.read_text())
HTTP = next(children for name, _, children in CONFIG if name == "http")
SERVER = next(children for name, _, children in HTTP if name == "server")
LOCATIONS = {" ".join(args): children for name, args, children in SERVER if name == "location"}


def test_one_cache_zone_on_the_images_writable_path_sized_by_the_env():
    path = _one(HTTP, "proxy_cache_path")
    assert path[0] == "/var/lib/front/cache" and "keys_zone=front:10m" in path
    assert "max_size=@FRONT_CACHE_SIZE@" in path


def test_the_upstream_is_the_web_ui_over_kept_alive_http_1_1():
    upstream = next(children for name, args, children in HTTP if name == "upstream" and args == ["webui"])
    assert _one(upstream, "server") == ["@FRONT_UPSTREAM@"] and _one(upstream, "keepalive")
    assert _one(HTTP, "proxy_http_version") == ["1.1"]
    assert ["Connection", '""'] in _all(HTTP, "proxy_set_header")  # else nginx closes each upstream connection
    assert all(_one(children, "proxy_pass") == ["http://webui"] for children in LOCATIONS.values()
               if not children or _all(children, "proxy_pass"))


@pytest.mark.parametrize("route", ["/api/v1/health", "/api/v1/ingestion"])
def test_live_state_is_never_cached(route):
    location = LOCATIONS[f"= {route}"]
    assert _one(location, "proxy_cache") == ["off"]


def test_the_api_is_kept_only_as_long_as_the_apps_x_accel_expires_says():
    api = LOCATIONS["/api/v1/"]
    assert _one(api, "proxy_cache") == ["front"]
    # No fallback lifetime: an answer without X-Accel-Expires (every no-store one) is never kept...
    assert not _all(api, "proxy_cache_valid") and not _all(HTTP, "proxy_cache_valid")
    assert "X-Accel-Expires" not in _one(api, "proxy_ignore_headers")
    # ...and a no-store answer is refused even if it carried one.
    assert _one(api, "proxy_no_cache") == ["$no_store"]
    no_store = next(children for name, args, children in HTTP if name == "map" and args[1] == "$no_store")
    assert _one(no_store, "~*no-store") == ["1"]
    assert _one(api, "proxy_cache_lock") == ["on"]
    # An expired entry may be the previous run's answer: never served, refreshing or not, web UI up or not.
    assert _one(api, "proxy_cache_use_stale") == ["off"]
    assert _one(api, "add_header") == ["X-Cache-Status", "$upstream_cache_status", "always"]


@pytest.mark.parametrize("route", ["/_dash-component-suites/", "/assets/"])
def test_dashs_assets_are_cached(route):
    location = LOCATIONS[route]
    assert _one(location, "proxy_cache") == ["front"] and _one(location, "proxy_cache_lock") == ["on"]
    assert _one(location, "proxy_cache_use_stale") == ["updating", "error", "timeout"]
    assert _one(location, "add_header")[0] == "X-Cache-Status"


def test_the_dashboard_itself_is_passed_through_uncached():
    assert not _all(LOCATIONS["/"], "proxy_cache")
    assert not _all(SERVER, "proxy_cache") and not _all(HTTP, "proxy_cache")


def test_text_json_js_and_css_are_compressed_whoever_asks():
    assert _one(HTTP, "gzip") == ["on"] and _one(HTTP, "gzip_proxied") == ["any"]
    assert {"application/json", "application/javascript", "text/javascript", "text/css", "text/plain"} <= set(
        _one(HTTP, "gzip_types"))


def test_past_its_limits_it_answers_503_with_retry_after_rather_than_queue():
    zones = {args[1]: args[0] for args in _all(HTTP, "limit_conn_zone")}
    assert zones == {"zone=per_client:10m": "$binary_remote_addr", "zone=total:1m": "$server_name"}
    assert _one(HTTP, "limit_conn_status") == ["503"]
    assert sorted(_all(SERVER, "limit_conn")) == [["per_client", "@FRONT_CONN_PER_CLIENT@"],
                                                   ["total", "@FRONT_CONN_TOTAL@"]]
    assert _one(SERVER, "error_page") == ["503", "@shed"]
    assert _one(SERVER, "client_max_body_size") == ["@FRONT_MAX_BODY@"]  # a 413 here, not the app's mid-body
    shed = LOCATIONS["@shed"]
    assert _one(shed, "add_header") == ["Retry-After", "5", "always"]
    assert _one(shed, "return")[0] == "503"


def test_every_request_is_logged_to_stdout_with_upstream_time_and_cache_status():
    name, *format_parts = _one(HTTP, "log_format")
    line = " ".join(format_parts)
    assert "$upstream_response_time" in line and "$upstream_cache_status" in line and "$status" in line
    assert _one(HTTP, "access_log") == ["/dev/stdout", name]
    assert _one(CONFIG, "error_log")[0] == "stderr"


def _kib(size: str) -> int:
    return int(size[:-1]) if size.endswith("k") else int(size) // 1024


def test_an_answers_headers_fit_beside_the_longest_cache_key():
    # A cached route's header buffer holds the cache key (the whole query, up to gunicorn's 4 KiB request
    # line) and then the app's headers (~1 KiB): 4k, nginx's default, answered 502 to a 3,000-byte query.
    size = _kib(_one(HTTP, "proxy_buffer_size")[0])
    assert size >= 8
    count, each = _one(HTTP, "proxy_buffers")
    assert _kib(each) >= size
    # nginx refuses a busy size outside [one buffer, all buffers but one]: the config would not load.
    assert size <= _kib(_one(HTTP, "proxy_busy_buffers_size")[0]) < int(count) * _kib(each) - _kib(each)
    assert not any(_all(children or [], "proxy_buffer_size") for children in LOCATIONS.values())
