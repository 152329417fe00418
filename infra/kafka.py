"""KafkaCluster: a KRaft cluster with a fixed, static voter set and broker-only nodes to scale with.

The first `controllers` nodes are broker+controller and form the static voter set; nodes beyond
them are broker-only, so adding or removing one never touches the quorum. Each broker-only node
has a KafkaBrokerMembership: partitions are spread onto it after it joins and moved off before it
goes. Scale-in removes the highest nodes first, never below the controllers.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker

from contract.topics import ALL as PROJECT_TOPICS
from infra.hosts import Placement
from infra.images import image_ref, service_images
from infra.membership import KafkaBrokerMembership, KafkaMembershipArgs
from infra.naming import Naming
from infra.nodes import NodeSpec, node

INTERNAL_PORT = 9092
CONTROLLER_PORT = 9093
EXTERNAL_PORT = 9094


@dataclass
class KafkaClusterArgs:
    naming: Naming
    #: The stack network; ignored in multi-host mode, where brokers use their host's network.
    network: pulumi.Input[str]
    #: The JRE base image, or one per host name in multi-host mode.
    base_image: docker.Image | dict[str, docker.Image]
    version: str
    artifacts: Path
    brokers: int
    heap: str
    replication_factor: int
    min_insync_replicas: int
    external_port_base: int
    #: How many of the first brokers are also controllers (the static voters); None: all of them,
    #: which fits a cluster that never changes size.
    controllers: int | None = None
    placement: Placement = field(default_factory=Placement)
    #: The project's topics: what a joining broker gets its share of.
    topics: list[str] = field(default_factory=lambda: list(PROJECT_TOPICS))


def cluster_id(stack_key: str) -> str:
    """A stable KRaft cluster id per stack (a base64url UUID, as `kafka-storage random-uuid` makes)."""
    raw = uuid.uuid5(uuid.NAMESPACE_URL, f"clickstream/{stack_key}/kafka").bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class _Broker:
    """Where broker i listens and what it advertises, on the stack network or on its host."""

    index: int
    host: str  # container and host name: kafka-<i>
    client: str  # host:port of its PLAINTEXT listener, as other members and clients reach it
    controller: str  # host:port of its CONTROLLER listener
    bind_client: int
    bind_controller: int


def _brokers(args: KafkaClusterArgs) -> list[_Broker]:
    place, ports = args.placement, args.placement.ports
    brokers = []
    for i in range(args.brokers):
        host = f"kafka-{i}"
        if ports is None:
            brokers.append(_Broker(i, host, f"{host}:{INTERNAL_PORT}", f"{host}:{CONTROLLER_PORT}",
                                   INTERNAL_PORT, CONTROLLER_PORT))
        else:
            address, slot = place.host(i).address, place.slot(i)
            client, controller = ports.kafka + slot, ports.kafka_controller + slot
            brokers.append(_Broker(i, host, f"{address}:{client}", f"{address}:{controller}", client, controller))
    return brokers


class KafkaCluster(pulumi.ComponentResource):
    """Clients inside use `bootstrap` (the controllers: they never leave), the host uses `external_bootstrap`."""

    def __init__(self, name: str, args: KafkaClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:KafkaCluster", name, {}, opts)
        n, place = args.naming, args.placement
        controllers = args.brokers if args.controllers is None else args.controllers
        if not 1 <= controllers <= args.brokers:
            raise ValueError(f"kafka: {args.brokers} brokers cannot keep {controllers} controllers; "
                             "scale in only down to the controllers")
        images = service_images(name, n, "kafka", args.version, args.artifacts, args.base_image, self, place)
        brokers = _brokers(args)
        voters = ",".join(f"{b.index + 1}@{b.controller}" for b in brokers[:controllers])
        # Sized by the fixed controllers, not the broker count: scaling must not change any broker's settings.
        rf = min(args.replication_factor, controllers)
        isr = min(args.min_insync_replicas, rf)
        self.containers: list[docker.Container] = []
        self.memberships: list[KafkaBrokerMembership] = []
        for b in brokers:
            is_controller = b.index < controllers
            external = args.external_port_base + b.index
            if place.multi_host:
                listeners = (f"PLAINTEXT://:{b.bind_client}"
                             + (f",CONTROLLER://:{b.bind_controller}" if is_controller else ""))
                # The controller listener advertised too: unnamed, Kafka advertises it as localhost, which on
                # host networking is whichever controller shares the asker's host (found on two daemons).
                advertised = f"PLAINTEXT://{b.client}" + (f",CONTROLLER://{b.controller}" if is_controller else "")
            else:
                listeners = (f"PLAINTEXT://:{INTERNAL_PORT}"
                             + (f",CONTROLLER://:{CONTROLLER_PORT}" if is_controller else "")
                             + f",EXTERNAL://:{EXTERNAL_PORT}")
                advertised = f"PLAINTEXT://{b.client},EXTERNAL://127.0.0.1:{external}"
            env = {
                "KAFKA_NODE_ID": b.index + 1,
                "KAFKA_PROCESS_ROLES": "broker,controller" if is_controller else "broker",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
                "KAFKA_LISTENERS": listeners,
                "KAFKA_ADVERTISED_LISTENERS": advertised,
                "CLUSTER_ID": cluster_id(n.key),
                "KAFKA_HEAP_OPTS": f"-Xmx{args.heap} -Xms{args.heap}",
                "KAFKA_DEFAULT_REPLICATION_FACTOR": rf,
                "KAFKA_MIN_INSYNC_REPLICAS": isr,
                "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": rf,
                "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": rf,
                "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": isr,
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": rf,
                "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": isr,
                "KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE": "false",
            }
            if place.racks:
                # Replicas of a partition go to different racks, so one host's loss keeps a quorum of copies.
                env["KAFKA_BROKER_RACK"] = place.host(b.index).name
            docker_host = place.host(b.index)
            container = node(f"{name}-{b.index}", NodeSpec(
                host=b.host, image=image_ref(images[docker_host.name]), env=env,
                healthcheck=["/opt/kafka/bin/healthcheck"], start_period="2m0s", wait_timeout=240,
                data_path="/var/lib/kafka/data", stop_timeout=30,
                ports=[docker.ContainerPortArgs(internal=EXTERNAL_PORT, external=external, ip="127.0.0.1")],
            ), n, None if place.multi_host else args.network, self, provider=docker_host.provider)
            self.containers.append(container)
            if not is_controller:
                self.memberships.append(self._membership(name, args, b, brokers[0]))
        #: The sizing every topic and client gets (the Apps' topic set-up uses these, never the config).
        self.replication_factor, self.min_insync_replicas = rf, isr
        self.bootstrap = ",".join(b.client for b in brokers[:controllers])
        self.external_bootstrap = ",".join(
            b.client if place.multi_host else f"127.0.0.1:{args.external_port_base + b.index}" for b in brokers)
        self.register_outputs({"bootstrap": self.bootstrap, "external_bootstrap": self.external_bootstrap})

    def _membership(self, name: str, args: KafkaClusterArgs, broker: _Broker, tools: _Broker) -> KafkaBrokerMembership:
        """Joins after its container and every broker before it; leaves before any of them, the newest first."""
        n, place = args.naming, args.placement
        return KafkaBrokerMembership(f"{name}-{broker.index}-membership", KafkaMembershipArgs(
            broker_id=broker.index + 1, docker_host=place.host(broker.index).url, container=n.resource(broker.host),
            tool_docker_host=place.first.url, tool_container=n.resource(tools.host),
            tool_bootstrap=f"localhost:{tools.bind_client}", topics=list(args.topics),
            spread_over=list(range(1, broker.index + 2)), drain_to=list(range(1, broker.index + 1)),
        ), pulumi.ResourceOptions(parent=self, depends_on=[*self.containers, *self.memberships[-1:]]))
