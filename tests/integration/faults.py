"""Fault injection on the running stack, and the checker that says whether anything was lost.

Faults are Docker operations on the stack's own containers: a hard kill is SIGKILL (`docker kill`),
a clean stop is SIGTERM with a grace period (`docker stop`), and a restart is `docker start`, so a
test decides when a member comes back. The checker compares what Cassandra holds with ground truth
computed straight from the source file: every article's stored incoming rows and clicks, and the
month's per-article totals. Each verdict is appended to $CLICKSTREAM_CACHE/faults/<run>.jsonl, from
which docs/reliability.md's table is filled.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from contract import schema, topics
from contract.settings import Settings
from contract.status import LoadStatus
from devstack import loads
from devstack import stack as stack_tool
from devstack.faults_report import REPORTS
from devstack.progress import CAP_SECONDS, wait_for_progress
from tests.conftest import read_sample
from tests.integration.helpers import STACK, api

RUN = time.strftime("%Y%m%d-%H%M%S")


def container(name: str) -> str:
    return f"clickstream-{STACK}-{name}"


def docker(*args: str) -> str:
    return subprocess.run(["docker", *args], check=True, capture_output=True, text=True).stdout


def hard_kill(name: str) -> None:
    docker("kill", "--signal", "KILL", container(name))


def clean_stop(name: str) -> None:
    docker("stop", "--time", "60", container(name))


def wait_for_log(outputs, name: str, text: str, since: str, lang: str, month: str,
                 stall_seconds: float | None = None) -> None:
    """Until the container's log (stdout and stderr) since `since` (RFC 3339) has a line containing `text`;
    Stalled once the load of lang/month, which is to make it log that, has not moved for `stall_seconds`."""

    def logged() -> bool:
        logs = subprocess.run(["docker", "logs", "--since", since, container(name)],
                              check=True, capture_output=True, text=True)
        return text in logs.stdout or text in logs.stderr

    probe = load_probe(outputs, lang, month)

    def state():
        now = probe()
        if now.status == LoadStatus.FAILED:  # it never will log it: say so now, with the load's reason
            raise AssertionError(f"the load of {lang} {month} failed: {(now.load or {}).get('error')}; {now}")
        return logged(), now

    try:
        wait_for_progress(state, lambda state: state[0], f"{container(name)} to log {text!r}",
                          stall_seconds=stall_seconds, interval=1.0, describe=lambda state: str(state[1]))
    finally:
        probe.close()


def start(name: str) -> None:
    docker("start", container(name))


def wait_healthy(name: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = json.loads(docker("inspect", "--format", "{{json .State}}", container(name)))
        if state.get("Health", {}).get("Status", "healthy" if state["Running"] else "") == "healthy":
            return
        time.sleep(2)
    raise AssertionError(f"{name} not healthy {timeout:.0f} s after its restart")


def address(name: str) -> str:
    """The container's address on the stack network."""
    return docker("inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}",
                  container(name)).split()[0]


def raw_leaders(outputs) -> dict[int, str]:
    """Partition of the RAW topic -> the container of the broker that leads it now."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**stack_tool.kafka(outputs), request_timeout_ms=15_000)
    try:
        (described,) = admin.describe_topics([topics.RAW])
    finally:
        admin.close()
    # Node ids are 1-based, containers kafka-0.. (infra/kafka.py).
    return {p["partition_index"]: f"kafka-{p['leader_id'] - 1}" for p in described["partitions"] if p["leader_id"] >= 1}


def busiest_leader(outputs) -> str:
    """The broker that leads the most RAW partitions (all partitions take the same share of rows)."""
    counts: dict[str, int] = defaultdict(int)
    for broker in raw_leaders(outputs).values():
        counts[broker] += 1
    return max(sorted(counts), key=counts.get)


class BackgroundLoad:
    """`make load` of one file in a thread, waiting for completion; join() re-raises its failure.

    The wait inside times out once the load stops moving for `stall_seconds` (devstack.progress).
    """

    def __init__(self, path: Path, stall_seconds: float | None = None):
        self.path, self.stall_seconds, self.error = path, stall_seconds, None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            stack_tool.load(STACK, self.path, None, None, wait=True, stall_seconds=self.stall_seconds)
        except BaseException as err:  # noqa: BLE001 - re-raised in join()
            self.error = err

    def join(self) -> None:
        """Until the load is done: its own wait bounds it, the cap here is the safety net only."""
        self.thread.join(CAP_SECONDS)
        assert not self.thread.is_alive(), f"the load of {self.path.name} did not finish in {CAP_SECONDS:.0f} s"
        if self.error:
            raise AssertionError(f"the load of {self.path.name} failed: {self.error}") from None


def load_probe(outputs, lang: str, month: str) -> loads.LoadProbe:
    """Where the dev stack's (latest) load of lang/month stands."""
    return stack_tool.probe(STACK, outputs, lang, month)


def load_status(outputs, lang: str, month: str) -> dict | None:
    loads_now = api(outputs, "ingestion")[1]["loads"]
    return next((x for x in loads_now if (x["lang"], x["month"]) == (lang, month)), None)


def wait_status(outputs, lang: str, month: str, statuses: tuple[str, ...], *, min_rows: int = 0,
                stall_seconds: float | None = None, interval: float = 1.0) -> loads.LoadState:
    """Until the load of lang/month is in one of `statuses` (and, given min_rows, has processed that many
    rows); Stalled, saying where it stood, once it has not moved for `stall_seconds`."""

    def reached(state: loads.LoadState) -> bool:
        return state.status in statuses and ((state.load or {}).get("rows_processed") or 0) >= min_rows

    return loads.wait_for(load_probe(outputs, lang, month), reached, f"load never reached {'/'.join(statuses)}",
                          stall_seconds=stall_seconds, interval=interval)


def wait_processing(outputs, lang: str, month: str, min_rows: int = 0) -> None:
    """Until the stream has started on this load and, given min_rows, landed at least that many rows."""
    wait_status(outputs, lang, month, (LoadStatus.PROCESSING, LoadStatus.COMPLETE), min_rows=min_rows)


@dataclass
class Verdict:
    scenario: str
    injected: str
    rows_expected: int
    rows_found: int
    clicks_expected: int
    clicks_found: int
    articles_expected: int
    articles_wrong: int
    first_wrong: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return ((self.rows_found, self.clicks_found, self.articles_wrong)
                == (self.rows_expected, self.clicks_expected, 0))

    def record(self) -> "Verdict":
        REPORTS.mkdir(parents=True, exist_ok=True)
        with (REPORTS / f"{RUN}.jsonl").open("a") as f:
            f.write(json.dumps(asdict(self) | {"passed": self.passed, "at": time.strftime("%F %T")}) + "\n")
        return self


def truth_by_article(path: Path) -> tuple[dict[str, tuple[int, int]], dict[str, tuple[int, int]]]:
    """From the file: curr -> (incoming rows, incoming clicks), and title -> (incoming, outgoing totals)."""
    incoming: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for prev, curr, _type, n in read_sample(path):
        incoming[curr][0] += 1
        incoming[curr][1] += n
        totals[curr][0] += n
        totals[prev][1] += n
    return {k: tuple(v) for k, v in incoming.items()}, {k: tuple(v) for k, v in totals.items()}


def stored_incoming(session, lang: str, month: str, titles) -> dict[str, tuple[int, int]]:
    """curr -> (rows, clicks) in edges_in, one partition read per article, 32 in flight.

    A read that times out (the stack is busy with analytics meanwhile) is asked again, alone and
    with a longer timeout, so the verdict never depends on the machine's load.
    """
    from cassandra.concurrent import execute_concurrent_with_args

    query = session.prepare("SELECT count(*) AS rows, sum(n) AS clicks FROM edges_in "
                            "WHERE lang = ? AND month = ? AND curr = ?")
    titles = list(titles)
    results = execute_concurrent_with_args(session, query, [(lang, month, t) for t in titles], concurrency=32,
                                           raise_on_first_error=False)
    found = {}
    for title, (ok, result) in zip(titles, results):
        row = (result if ok else session.execute(query, (lang, month, title), timeout=120)).one()
        found[title] = (row.rows, row.clicks or 0)
    return found


def stored_totals(session, lang: str, month: str) -> dict[str, tuple[int, int]]:
    """title -> (incoming, outgoing total) from month_articles; each bucket read with a long timeout,
    for the same reason as in `stored_incoming`."""
    query = session.prepare("SELECT title, incoming_total, outgoing_total FROM month_articles "
                            "WHERE lang = ? AND month = ? AND bucket = ?")
    return {r.title: (r.incoming_total, r.outgoing_total)
            for b in range(schema.ARTICLE_BUCKETS) for r in session.execute(query, (lang, month, b), timeout=120)}


def check_exact(session, scenario: str, injected: str, lang: str, month: str, path: Path,
                totals: bool = True) -> Verdict:
    """Stored rows, clicks and (with `totals`, once the load is complete) per-article totals vs the file."""
    incoming, expected_totals = truth_by_article(path)
    stored = stored_incoming(session, lang, month, incoming)
    wrong = [(t, stored[t], incoming[t]) for t in incoming if stored[t] != incoming[t]]
    if totals:
        found_totals = stored_totals(session, lang, month)
        wrong += [(t, found_totals.get(t), v) for t, v in expected_totals.items() if found_totals.get(t) != v]
        wrong += [(t, v, None) for t, v in found_totals.items() if t not in expected_totals]
    return Verdict(
        scenario=scenario, injected=injected,
        rows_expected=sum(r for r, _ in incoming.values()), rows_found=sum(r for r, _ in stored.values()),
        clicks_expected=sum(c for _, c in incoming.values()), clicks_found=sum(c for _, c in stored.values()),
        articles_expected=len(expected_totals), articles_wrong=len(wrong), first_wrong=wrong[:3],
    ).record()


@contextmanager
def reader(outputs):
    session = stack_tool.cassandra(outputs, schema.READER, Settings.keyspace)
    try:
        yield session
    finally:
        session.cluster.shutdown()


@contextmanager
def node_session_at_one(outputs, node: str, role: str = schema.READER):
    """A session as `role` whose only coordinator is `node`, reading at ONE, so it answers from its own replica."""
    with session_at_one(outputs, address(node), 9042, role) as session:
        yield session


@contextmanager
def session_at_one(outputs, ip: str, port: int, role: str = schema.READER):
    """A session whose only coordinator is the node at ip:port, reading at ONE: that node's own replica."""
    from cassandra import ConsistencyLevel
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import WhiteListRoundRobinPolicy

    login = outputs["cassandraCredentials"][role]
    profile = ExecutionProfile(load_balancing_policy=WhiteListRoundRobinPolicy([ip]),
                               consistency_level=ConsistencyLevel.ONE, request_timeout=20)
    cluster = Cluster([ip], port=port, auth_provider=PlainTextAuthProvider(login["user"], login["password"]),
                      execution_profiles={EXEC_PROFILE_DEFAULT: profile}, protocol_version=5)
    try:
        yield cluster.connect(Settings.keyspace)
    finally:
        cluster.shutdown()


def hints_pending(exec_on=None) -> list[str]:
    """The Cassandra nodes that still hold hints for others (nodetool listpendinghints).

    `exec_on(i)` is the `docker ... exec <container>` command prefix of node i; by default, the dev stack's.
    """
    exec_on = exec_on or (lambda i: ["docker", "exec", container(f"cassandra-{i}")])
    holding = []
    for i in range(int(stack_tool.config(STACK)["cassandra"]["nodes"])):
        out = subprocess.run([*exec_on(i), "nodetool", "listpendinghints"], capture_output=True, text=True, timeout=120)
        if out.returncode != 0 or "does not have any pending hints" not in out.stdout:
            holding.append(f"cassandra-{i}")
    return holding


def wait_hints_delivered(timeout: float = 600, exec_on=None) -> None:
    deadline = time.monotonic() + timeout
    while (holding := hints_pending(exec_on)) and time.monotonic() < deadline:
        time.sleep(5)
    assert not holding, f"hints still pending on {holding} after {timeout:.0f} s"
