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

from contract import kafka_auth
from contract.settings import KAFKA_TOOLS_CONFIG, SECRETS_DIR
from contract.topics import ALL as PROJECT_TOPICS
from infra.hosts import Placement
from infra.images import image_ref, service_images
from infra.membership import KafkaBrokerMembership, KafkaMembershipArgs
from infra.naming import Naming
from infra.nodes import NodeSpec, node

INTERNAL_PORT = 9092
CONTROLLER_PORT = 9093
EXTERNAL_PORT = 9094

#: Secret files of every node, and the variables the image's entrypoint finds them by: the listeners' JAAS
#: logins, layered over server.properties; the SCRAM credentials written when the metadata log is formatted.
SERVER_SECRETS = f"{SECRETS_DIR}/kafka-server.properties"
SCRAM_CREDENTIALS = f"{SECRETS_DIR}/kafka-scram-credentials"
SECRET_FILE_ENV = {"CLICKSTREAM_KAFKA_SERVER_SECRETS": SERVER_SECRETS,
                   "CLICKSTREAM_KAFKA_SCRAM_CREDENTIALS": SCRAM_CREDENTIALS}
LISTENERS = ("INTERNAL", "EXTERNAL", "CONTROLLER")


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
    #: The generated password of each principal in contract.kafka_auth.PRINCIPALS (Pulumi secrets).
    passwords: dict[str, pulumi.Output[str]]
    #: How many of the first brokers are also controllers (the static voters); None: all of them,
    #: which fits a cluster that never changes size.
    controllers: int | None = None
    placement: Placement = field(default_factory=Placement)
    #: The project's topics: what a joining broker gets its share of.
    topics: list[str] = field(default_factory=lambda: list(PROJECT_TOPICS))


#: SASL on every listener (SCRAM for clients and brokers, PLAIN for the controllers), and ACLs that deny
#: what contract.kafka_auth.GRANTS does not allow.
SECURITY_ENV = {
    "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": ",".join(f"{name}:{kafka_auth.PROTOCOL}" for name in LISTENERS),
    "KAFKA_INTER_BROKER_LISTENER_NAME": "INTERNAL",
    "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
    "KAFKA_SASL_ENABLED_MECHANISMS": kafka_auth.MECHANISM,
    "KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL": kafka_auth.MECHANISM,
    "KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL": kafka_auth.CONTROLLER_MECHANISM,
    "KAFKA_LISTENER_NAME_CONTROLLER_SASL_ENABLED_MECHANISMS": kafka_auth.CONTROLLER_MECHANISM,
    "KAFKA_AUTHORIZER_CLASS_NAME": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "KAFKA_SUPER_USERS": ";".join(kafka_auth.principal(user) for user in kafka_auth.SUPER_USERS),
    "KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND": "false",
}


def server_secrets(passwords: dict[str, str]) -> str:
    """Each listener's JAAS login: the broker's own SCRAM login on the listeners brokers use, and the controller
    listener's PLAIN account (which brokers and controllers log in with)."""
    mechanism = kafka_auth.MECHANISM.lower()
    broker = kafka_auth.scram_jaas(kafka_auth.BROKER, passwords[kafka_auth.BROKER])
    controller = passwords[kafka_auth.CONTROLLER]
    return kafka_auth.properties_text({
        f"listener.name.internal.{mechanism}.sasl.jaas.config": broker,
        f"listener.name.external.{mechanism}.sasl.jaas.config": kafka_auth.scram_jaas(),
        "listener.name.controller.plain.sasl.jaas.config": kafka_auth.jaas(
            "plain.PlainLoginModule", kafka_auth.CONTROLLER, controller, **{kafka_auth.CONTROLLER: controller}),
    })


def scram_credentials(passwords: dict[str, str]) -> str:
    """`kafka-storage format --add-scram` values, one a line: the SCRAM principals, made with the metadata log."""
    return "".join(f"{kafka_auth.MECHANISM}=[name={user},password={passwords[user]}]\n"
                   for user in kafka_auth.SCRAM_USERS)


def secret_files(passwords: dict[str, pulumi.Output[str]]) -> list[docker.ContainerUploadArgs]:
    """Every node's secret files: its listeners' logins, the SCRAM credentials, and the admin's login for the
    command-line tools (KAFKA_TOOLS_CONFIG) that scaling and operators run in a broker."""
    known = pulumi.Output.secret(pulumi.Output.all(**passwords))
    admin = (kafka_auth.ADMIN, passwords[kafka_auth.ADMIN])
    tools = pulumi.Output.secret(pulumi.Output.all(*admin)).apply(
        lambda login: kafka_auth.properties_text(kafka_auth.java_client_properties(tuple(login))))
    return [docker.ContainerUploadArgs(file=path, content=content, permissions="0444") for path, content in (
        (SERVER_SECRETS, known.apply(server_secrets)),
        (SCRAM_CREDENTIALS, known.apply(scram_credentials)),
        (KAFKA_TOOLS_CONFIG, tools),
    )]


def cluster_id(stack_key: str) -> str:
    """A stable KRaft cluster id per stack (a base64url UUID, as `kafka-storage random-uuid` makes)."""
    raw = uuid.uuid5(uuid.NAMESPACE_URL, f"clickstream/{stack_key}/kafka").bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass(frozen=True)
class _Broker:
    """Where broker i listens and what it advertises, on the stack network or on its host."""

    index: int
    host: str  # container and host name: kafka-<i>
    client: str  # host:port of its INTERNAL listener, as other members and clients reach it
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
        uploads = secret_files(args.passwords)
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
                listeners = (f"INTERNAL://:{b.bind_client}"
                             + (f",CONTROLLER://:{b.bind_controller}" if is_controller else ""))
                # The controller listener advertised too: unnamed, Kafka advertises it as localhost, which on
                # host networking is whichever controller shares the asker's host (found on two daemons).
                advertised = f"INTERNAL://{b.client}" + (f",CONTROLLER://{b.controller}" if is_controller else "")
            else:
                listeners = (f"INTERNAL://:{INTERNAL_PORT}"
                             + (f",CONTROLLER://:{CONTROLLER_PORT}" if is_controller else "")
                             + f",EXTERNAL://:{EXTERNAL_PORT}")
                advertised = f"INTERNAL://{b.client},EXTERNAL://127.0.0.1:{external}"
            env = {**SECURITY_ENV, **SECRET_FILE_ENV,
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
                data_path="/var/lib/kafka/data", stop_timeout=30, uploads=uploads,
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
            tool_config=KAFKA_TOOLS_CONFIG,
        ), pulumi.ResourceOptions(parent=self, depends_on=[*self.containers, *self.memberships[-1:]]))
