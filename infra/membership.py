"""Joining and leaving a cluster, as Pulumi resources: scaling by config keeps its order in the program.

One membership per scalable member (a Kafka broker-only node, a Cassandra node beyond the seeds),
depending on that member's container. So Pulumi
* creates it once the container is healthy: Kafka spreads the project's partitions onto the new
  broker; Cassandra runs `nodetool cleanup` on the older nodes;
* deletes it before the container: Kafka moves every replica off the broker, then stops and
  unregisters it; Cassandra runs `nodetool decommission`.
Memberships of one cluster are chained, so members join and leave one at a time, the highest last
in and first out. `pulumi destroy` would run the leaving steps too; `devstack.stack down` sets
TEARDOWN_ENV to skip them when the whole stack goes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from infra.dynamic import pickled_by_value
from infra.rebalance import (docker, docker_exec, drain_plan, login, parse_partitions, plan_json, reassign,
                             reassignment_finished, spread_plan)

TEARDOWN_ENV = "CLICKSTREAM_TEARDOWN"
PLAN_FILE = "/tmp/clickstream-reassignment.json"


@dataclass
class KafkaMembershipArgs:
    broker_id: int
    docker_host: str
    container: str
    #: Where Kafka's tools run: a broker that never leaves (the first controller), and its listener.
    tool_docker_host: str
    tool_container: str
    tool_bootstrap: str
    topics: list[str]
    #: The admin's login for the tools, a Java properties file in the tool container; empty: Kafka takes no logins.
    #: Brokers the project's partitions spread over once this one has joined: it and every one before it.
    spread_over: list[int]
    #: Brokers that take this one's replicas when it leaves: every one before it.
    drain_to: list[int]
    tool_config: str = ""
    timeout: int = 1800


@dataclass
class CassandraMembershipArgs:
    docker_host: str
    container: str
    #: (docker host, container) of every node that was in the ring before this one.
    older_nodes: list[list[str]] = field(default_factory=list)


@pickled_by_value
class _MembershipProvider(ResourceProvider):
    """Shared plumbing: props are stored as outputs (delete sees only those), and only `replaces_on` replaces."""

    replaces_on: tuple[str, ...] = ("container",)

    def create(self, props):
        import uuid

        self.join(props)
        return CreateResult(id_=uuid.uuid4().hex, outs=_inputs(props))

    def diff(self, _id, olds, news):
        replaces = [k for k in self.replaces_on if olds.get(k) != news.get(k)]
        return DiffResult(changes=_inputs(olds) != _inputs(news), replaces=replaces, delete_before_replace=True)

    def update(self, _id, _olds, news):
        return UpdateResult(outs=_inputs(news))

    def delete(self, _id, props):
        import os

        if os.environ.get(TEARDOWN_ENV):
            return
        self.leave(props)

    def run(self, argv: list[str], stdin: str | None = None) -> str:
        import subprocess

        result = subprocess.run(argv, input=stdin, capture_output=True, text=True)
        if result.returncode != 0:
            raise RuntimeError(f"`{' '.join(argv)}` failed with exit {result.returncode}:\n"
                               f"{(result.stdout + result.stderr)[-3000:]}")
        return result.stdout


@pickled_by_value
def _inputs(props: dict) -> dict:
    return {k: v for k, v in props.items() if k != "__provider"}


@pickled_by_value
class _KafkaMembershipProvider(_MembershipProvider):
    replaces_on = ("broker_id", "container")

    def join(self, props):
        current = self.partitions(props)
        ours = {p: replicas for p, replicas in current.items() if p[0] in props["topics"]}
        self.move(props, spread_plan(ours, [int(b) for b in props["spread_over"]]))

    def leave(self, props):
        plan = drain_plan(self.partitions(props), int(props["broker_id"]), [int(b) for b in props["drain_to"]])
        self.move(props, plan)
        # A stopped KRaft broker stays registered (fenced) until it is unregistered.
        self.run(docker(props["docker_host"], "stop", props["container"]))
        self.tool(props, "kafka-tool", "org.apache.kafka.tools.ClusterTool", "unregister",
                  "--bootstrap-server", props["tool_bootstrap"], "--id", str(int(props["broker_id"])),
                  *login("--config", props.get("tool_config")))

    def partitions(self, props):
        """Every topic's replica lists, internal ones included: a leaving broker must hand over all of them."""
        return parse_partitions(self.tool(props, "kafka-topics", "--bootstrap-server", props["tool_bootstrap"],
                                          "--describe", *login("--command-config", props.get("tool_config"))))

    def move(self, props, plan):
        import time

        if not plan:
            return
        self.run(docker_exec(props["tool_docker_host"], props["tool_container"], "sh", "-c", 'cat > "$0"',
                             PLAN_FILE, stdin=True), stdin=plan_json(plan))
        config = props.get("tool_config")
        self.tool(props, *reassign(props["tool_bootstrap"], PLAN_FILE, "execute", config))
        deadline = time.monotonic() + float(props["timeout"])
        while not reassignment_finished(self.tool(props, *reassign(props["tool_bootstrap"], PLAN_FILE, "verify",
                                                                   config))):
            if time.monotonic() > deadline:
                raise TimeoutError(f"partition reassignment not finished after {props['timeout']} s")
            time.sleep(5)

    def tool(self, props, *command):
        return self.run(docker_exec(props["tool_docker_host"], props["tool_container"], *command))


@pickled_by_value
class _CassandraMembershipProvider(_MembershipProvider):
    def join(self, props):
        # The new node now owns ranges the older ones still keep a copy of.
        for docker_host, container in props["older_nodes"]:
            self.run(docker_exec(docker_host, container, "nodetool", "cleanup"))

    def leave(self, props):
        # Streams this node's ranges to the others and leaves the ring; blocks until done.
        self.run(docker_exec(props["docker_host"], props["container"], "nodetool", "decommission"))


class KafkaBrokerMembership(Resource):
    """A broker-only Kafka node's share of partitions: spread onto it on join, moved off before it goes."""

    def __init__(self, name: str, args: KafkaMembershipArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(_KafkaMembershipProvider(), name, asdict(args), opts)


class CassandraMembership(Resource):
    """A Cassandra node beyond the seeds: older nodes cleaned up after it joins, decommissioned before it goes."""

    def __init__(self, name: str, args: CassandraMembershipArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(_CassandraMembershipProvider(), name, asdict(args), opts)
