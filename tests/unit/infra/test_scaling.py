"""Scaling by config and multi-host placement: plans, membership steps and generated resources, without Docker."""

import json
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest

from tests.conftest import VERSIONS
from tests.fakes import PulumiMocks

MOCKS = PulumiMocks()
pulumi.runtime.set_mocks(MOCKS, project="clickstream", stack="test", preview=False)

import pulumi_docker as docker  # noqa: E402

from infra.cassandra import CassandraCluster, CassandraClusterArgs  # noqa: E402
from infra.hosts import HostPorts, Placement, placement  # noqa: E402
from infra.kafka import KafkaCluster, KafkaClusterArgs  # noqa: E402
from infra.membership import TEARDOWN_ENV, _CassandraMembershipProvider, _KafkaMembershipProvider  # noqa: E402
from infra.naming import Naming  # noqa: E402
from infra.rebalance import drain_plan, parse_partitions, plan_json, reassignment_finished, spread_plan  # noqa: E402
from infra.spark import SparkCluster, SparkClusterArgs  # noqa: E402

NAMING = Naming("clickstream", "test")
PORTS = HostPorts(kafka=19092, kafka_controller=19192, cassandra_storage=17000, cassandra_cql=19042,
                  cassandra_jmx=17199, spark_worker_ui=18081)
TWO_HOSTS = [{"name": "a", "url": "unix:///var/run/docker.sock", "address": "10.9.0.1"},
             {"name": "b", "url": "ssh://ops@10.9.0.2", "address": "10.9.0.2"}]
#: Six partitions of RF 3 on three brokers, as topic creation leaves them.
THREE = {("clickstream.raw", p): [(p + k) % 3 + 1 for k in range(3)] for p in range(6)}
DESCRIBE = """Topic: clickstream.raw\tTopicId: abc\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: min.insync.replicas=2
\tTopic: clickstream.raw\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\tElr: \tLastKnownElr: 
\tTopic: clickstream.raw\tPartition: 1\tLeader: none\tReplicas: 4,2,3\tIsr: 2,3\tAdding Replicas: 4\tRemoving Replicas: 1
Topic: __consumer_offsets\tTopicId: def\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: 
\tTopic: __consumer_offsets\tPartition: 0\tLeader: 2\tReplicas: 2,3,4\tIsr: 2,3,4
"""  # noqa: E501 - verbatim kafka-topics output, one partition a line


def _counts(assignment, brokers):
    return {b: sum(b in r for r in assignment.values()) for b in brokers}


# --- Kafka plans ---------------------------------------------------------------------------------

def test_describe_output_gives_each_partitions_replicas_in_preferred_order():
    assert parse_partitions(DESCRIBE) == {("clickstream.raw", 0): [1, 2, 3], ("clickstream.raw", 1): [4, 2, 3],
                                          ("__consumer_offsets", 0): [2, 3, 4]}


def test_spreading_onto_a_fourth_broker_evens_replicas_and_leaders_with_fewest_moves():
    plan = spread_plan(THREE, [1, 2, 3, 4])
    after = THREE | plan
    assert sorted(_counts(after, [1, 2, 3, 4]).values()) == [4, 4, 5, 5]
    assert all(len(set(r)) == 3 for r in after.values())
    moved = sum(len(set(r) - set(THREE[p])) for p, r in after.items())
    assert moved == 4  # exactly the new broker's share, nothing shuffled between the old ones
    leaders = [r[0] for r in after.values()]
    assert 4 in leaders and max(leaders.count(b) for b in (1, 2, 3, 4)) == 2


def test_an_even_assignment_needs_no_moves():
    assert spread_plan(THREE, [1, 2, 3]) == {}
    assert spread_plan(THREE | spread_plan(THREE, [1, 2, 3, 4]), [1, 2, 3, 4]) == {}


def test_draining_a_broker_moves_only_its_replicas_and_keeps_replication():
    four = THREE | spread_plan(THREE, [1, 2, 3, 4])
    plan = drain_plan(four, leaving=4, remaining=[1, 2, 3])
    assert set(plan) == {p for p, r in four.items() if 4 in r}
    after = four | plan
    assert all(4 not in r and len(set(r)) == 3 for r in after.values())
    assert _counts(after, [1, 2, 3]) == {1: 6, 2: 6, 3: 6}


def test_draining_refuses_when_too_few_brokers_remain_for_the_replication_factor():
    with pytest.raises(ValueError, match="no broker left"):
        drain_plan(THREE, leaving=3, remaining=[1, 2])


def test_plan_json_and_verify_output():
    assert json.loads(plan_json({("t", 1): [4, 2, 3]})) == {
        "version": 1, "partitions": [{"topic": "t", "partition": 1, "replicas": [4, 2, 3]}]}
    assert reassignment_finished("Status of partition reassignment:\nReassignment of partition t-1 is completed.\n")
    assert not reassignment_finished("Reassignment of partition t-1 is still in progress.\n")
    with pytest.raises(RuntimeError, match="went wrong"):
        reassignment_finished("There is no active reassignment of partition t-1, but replica set is 1,2,3 rather "
                              "than 4,2,3.")


# --- Membership steps, with the docker CLI faked --------------------------------------------------

def _recording(provider, outputs):
    """Make `provider.run` record each command and answer from `outputs` (first matching word wins)."""
    calls = []

    def run(argv, stdin=None):
        calls.append((argv, stdin))
        return next((out for word, out in outputs if word in argv), "")

    provider.run = run
    return calls


KAFKA_PROPS = {"broker_id": 4.0, "docker_host": "ssh://ops@10.9.0.2", "container": "clickstream-test-kafka-3",
               "tool_docker_host": "", "tool_container": "clickstream-test-kafka-0",
               "tool_bootstrap": "localhost:9092", "topics": ["clickstream.raw"], "spread_over": [1.0, 2.0, 3.0, 4.0],
               "drain_to": [1.0, 2.0, 3.0], "timeout": 60.0}


def test_kafka_join_spreads_the_projects_topics_with_kafkas_reassignment_tool():
    provider = _KafkaMembershipProvider()
    describe = "\n".join(f"\tTopic: {t}\tPartition: {p}\tLeader: {r[0]}\tReplicas: {','.join(map(str, r))}\tIsr: x"
                         for (t, p), r in THREE.items())
    calls = _recording(provider, [("--describe", describe + "\n\tTopic: other\tPartition: 0\tLeader: 1\tReplicas: 1"),
                                  ("--verify", "Reassignment of partition clickstream.raw-0 is completed.")])
    result = provider.create(dict(KAFKA_PROPS))
    commands = [argv for argv, _ in calls]
    assert commands[0] == ["docker", "exec", "clickstream-test-kafka-0", "kafka-topics", "--bootstrap-server",
                           "localhost:9092", "--describe"]
    plan = json.loads(calls[1][1])
    assert {p["topic"] for p in plan["partitions"]} == {"clickstream.raw"}  # not other topics
    assert sum(4 in p["replicas"] for p in plan["partitions"]) == 4
    assert commands[2][-1] == "--execute" and commands[3][-1] == "--verify"
    assert result.outs["broker_id"] == 4.0 and "__provider" not in result.outs


def test_kafka_leave_drains_every_topic_then_stops_and_unregisters_the_broker():
    provider = _KafkaMembershipProvider()
    calls = _recording(provider, [("--describe", DESCRIBE), ("--verify", "is completed.")])
    provider.delete("id", dict(KAFKA_PROPS))
    commands = [argv for argv, _ in calls]
    plan = json.loads(calls[1][1])
    assert all(4 not in p["replicas"] for p in plan["partitions"])
    assert {p["topic"] for p in plan["partitions"]} == {"clickstream.raw", "__consumer_offsets"}
    assert commands[-2] == ["docker", "-H", "ssh://ops@10.9.0.2", "stop", "clickstream-test-kafka-3"]
    assert commands[-1][-5:] == ["unregister", "--bootstrap-server", "localhost:9092", "--id", "4"]


def test_every_kafka_tool_logs_in_with_the_admins_config_when_there_is_one():
    provider = _KafkaMembershipProvider()
    calls = _recording(provider, [("--describe", DESCRIBE), ("--verify", "is completed.")])
    provider.delete("id", KAFKA_PROPS | {"tool_config": "/run/secrets/kafka-tools.properties"})
    tools = [argv for argv, _ in calls if "clickstream-test-kafka-0" in argv and "sh" not in argv]
    assert len(tools) == 4  # describe, execute, verify, unregister
    for argv in tools[:-1]:
        assert argv[-2:] == ["--command-config", "/run/secrets/kafka-tools.properties"]
    assert tools[-1][-2:] == ["--config", "/run/secrets/kafka-tools.properties"]  # ClusterTool's name for it


def test_whole_stack_teardown_skips_the_leaving_steps(monkeypatch):
    monkeypatch.setenv(TEARDOWN_ENV, "1")
    provider = _KafkaMembershipProvider()
    calls = _recording(provider, [])
    provider.delete("id", dict(KAFKA_PROPS))
    assert calls == []


def test_cassandra_join_cleans_up_older_nodes_and_leave_decommissions_on_the_nodes_own_host():
    provider = _CassandraMembershipProvider()
    calls = _recording(provider, [])
    props = {"docker_host": "ssh://ops@10.9.0.2", "container": "c-3",
             "older_nodes": [["unix:///a.sock", "c-0"], ["ssh://ops@10.9.0.2", "c-1"]]}
    provider.create(props)
    provider.delete("id", props)
    assert [argv for argv, _ in calls] == [
        ["docker", "-H", "unix:///a.sock", "exec", "c-0", "nodetool", "cleanup"],
        ["docker", "-H", "ssh://ops@10.9.0.2", "exec", "c-1", "nodetool", "cleanup"],
        ["docker", "-H", "ssh://ops@10.9.0.2", "exec", "c-3", "nodetool", "decommission"],
    ]


def test_only_a_members_identity_replaces_its_membership():
    provider = _KafkaMembershipProvider()
    moved = provider.diff("id", KAFKA_PROPS, KAFKA_PROPS | {"docker_host": "tcp://10.9.0.3:2376"})
    assert moved.changes and moved.replaces == []
    assert provider.diff("id", KAFKA_PROPS, KAFKA_PROPS | {"broker_id": 5.0}).replaces == ["broker_id"]


def test_the_pickled_provider_runs_where_this_repository_cannot_be_imported(tmp_path: Path):
    from pulumi.dynamic.dynamic import serialize_provider

    script = (
        "import base64, json, sys, dill\n"
        # This checkout is installed editable in its venv (toolchain/checkout_venv.sh): its finder goes, so the
        # repository cannot be imported, as on a machine where Pulumi runs the provider from its state.
        "import importlib.util\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if not f.__module__.startswith('__editable__')]\n"
        "sys.path[:] = [p for p in sys.path if not p.startswith('__editable__')]\n"
        "assert importlib.util.find_spec('infra') is None, sys.path\n"
        "assert not any(p in ('', '.') for p in sys.path[1:]), sys.path\n"
        "provider = dill.loads(base64.b64decode(sys.stdin.read()))\n"
        "calls = []\n"
        "provider.run = lambda argv, stdin=None: (calls.append(argv), "
        "'\\tTopic: t\\tPartition: 0\\tLeader: 1\\tReplicas: 1,2,3' if '--describe' in argv else 'is completed.')[1]\n"
        "provider.delete('id', json.loads(sys.argv[1]))\n"
        "print(json.dumps(calls))\n")
    props = KAFKA_PROPS | {"broker_id": 3.0, "drain_to": [1.0, 2.0, 4.0], "tool_config": "/run/tools.properties"}
    result = subprocess.run([sys.executable, "-I", "-c", script, json.dumps(props)], cwd=tmp_path, text=True,
                            input=serialize_provider(_KafkaMembershipProvider()), capture_output=True)
    assert result.returncode == 0, result.stderr
    calls = json.loads(result.stdout)
    assert calls[-1][-3:] == ["3", "--config", "/run/tools.properties"] and "--execute" in calls[2]


# --- Components under mocks ---------------------------------------------------------------------

def _base():
    return docker.Image("jre", image_name="clickstream/jre:17", skip_push=True,
                        build=docker.DockerBuildArgs(context="."))


def _kafka_passwords() -> dict:
    from contract import kafka_auth

    return {user: pulumi.Output.secret(f"kpw-{user}") for user in kafka_auth.PRINCIPALS}


def _env(container) -> pulumi.Output[dict]:
    return container.envs.apply(lambda envs: dict(e.split("=", 1) for e in envs))


def _kafka(name, tmp_path, brokers, place=None, base=None):
    return KafkaCluster(name, KafkaClusterArgs(
        naming=NAMING, network="net", base_image=base or _base(), version=VERSIONS["kafkaVersion"], artifacts=tmp_path,
        brokers=brokers, heap="384m", replication_factor=3, min_insync_replicas=2, external_port_base=19092,
        controllers=3, passwords=_kafka_passwords(), **({"placement": place} if place else {})))


@pulumi.runtime.test
def test_a_fourth_broker_is_broker_only_and_leaves_every_controllers_settings_alone(tmp_path: Path):
    three, four = _kafka("k3", tmp_path, 3), _kafka("k4", tmp_path, 4)
    assert four.bootstrap == three.bootstrap == "kafka-0:9092,kafka-1:9092,kafka-2:9092"
    assert [m._name for m in four.memberships] == ["k4-3-membership"] and three.memberships == []

    def check(envs):
        before, after = envs[:3], envs[3:]
        assert after[:3] == before  # scaling out changes no existing broker, so none restarts
        assert after[3]["KAFKA_PROCESS_ROLES"] == "broker"
        assert after[3]["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka-0:9093,2@kafka-1:9093,3@kafka-2:9093"
        assert "CONTROLLER" not in after[3]["KAFKA_LISTENERS"]
        assert after[3]["KAFKA_ADVERTISED_LISTENERS"] == "INTERNAL://kafka-3:9092,EXTERNAL://127.0.0.1:19095"

    return pulumi.Output.all(*[_env(c) for c in three.containers + four.containers]).apply(check)


def test_scaling_in_stops_at_the_fixed_core(tmp_path: Path):
    with pytest.raises(ValueError, match="scale in only down to the controllers"):
        _kafka("k2", tmp_path, 2)
    with pytest.raises(ValueError, match="scale in only down to the seeds"):
        CassandraCluster("c2", CassandraClusterArgs(
            naming=NAMING, network="net", base_image=_base(), version=VERSIONS["cassandraVersion"],
            artifacts=tmp_path, nodes=2, max_heap="768M", new_heap="128M", datacenter="dc1", admin_port=19042, seeds=3))


@pulumi.runtime.test
def test_a_fourth_cassandra_node_bootstraps_after_the_third_and_the_seeds_stay_put(tmp_path: Path):
    cassandra = CassandraCluster("c4", CassandraClusterArgs(
        naming=NAMING, network="net", base_image=_base(), version=VERSIONS["cassandraVersion"], artifacts=tmp_path,
        nodes=4, max_heap="768M", new_heap="128M", datacenter="dc1", admin_port=19042, seeds=3))
    assert cassandra.hosts == "cassandra-0,cassandra-1,cassandra-2"
    assert len(cassandra.memberships) == 1

    def check(envs):
        assert [e.get("CASSANDRA_INITIAL_TOKEN") for e in envs] == ["1/3", "2/3", "3/3", None]
        assert [e["CASSANDRA_AUTO_BOOTSTRAP"] for e in envs] == ["false", "false", "false", "true"]
        assert {e["CASSANDRA_SEEDS"] for e in envs} == {cassandra.hosts}

    return pulumi.Output.all(*[_env(c) for c in cassandra.containers]).apply(check)


def _provider_of(resource_name: str) -> str:
    return MOCKS.resources[resource_name].provider or ""


@pulumi.runtime.test
def test_two_hosts_get_a_provider_each_and_members_alternate_with_racks_and_host_addresses(tmp_path: Path):
    place = placement(TWO_HOSTS, PORTS)
    bases = {h.name: _base() for h in place.hosts}
    kafka = _kafka("mk", tmp_path, 4, place, bases)
    cassandra = CassandraCluster("mc", CassandraClusterArgs(
        naming=NAMING, network="net", base_image=bases, version=VERSIONS["cassandraVersion"], artifacts=tmp_path,
        nodes=4, max_heap="768M", new_heap="128M", datacenter="dc1", admin_port=19042, seeds=3, placement=place))
    spark = SparkCluster("ms", SparkClusterArgs(
        naming=NAMING, network="net", base_image=bases, wheels_image=bases, connectors_image=bases,
        bulkload_image=bases, version=VERSIONS["sparkVersion"],
        workers=3, worker_cores=1, worker_memory="1g", daemon_memory="256m", master_ui_port=18080,
        auth_secret=pulumi.Output.secret("spark-pw"), placement=place))
    assert kafka.bootstrap == "10.9.0.1:19092,10.9.0.2:19092,10.9.0.1:19093"
    assert (cassandra.hosts, cassandra.port) == ("10.9.0.1,10.9.0.2", 19042)  # seeds first on their host
    assert spark.master_url == "spark://10.9.0.1:7077"

    def check(args):
        k, c, w = args[:4], args[4:8], args[8:]
        assert [e["KAFKA_BROKER_RACK"] for e in k] == ["a", "b", "a", "b"]
        assert [e["KAFKA_ADVERTISED_LISTENERS"] for e in k] == [
            "INTERNAL://10.9.0.1:19092,CONTROLLER://10.9.0.1:19192", "INTERNAL://10.9.0.2:19092,CONTROLLER://10.9.0.2:19192",
            "INTERNAL://10.9.0.1:19093,CONTROLLER://10.9.0.1:19193", "INTERNAL://10.9.0.2:19093"]  # 3 controllers
        assert k[0]["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@10.9.0.1:19192,2@10.9.0.2:19192,3@10.9.0.1:19193"
        assert [e["CASSANDRA_RACK"] for e in c] == ["a", "b", "a", "b"]
        assert [(e["CASSANDRA_BROADCAST_ADDRESS"], e["CASSANDRA_YAML_storage_port"], e["JMX_PORT"]) for e in c] == [
            ("10.9.0.1", "17000", "17199"), ("10.9.0.2", "17000", "17199"), ("10.9.0.1", "17001", "17200"),
            ("10.9.0.2", "17001", "17200")]
        assert c[0]["CASSANDRA_SEEDS"] == "10.9.0.1:17000,10.9.0.2:17000,10.9.0.1:17001"
        assert [(e["SPARK_WORKER_HOST"], e["SPARK_WORKER_WEBUI_PORT"]) for e in w] == [
            ("10.9.0.1", "18081"), ("10.9.0.2", "18081"), ("10.9.0.1", "18082")]
        for member in ("mk-0", "mk-3", "mc-1", "mc-2", "spark-worker-1"):
            assert MOCKS.resources[member].inputs["networkMode"] == "host"
        assert [_provider_of(f"mk-{i}").split("::")[-2:] for i in range(2)] == [
            ["docker-a", "docker-a-id"], ["docker-b", "docker-b-id"]]
        assert "docker-b" in _provider_of("mk-b-image") and "docker-b" in _provider_of("mc-3-data")
        assert "docker-a" in _provider_of("spark-worker-2") and "docker-b" in _provider_of("spark-worker-1")

    envs = [_env(c) for c in kafka.containers + cassandra.containers + spark.workers]
    return pulumi.Output.all(*envs).apply(check)


def test_a_single_host_placement_is_todays_local_engine():
    place = placement(None, None)
    assert place == Placement() and not place.multi_host and not place.racks and place.first.provider is None
    with pytest.raises(ValueError, match="hostPorts"):
        placement(TWO_HOSTS, None)
