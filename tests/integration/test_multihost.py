"""Two Docker hosts on one machine: `make test-multihost` (CLICKSTREAM_MULTIHOST=1; root).

Host a is the default engine; host b is a second dockerd in its own network namespace, joined to a by
a veth pair (devstack/hostb.py). The `multihost` stack (Pulumi.multihost.yaml) places member i on host
i mod 2, with host networking and racks named after the hosts. Proven here:

1. The pipeline end to end across both hosts: a month loads and every article matches the file, and
   the replicas of every Kafka partition and the Cassandra ring span both racks.
2. Host b cut off (its veth link down): b holds one of three replicas everywhere, so QUORUM reads and
   acks=all writes (min ISR 2) go on with a's two. A month loaded during the cut is exact.
3. b back: its Cassandra node is brought up to date (hints), and read at ONE it holds that month too.

The stack and host b are removed afterwards (b's image cache is kept).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml

from contract import topics
from infra.hosts import DockerHost, Placement
from devstack import stack as stack_tool
from tests.integration import faults
from tests.integration.helpers import failing_on_exit, synthetic

pytestmark = [
    pytest.mark.stack,
    pytest.mark.skipif(os.environ.get("CLICKSTREAM_MULTIHOST") != "1", reason="two Docker hosts: make test-multihost"),
]
STACK = "multihost"
LANG = "en"
ROWS = 30_000
CONFIG = yaml.safe_load((stack_tool.ROOT / f"Pulumi.{STACK}.yaml").read_text())["config"]
HOSTS = CONFIG["clickstream:hosts"]
#: The program's own placement rule (member i on host i mod n, slot i // n), without providers.
PLACE = Placement(hosts=tuple(DockerHost(h["name"], h["url"], h["address"]) for h in HOSTS))


def docker_on(member: int, *args: str, timeout: float = 120) -> str:
    """`docker` on the engine of member `member` (PLACE)."""
    return subprocess.run(["docker", "-H", PLACE.host(member).url, *args], check=True, capture_output=True,
                          text=True, timeout=timeout).stdout


def container(name: str) -> str:
    return f"clickstream-{STACK}-{name}"


def hostb_command(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "devstack.hostb", *args], check=True, cwd=stack_tool.ROOT, timeout=600)


@pytest.fixture(scope="module")
def outputs():
    hostb_command("up")
    clean()
    try:
        with failing_on_exit():
            stack = stack_tool.up(STACK)
        yield stack
    finally:
        clean()
        hostb_command("down")


def clean() -> None:
    """Destroy the stack, and whatever an interrupted run left outside Pulumi's state on either host."""
    for host in HOSTS:
        stack_tool.remove_leftovers(STACK, host["url"])
    stack_tool.down(STACK)


def load(outputs, path) -> None:
    # Two stacks' worth of JVMs can share these 2 cores while the dev stack is up: a 30k-row month took
    # 10 minutes. Slow, but moving: the wait fails only once the load stops moving (devstack.progress).
    stack_tool.load(STACK, path, None, None, wait=True)


def racks_of_replicas(outputs) -> list[set[str]]:
    """For each partition of the project's topics: the racks of its replicas."""
    from kafka import KafkaAdminClient

    admin = KafkaAdminClient(**stack_tool.kafka(outputs), request_timeout_ms=15_000)
    try:
        rack = {b["broker_id"]: b["rack"] for b in admin.describe_cluster()["brokers"]}
        described = admin.describe_topics(list(topics.ALL))
    finally:
        admin.close()
    return [{rack[r] for r in p["replica_nodes"]} for t in described for p in t["partitions"]]


def ring_racks() -> list[str]:
    """The rack of every node that is up and normal, as node 0 sees the ring (`nodetool status`; rack last)."""
    lines = docker_on(0, "exec", container("cassandra-0"), "nodetool", "status").splitlines()
    return sorted(f[-1] for f in (line.split() for line in lines) if f and f[0] == "UN")


def exec_on(member: int) -> list[str]:
    """`docker exec` into Cassandra node `member` on its own engine."""
    return ["docker", "-H", PLACE.host(member).url, "exec", container(f"cassandra-{member}")]


def test_members_are_spread_over_both_hosts_and_racks(outputs):
    on_b = docker_on(1, "ps", "--format", "{{.Names}}").split()
    assert {container("kafka-1"), container("cassandra-1"), container("spark-worker-1")} <= set(on_b), on_b
    assert all(racks == {"a", "b"} for racks in racks_of_replicas(outputs))
    assert ring_racks() == ["a", "a", "b"]


def test_a_month_loads_exactly_across_both_hosts(outputs, tmp_path):
    path = synthetic(tmp_path, LANG, "2024-02", ROWS, seed=51)
    load(outputs, path)
    with faults.reader(outputs) as session:
        verdict = faults.check_exact(session, "two Docker hosts", "none: members on hosts a and b",
                                     LANG, "2024-02", path)
    assert verdict.passed, verdict


def test_with_host_b_cut_off_a_month_still_loads_exactly_and_b_catches_up(outputs, tmp_path):
    path = synthetic(tmp_path, LANG, "2024-03", ROWS, seed=52)
    hostb_command("cut")
    try:
        load(outputs, path)
        with faults.reader(outputs) as session:
            during = faults.check_exact(session, "host b cut off (QUORUM on a)", "veth cs-b down during the load",
                                        LANG, "2024-03", path)
    finally:
        hostb_command("heal")
    assert during.passed, during
    faults.wait_hints_delivered(exec_on=exec_on)
    cql = CONFIG["clickstream:hostPorts"]["cassandraCql"] + PLACE.slot(1)  # node 1: the first on host b
    with faults.session_at_one(outputs, PLACE.host(1).address, cql) as session:
        after = faults.check_exact(session, "host b's node after the cut, read at ONE",
                                   "veth cs-b down during the load, then up", LANG, "2024-03", path)
    assert after.passed, after
