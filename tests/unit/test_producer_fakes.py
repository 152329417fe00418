"""A fake dumps site on 127.0.0.1 for the producer's tests, and tests of the fake itself.

`FakeDumps` serves index pages in the layout of the real site (an autoindex of month folders, each
listing its dumps and an md5sums file), honours `Range: bytes=N-`, and can misbehave on demand:
cut a transfer after some bytes, publish a wrong md5, or ignore Range.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import threading
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import SAMPLE


def sample_gz() -> bytes:
    return gzip.compress(SAMPLE.read_bytes(), mtime=0)


class FakeDumps:
    """A dumps tree {month: {file name: bytes}} served by http.server in a thread."""

    def __init__(self, tree: dict[str, dict[str, bytes]], md5_file: str = "md5sums.txt"):
        self.tree = tree
        self.md5_file = md5_file
        self.wrong_md5: set[str] = set()
        #: file name -> bytes after which the next response for it is cut (every response if cut_every_time).
        self.cut_after: dict[str, int] = {}
        self.cut_every_time = False
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/other/clickstream/"

    def __enter__(self) -> "FakeDumps":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def md5sums(self, month: str) -> bytes:
        lines = []
        for name, body in sorted(self.tree[month].items()):
            digest = hashlib.md5(body).hexdigest()
            if name in self.wrong_md5:
                digest = "0" * 32
            lines.append(f"{digest}  {name}\n")
        return "".join(lines).encode()

    def _page(self, title: str, names: list[str]) -> bytes:
        rows = "".join(f'<a href="{n}">{n}</a>{" " * 30}01-Dec-2024 10:00{" " * 10}-\n' for n in names)
        return (f"<html><head><title>Index of {title}</title></head><body bgcolor=\"white\">"
                f"<h1>Index of {title}</h1><hr><pre><a href=\"../\">../</a>\n{rows}</pre><hr></body></html>").encode()

    def _resolve(self, path: str) -> bytes | None:
        prefix = "/other/clickstream/"
        if not path.startswith(prefix):
            return None
        rest = path[len(prefix):]
        if rest == "":
            return self._page(prefix, [f"{m}/" for m in sorted(self.tree)] + ["readme.html"])
        month, _, name = rest.partition("/")
        if month not in self.tree:
            return None
        if name == "":
            return self._page(prefix + month + "/", sorted(self.tree[month]) + [self.md5_file])
        if name == self.md5_file:
            return self.md5sums(month)
        return self.tree[month].get(name)

    def _handler(self):
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                wanted = self.headers.get("Range")
                fake.requests.append((self.path, wanted))
                body = fake._resolve(self.path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if wanted and not fake.ignore_range:
                    start = int(wanted.removeprefix("bytes=").rstrip("-"))
                    if start >= len(body):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(body)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                name = self.path.rsplit("/", 1)[-1]
                cut = fake.cut_after.get(name)
                if cut is not None:
                    if not fake.cut_every_time:
                        del fake.cut_after[name]
                    self.wfile.write(body[start:start + cut])
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    self.close_connection = True
                    return
                self.wfile.write(body[start:])

        return Handler


@pytest.fixture()
def site():
    gz = sample_gz()
    tree = {
        "2024-10": {"clickstream-enwiki-2024-10.tsv.gz": gz, "clickstream-dewiki-2024-10.tsv.gz": gz[:100]},
        "2024-11": {"clickstream-enwiki-2024-11.tsv.gz": gz},
    }
    with FakeDumps(tree) as fake:
        yield fake


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/other/clickstream/"


def test_the_fake_serves_ranges_and_cuts(site: FakeDumps, tmp_path: Path):
    url = site.base + "2024-11/clickstream-enwiki-2024-11.tsv.gz"
    request = urllib.request.Request(url, headers={"Range": "bytes=10-"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert r.status == 206 and r.read() == sample_gz()[10:]
    site.cut_after["clickstream-enwiki-2024-11.tsv.gz"] = 50
    with pytest.raises(Exception), urllib.request.urlopen(url, timeout=5) as r:
        r.read()
