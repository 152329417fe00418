"""Test doubles shared by the suites, one module: stand-ins for our own boundaries only.

- PulumiMocks: Pulumi's resource monitor, remembering what the program registered (tests/unit/infra).
- FakePublisher: the producer's Kafka publisher, in memory (tests/unit/producer).
- FakeDumps: Wikimedia's dumps site on 127.0.0.1, misbehaving on demand (tests/unit/producer).
- QueryLayer: the Protocol of webui.queries.Queries that the pages and the API call, and FakeQueries, its one
  fake, answering from the canned data each suite gives it (tests/unit/webui, tests/unit/loadtests).
"""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import hashlib
import http.server
import json
import socket
import threading
from collections import defaultdict
from typing import Protocol

import pulumi

from contract import records, topics
from contract.topics import LoadEvent
from tests.conftest import SAMPLE


class QueryLayer(Protocol):
    """What the pages and the JSON API ask of webui.queries.Queries; a fake needs only what its test calls."""

    def complete_run(self, lang: str, month: str) -> str | None: ...
    def article(self, lang: str, month: str, title: str, limit: int) -> dict | None: ...
    def article_exists(self, lang: str, month: str, title: str) -> bool: ...
    def edges(self, lang: str, month: str, title: str, direction: str, limit: int,
              after: tuple[int, str] | None = None) -> tuple[list[dict], tuple[int, str] | None]: ...
    def months(self, lang: str) -> list[str]: ...
    def languages(self) -> list[str]: ...
    def month(self, lang: str, month: str) -> dict | None: ...
    def top(self, lang: str, month: str, limit: int) -> list[dict]: ...
    def movers(self, lang: str, month: str, limit: int) -> list[dict]: ...
    def search(self, lang: str, month: str, q: str, limit: int) -> list[str]: ...
    def trend(self, lang: str, title: str) -> list[dict]: ...
    def related(self, lang: str, month: str, title: str, limit: int) -> list[dict]: ...
    def paths(self, lang: str, month: str, title: str, steps: int, limit: int) -> list[dict]: ...
    def pagerank(self, lang: str, month: str, limit: int) -> list[dict]: ...
    def ingestion(self) -> list[dict]: ...
    def health(self, now: dt.datetime | None = None) -> dict: ...


#: A month's clicks by source, as the query layer returns them (every kind of source, one of them 0).
SOURCES = {"link": 40, "other": 5, "other-search": 10, "other-external": 3, "other-internal": 1,
           "other-empty": 1, "other-other": 0}


class FakeQueries(QueryLayer):
    """The query layer answering from `answers`, one per method a suite calls: a function of the call's
    arguments, or a value (a copy is returned). Every call is recorded in `calls` as (method, *arguments), so a
    test can assert what reached the layer, or that nothing did."""

    def __init__(self, runs: dict[tuple[str, str], str] | None = None, **answers):
        self.answers = answers
        self.calls: list[tuple] = []
        #: The run id of each complete (lang, month); a reload gives a month a new one.
        self.runs = dict(runs or {})

    def complete_run(self, lang, month, *_):
        # Not recorded in `calls`: the API's HTTP caching asks it before every view (webui.caching).
        return self.runs.get((lang, month))

    def _answer(self, method: str, *args):
        self.calls.append((method, *args))
        answer = self.answers[method]
        return answer(*args) if callable(answer) else copy.deepcopy(answer)

    def article(self, lang, month, title, limit):
        return self._answer("article", lang, month, title, limit)

    def article_exists(self, lang, month, title):
        return self._answer("article_exists", lang, month, title)

    def edges(self, lang, month, title, direction, limit, after=None):
        return self._answer("edges", lang, month, title, direction, limit, after)

    def months(self, lang):
        return self._answer("months", lang)

    def languages(self):
        return self._answer("languages")

    def month(self, lang, month):
        return self._answer("month", lang, month)

    def top(self, lang, month, limit):
        return self._answer("top", lang, month, limit)

    def movers(self, lang, month, limit):
        return self._answer("movers", lang, month, limit)

    def search(self, lang, month, q, limit):
        return self._answer("search", lang, month, q, limit)

    def trend(self, lang, title):
        return self._answer("trend", lang, title)

    def related(self, lang, month, title, limit):
        return self._answer("related", lang, month, title, limit)

    def paths(self, lang, month, title, steps, limit):
        return self._answer("paths", lang, month, title, steps, limit)

    def pagerank(self, lang, month, limit):
        return self._answer("pagerank", lang, month, limit)

    def ingestion(self):
        return self._answer("ingestion")

    def health(self, now=None):
        return self._answer("health", now)


class PulumiMocks(pulumi.runtime.Mocks):
    """Resources get their inputs as outputs (an Image a repoDigest too); each is remembered by name."""

    def __init__(self):
        self.resources = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        if args.typ == "docker:index/image:Image":
            outputs["repoDigest"] = f"sha256:{args.name}"
        self.resources[args.name] = args
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


class FakePublisher:
    """In-memory stand-in for KafkaPublisher (our own boundary); RAW has `partitions` partitions."""

    def __init__(self, partitions: int = 3):
        self.sent = defaultdict(list)
        self.partitions = {topics.RAW: partitions}
        self.flushes = 0

    def send(self, topic, value, key=None, partition=None):
        self.sent[topic].append((key, value, partition or 0))

    def flush(self):
        self.flushes += 1

    def end_offsets(self, topic):
        counts = {p: 0 for p in range(self.partitions.get(topic, 1))}
        for *_, partition in self.sent[topic]:
            counts[partition] += 1
        return counts

    def rows(self) -> list[tuple[int, bytes]]:
        """Every row value sent to RAW with its partition, packs unpacked, in send order."""
        return [(p, row) for _, value, p in self.sent[topics.RAW] for row in records.unpack(value)]

    def close(self):
        pass

    def events(self):
        return [LoadEvent.from_json(v) for _, v, _ in self.sent[topics.LOADS]]

    def dead_letters(self):
        return [json.loads(v) for _, v, _ in self.sent[topics.DEAD_LETTER]]


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


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens (connections are refused at once)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/other/clickstream/"


class Done:
    """A cassandra-driver ResponseFuture that has already succeeded with `rows` (what execute_concurrent waits on)."""

    _col_names = _col_types = None

    def __init__(self, rows=()):
        self.rows = list(rows)

    def add_callbacks(self, callback, callback_args, errback, errback_args):
        callback(self.rows, *callback_args)

    def clear_callbacks(self):
        pass
