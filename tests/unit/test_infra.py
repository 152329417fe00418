"""The Pulumi components under mocks: what each container is given, without Docker."""

from pathlib import Path

import pulumi
import pytest


class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        outputs = dict(args.inputs)
        if args.typ == "docker:index/image:Image":
            outputs["repoDigest"] = f"sha256:{args.name}"
        return f"{args.name}-id", outputs

    def call(self, args: pulumi.runtime.MockCallArgs):
        return {}


pulumi.runtime.set_mocks(Mocks(), project="clickstream", stack="test", preview=False)

import pulumi_docker as docker  # noqa: E402

from infra.cassandra import CassandraCluster, CassandraClusterArgs  # noqa: E402
from infra.kafka import KafkaCluster, KafkaClusterArgs  # noqa: E402
from infra.naming import Naming  # noqa: E402

NAMING = Naming("clickstream", "test")


def _base():
    return docker.Image("jre", image_name="clickstream/jre:17", skip_push=True,
                        build=docker.DockerBuildArgs(context="."))


def _env(container) -> pulumi.Output[dict]:
    return container.envs.apply(lambda envs: dict(e.split("=", 1) for e in envs))


@pulumi.runtime.test
def test_kafka_brokers_are_durable_and_published_on_loopback_only(tmp_path: Path):
    kafka = KafkaCluster("kafka", KafkaClusterArgs(
        naming=NAMING, network="net", base_image=_base(), version="4.1.1", artifacts=tmp_path, brokers=3,
        heap="384m", replication_factor=3, min_insync_replicas=2, external_port_base=19092))
    assert kafka.bootstrap == "kafka-0:9092,kafka-1:9092,kafka-2:9092"

    def check(args):
        env, ports, image = args
        assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-0:9093,2@kafka-1:9093,3@kafka-2:9093"
        assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == ("3", "2")
        assert env["KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"] == "false"
        assert [(p["ip"], p["external"]) for p in ports] == [("127.0.0.1", 19093)]
        assert image == "sha256:kafka-image"  # the image id: a rebuilt image replaces the container

    second = kafka.containers[1]
    return pulumi.Output.all(_env(second), second.ports, second.image).apply(check)


@pulumi.runtime.test
def test_single_broker_stack_lowers_replication_to_fit(tmp_path: Path):
    kafka = KafkaCluster("kafka1", KafkaClusterArgs(
        naming=NAMING, network="net", base_image=_base(), version="4.1.1", artifacts=tmp_path, brokers=1,
        heap="384m", replication_factor=3, min_insync_replicas=2, external_port_base=29092))

    def check(env):
        assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == ("1", "1")

    return _env(kafka.containers[0]).apply(check)


@pulumi.runtime.test
def test_cassandra_nodes_get_distinct_preset_tokens_and_only_node0_is_published(tmp_path: Path):
    cassandra = CassandraCluster("cassandra", CassandraClusterArgs(
        naming=NAMING, network="net", base_image=_base(), version="5.0.9", artifacts=tmp_path, nodes=3,
        max_heap="768M", new_heap="128M", datacenter="dc1", admin_port=19042))
    assert cassandra.hosts == "cassandra-0,cassandra-1,cassandra-2"

    def check(args):
        envs, ports = args[:3], args[3:]
        assert [e["CASSANDRA_INITIAL_TOKEN"] for e in envs] == ["1/3", "2/3", "3/3"]
        assert all(e["CASSANDRA_SEEDS"] == cassandra.hosts for e in envs)
        assert [len(p) for p in ports] == [1, 0, 0] and ports[0][0]["ip"] == "127.0.0.1"

    containers = cassandra.containers
    return pulumi.Output.all(*[_env(c) for c in containers], *[c.ports for c in containers]).apply(check)


def test_missing_artifacts_say_how_to_fix(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="make setup"):
        KafkaCluster("kafka-missing", KafkaClusterArgs(
            naming=NAMING, network="net", base_image=_base(), version="4.1.1", artifacts=tmp_path / "nope",
            brokers=1, heap="384m", replication_factor=1, min_insync_replicas=1, external_port_base=39092))
