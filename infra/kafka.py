"""KafkaCluster: a KRaft cluster of combined broker+controller nodes with a static voter set."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.images import image_ref, service_image
from infra.naming import Naming
from infra.nodes import NodeSpec, node

INTERNAL_PORT = 9092
CONTROLLER_PORT = 9093
EXTERNAL_PORT = 9094


@dataclass
class KafkaClusterArgs:
    naming: Naming
    network: pulumi.Input[str]
    base_image: docker.Image
    version: str
    artifacts: Path
    brokers: int
    heap: str
    replication_factor: int
    min_insync_replicas: int
    external_port_base: int


def cluster_id(stack_key: str) -> str:
    """A stable KRaft cluster id per stack (a base64url UUID, as `kafka-storage random-uuid` makes)."""
    raw = uuid.uuid5(uuid.NAMESPACE_URL, f"clickstream/{stack_key}/kafka").bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class KafkaCluster(pulumi.ComponentResource):
    """Brokers on the stack network; clients inside use `bootstrap`, the host uses `external_bootstrap`."""

    def __init__(self, name: str, args: KafkaClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:KafkaCluster", name, {}, opts)
        n = args.naming
        image = service_image(name, n, "kafka", args.version, args.artifacts, args.base_image, self)
        hosts = [f"kafka-{i}" for i in range(args.brokers)]
        voters = ",".join(f"{i + 1}@{host}:{CONTROLLER_PORT}" for i, host in enumerate(hosts))
        rf = min(args.replication_factor, args.brokers)
        isr = min(args.min_insync_replicas, rf)
        self.containers: list[docker.Container] = []
        for i, host in enumerate(hosts):
            external = args.external_port_base + i
            env = {
                "KAFKA_NODE_ID": i + 1,
                "KAFKA_PROCESS_ROLES": "broker,controller",
                "KAFKA_CONTROLLER_QUORUM_VOTERS": voters,
                "KAFKA_LISTENERS": f"PLAINTEXT://:{INTERNAL_PORT},CONTROLLER://:{CONTROLLER_PORT},EXTERNAL://:{EXTERNAL_PORT}",
                "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://{host}:{INTERNAL_PORT},EXTERNAL://127.0.0.1:{external}",
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
            self.containers.append(node(f"{name}-{i}", NodeSpec(
                host=host, image=image_ref(image), env=env, healthcheck=["/opt/kafka/bin/healthcheck"],
                start_period="2m0s", wait_timeout=240, data_path="/var/lib/kafka/data", stop_timeout=30,
                ports=[docker.ContainerPortArgs(internal=EXTERNAL_PORT, external=external, ip="127.0.0.1")],
            ), n, args.network, self))
        self.bootstrap = ",".join(f"{h}:{INTERNAL_PORT}" for h in hosts)
        self.external_bootstrap = ",".join(f"127.0.0.1:{args.external_port_base + i}" for i in range(args.brokers))
        self.register_outputs({"bootstrap": self.bootstrap, "external_bootstrap": self.external_bootstrap})
