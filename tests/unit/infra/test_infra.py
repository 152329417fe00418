"""The Pulumi components under mocks: what each container is given, without Docker."""

import re
from pathlib import Path

import pulumi
import pytest

from tests.conftest import VERSIONS
from tests.fakes import PulumiMocks

pulumi.runtime.set_mocks(PulumiMocks(), project="clickstream", stack="test", preview=False)

import pulumi_docker as docker  # noqa: E402

from contract.settings import MAX_REQUEST_BYTES  # noqa: E402
from infra.cassandra import CassandraCluster, CassandraClusterArgs  # noqa: E402
from infra.kafka import KafkaCluster, KafkaClusterArgs  # noqa: E402
from infra.naming import Naming  # noqa: E402

NAMING = Naming("clickstream", "test")


def _base():
    return docker.Image("jre", image_name="clickstream/jre:17", skip_push=True,
                        build=docker.DockerBuildArgs(context="."))


def _kafka_passwords() -> dict:
    from contract import kafka_auth

    return {user: pulumi.Output.secret(f"kpw-{user}") for user in kafka_auth.PRINCIPALS}


def _kafka(name: str, tmp_path: Path, brokers: int, external_port_base: int) -> KafkaCluster:
    return KafkaCluster(name, KafkaClusterArgs(
        naming=NAMING, network="net", base_image=_base(), version=VERSIONS["kafkaVersion"], artifacts=tmp_path,
        brokers=brokers, heap="384m", replication_factor=3, min_insync_replicas=2,
        external_port_base=external_port_base, passwords=_kafka_passwords()))


def _env(container) -> pulumi.Output[dict]:
    return container.envs.apply(lambda envs: dict(e.split("=", 1) for e in envs))


@pulumi.runtime.test
def test_kafka_brokers_are_durable_and_published_on_loopback_only(tmp_path: Path):
    kafka = _kafka("kafka", tmp_path, brokers=3, external_port_base=19092)
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
def test_every_kafka_listener_takes_only_sasl_logins_and_the_secrets_come_as_files(tmp_path: Path):
    from contract import kafka_auth
    from contract.settings import KAFKA_TOOLS_CONFIG

    kafka = _kafka("kafka-sasl", tmp_path, brokers=3, external_port_base=19092)

    def check(args):
        env, uploads = args
        assert env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] == (
            "INTERNAL:SASL_PLAINTEXT,EXTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT")
        assert env["KAFKA_LISTENERS"].split(",") == ["INTERNAL://:9092", "CONTROLLER://:9093", "EXTERNAL://:9094"]
        assert env["KAFKA_SASL_ENABLED_MECHANISMS"] == "SCRAM-SHA-512"
        assert env["KAFKA_SASL_MECHANISM_CONTROLLER_PROTOCOL"] == "PLAIN"
        assert env["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
        assert env["KAFKA_SUPER_USERS"] == "User:broker;User:controller;User:admin"
        assert not any("kpw-" in value for value in env.values())  # passwords only in files
        files = {u["file"]: u["content"] for u in uploads}
        assert set(files) == {env["CLICKSTREAM_KAFKA_SERVER_SECRETS"], env["CLICKSTREAM_KAFKA_SCRAM_CREDENTIALS"],
                              KAFKA_TOOLS_CONFIG}
        server = files[env["CLICKSTREAM_KAFKA_SERVER_SECRETS"]]
        assert 'username="broker" password="kpw-broker"' in server
        assert 'user_controller="kpw-controller"' in server and "kpw-admin" not in server
        assert files[env["CLICKSTREAM_KAFKA_SCRAM_CREDENTIALS"]].splitlines() == [
            f"SCRAM-SHA-512=[name={user},password=kpw-{user}]" for user in kafka_auth.SCRAM_USERS]
        assert 'username="admin" password="kpw-admin"' in files[KAFKA_TOOLS_CONFIG]

    first = kafka.containers[0]
    return pulumi.Output.all(_env(first), first.uploads).apply(check)


@pulumi.runtime.test
def test_single_broker_stack_lowers_replication_to_fit(tmp_path: Path):
    kafka = _kafka("kafka1", tmp_path, brokers=1, external_port_base=29092)

    def check(env):
        assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == ("1", "1")

    return _env(kafka.containers[0]).apply(check)


@pulumi.runtime.test
def test_cassandra_nodes_get_distinct_preset_tokens_and_only_node0_is_published(tmp_path: Path):
    cassandra = CassandraCluster("cassandra", CassandraClusterArgs(
        naming=NAMING, network="net", base_image=_base(), version=VERSIONS["cassandraVersion"], artifacts=tmp_path,
        nodes=3, max_heap="768M", new_heap="128M", datacenter="dc1", admin_port=19042))
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
            naming=NAMING, network="net", base_image=_base(), version=VERSIONS["kafkaVersion"],
            artifacts=tmp_path / "nope", brokers=1, heap="384m", replication_factor=1, min_insync_replicas=1,
            external_port_base=39092, passwords=_kafka_passwords()))


def _apps(**changes):
    from contract.settings import Settings
    from infra.apps import Apps, AppsArgs

    passwords = {role: pulumi.Output.secret(f"pw-{role}") for role in ("admin", "writer", "reader")}
    return Apps(changes.pop("name", "apps"), AppsArgs(**{
        "naming": NAMING, "network": "net", "python_image": _base(), "wheels_image": _base(), "spark_image": _base(),
        "settings": Settings(cassandra_hosts="cassandra-0"), "cassandra_passwords": passwords, "partitions": 6,
        "replication_factor": 3, "min_insync_replicas": 2, "webui_port": 8050, "webui_workers": 2,
        "webui_threads": 4, "webui_cpu_shares": 4096, "front_cache_size": "256m", "front_connections_per_client": 256,
        "front_connections_total": 512, "driver_memory": "768m", "executor_memory": "768m",
        "executor_cores": 1, "depends_on": [], "spark_secret": pulumi.Output.secret("spark-pw"),
        "kafka_passwords": _kafka_passwords(), **changes}))


@pulumi.runtime.test
def test_apps_hand_each_container_only_its_own_role_and_password_as_a_file():
    apps = _apps()
    setup, streaming, webui = apps.setup, apps.streaming.container, apps.webui.container

    def check(args):
        (schema_env, schema_up, stream_env, stream_up, web_env, web_up, topics_env, topics_up) = args
        assert schema_env["CLICKSTREAM_CASSANDRA_USER"] == "clickstream_admin"
        assert stream_env["CLICKSTREAM_CASSANDRA_USER"] == "clickstream_writer"
        assert web_env["CLICKSTREAM_CASSANDRA_USER"] == "clickstream_reader"
        assert "CLICKSTREAM_CASSANDRA_USER" not in topics_env or not topics_env["CLICKSTREAM_CASSANDRA_USER"]
        assert sorted(u["file"] for u in schema_up) == [f"/run/secrets/cassandra-{r}"
                                                        for r in ("admin", "reader", "writer")]
        assert [(u["file"], u["content"]) for u in stream_up] == [
            ("/run/secrets/cassandra-writer", "pw-writer"),
            ("/run/secrets/spark-auth.conf", "spark.authenticate true\nspark.authenticate.secret spark-pw\n"),
            ("/run/secrets/kafka-streaming", "kpw-streaming")]
        assert stream_env["CLICKSTREAM_SPARK_AUTH_FILE"] == "/run/secrets/spark-auth.conf"
        assert [(u["file"], u["content"]) for u in web_up] == [("/run/secrets/cassandra-reader", "pw-reader")]
        assert not schema_env.get("CLICKSTREAM_SPARK_AUTH_FILE") and not web_env.get("CLICKSTREAM_SPARK_AUTH_FILE")
        # Kafka: the topics step as the admin, the streaming job as its own principal; the web UI not at all.
        assert (topics_env["CLICKSTREAM_KAFKA_USER"], stream_env["CLICKSTREAM_KAFKA_USER"]) == ("admin", "streaming")
        assert not web_env.get("CLICKSTREAM_KAFKA_USER") and not schema_env.get("CLICKSTREAM_KAFKA_USER")
        # The admin's login, and the apps' passwords whose SCRAM credentials the step sets.
        assert [(u["file"], u["content"]) for u in topics_up] == [
            (f"/run/secrets/kafka-{user}", f"kpw-{user}") for user in ("admin", "producer", "streaming")]
        for env in (schema_env, stream_env, web_env, topics_env):
            assert not any(v.startswith(("pw-", "kpw-")) or "spark-pw" in v for v in env.values())

    return pulumi.Output.all(_env(setup.schema), setup.schema.uploads, _env(streaming), streaming.uploads,
                             _env(webui), webui.uploads, _env(setup.topics), setup.topics.uploads).apply(check)


@pulumi.runtime.test
def test_each_app_is_a_component_of_its_own_holding_the_containers_it_had():
    from infra.apps import Producer, SetupSteps, StreamingJob, WebUI
    from infra.nodes import AppComponent

    apps = _apps(name="apps-split")
    parts = {"SetupSteps": apps.setup, "Producer": apps.producer, "StreamingJob": apps.streaming, "WebUI": apps.webui}
    assert [type(p) for p in parts.values()] == [SetupSteps, Producer, StreamingJob, WebUI]
    assert all(isinstance(p, AppComponent) for p in parts.values())
    assert apps.web_url == "http://127.0.0.1:8050"
    children = {"SetupSteps": [apps.setup.schema, apps.setup.topics], "Producer": [apps.producer.container],
                "StreamingJob": [apps.streaming.container], "WebUI": [apps.webui.container]}

    def check(args):
        urns, former, names = args[:5], args[5:10], args[10:]
        # The resource names of before the split, each container now under its app's component...
        expected = {"SetupSteps": ["schema", "topics"], "Producer": ["producer"], "StreamingJob": ["streaming"],
                    "WebUI": ["webui"]}
        wanted = [(kind, f"docker:index/container:Container::apps-split-{r}") for kind in expected
                  for r in expected[kind]]
        # (the mocks' URNs name the parent's type only, the engine's its whole chain: compare the ends)...
        assert all(u.endswith(f"clickstream:infra:{kind}${rest}") for u, (kind, rest) in zip(urns, wanted, strict=True))
        # ...and aliased to its URN as Apps' own child, so a stack from before the split updates it in place.
        assert all(u.endswith(f"clickstream:infra:Apps${rest}") for u, (_, rest) in zip(former, wanted, strict=True))
        assert names == ["clickstream-test-cassandra-schema", "clickstream-test-producer-topics",
                         "clickstream-test-producer", "clickstream-test-streaming", "clickstream-test-webui"]

    containers = [c for kind in parts for c in children[kind]]
    # Resource._aliases: the SDK's alias URNs, as sent to the engine.
    return pulumi.Output.all(*[c.urn for c in containers], *[c._aliases[0] for c in containers],
                             *[c.name for c in containers]).apply(check)


@pulumi.runtime.test
def test_app_containers_keep_their_commands_ports_and_set_up_gates():
    apps = _apps(name="apps-settings")
    setup, producer, streaming, webui = (apps.setup, apps.producer.container, apps.streaming.container,
                                         apps.webui.container)

    def check(args):
        topics_cmd, producer_cmd, producer_env, stream_cmd, stream_env, stream_net, web_cmd, web_ports, web_env = args
        assert topics_cmd == ["producer.topics", "--partitions=6", "--replication=3", "--min-insync=2"]
        assert producer_cmd == ["producer", "watch"] and "CLICKSTREAM_TOPICS_EXIT" in producer_env
        assert stream_cmd[:2] == ["/opt/venv/bin/spark-submit", "--master"]
        assert "spark.driver.host=spark-driver" in stream_cmd
        assert {"CLICKSTREAM_TOPICS_EXIT", "CLICKSTREAM_SCHEMA_EXIT"} <= set(stream_env)
        assert [n["aliases"] for n in stream_net] == [["spark-driver"]]
        assert web_cmd[-1] == "webui.wsgi:server" and web_cmd[web_cmd.index("--workers") + 1] == "2"
        assert web_ports is None or web_ports == []  # the front server publishes the web UI
        assert "CLICKSTREAM_SCHEMA_EXIT" in web_env and "CLICKSTREAM_TOPICS_EXIT" not in web_env

    return pulumi.Output.all(setup.topics.command, producer.command, _env(producer), streaming.command,
                             _env(streaming), streaming.networks_advanced, webui.command, webui.ports,
                             _env(webui)).apply(check)


@pytest.mark.parametrize("webui_port", [8050, 8051])
@pulumi.runtime.test
def test_the_front_server_publishes_the_web_ui_port_on_loopback_and_proxies_to_the_web_ui(webui_port):
    from infra.front import FRONT_PORT, FrontServer
    from infra.nodes import AppComponent

    apps = _apps(name=f"apps-front-{webui_port}", webui_port=webui_port, front_cache_size="64m",
                 front_connections_per_client=100, front_connections_total=300)
    front, webui = apps.front.container, apps.webui.container
    assert isinstance(apps.front, FrontServer) and isinstance(apps.front, AppComponent)
    assert apps.web_url == f"http://127.0.0.1:{webui_port}"

    def check(args):
        ports, env, image, health, name, web_name, web_id, web_ports = args
        assert [(p["internal"], p["external"], p["ip"]) for p in ports] == [(FRONT_PORT, webui_port, "127.0.0.1")]
        assert not web_ports
        assert name == "clickstream-test-front"
        assert env["FRONT_UPSTREAM"] == f"{web_name}:8050" and env["FRONT_LISTEN_PORT"] == str(FRONT_PORT)
        assert env["FRONT_WEBUI_CONTAINER"] == web_id  # a replaced web UI replaces the front server
        assert (env["FRONT_CACHE_SIZE"], env["FRONT_CONN_PER_CLIENT"], env["FRONT_CONN_TOTAL"]) == ("64m", "100", "300")
        assert env["FRONT_MAX_BODY"] == str(MAX_REQUEST_BYTES)  # nginx refuses what the app would
        assert image == f"sha256:apps-front-{webui_port}-front-image"
        assert health["tests"] == ["CMD", "/usr/local/bin/front-healthcheck.sh"]

    return pulumi.Output.all(front.ports, _env(front), front.image, front.healthcheck, front.name, webui.name,
                             webui.id, webui.ports).apply(check)


def test_the_front_image_is_debians_nginx_run_unprivileged():
    folder = Path(__file__).resolve().parents[3] / "infra" / "images" / "front"
    dockerfile = (folder / "Dockerfile").read_text()
    assert "ARG BASE_IMAGE=debian:bookworm-slim" in dockerfile and "FROM ${BASE_IMAGE}" in dockerfile
    assert "apt-get install -y -qq --no-install-recommends nginx" in dockerfile
    assert "USER www-data" in dockerfile
    entrypoint = (folder / "front-entrypoint.sh").read_text()
    # Every placeholder of the config is filled from the env, and the image gives each a default.
    placeholders = set(re.findall(r"@(FRONT_[A-Z_]+)@", (folder / "nginx.conf.template").read_text()))
    assert placeholders == set(re.findall(r"@(FRONT_[A-Z_]+)@", entrypoint))
    assert all(f"{name}=" in dockerfile for name in placeholders)


def test_generated_passwords_are_random_and_only_length_or_a_new_generation_replaces_them():
    from infra.passwords import _PasswordProvider

    provider = _PasswordProvider()
    first, second = provider.create({"length": 24.0}), provider.create({"length": 24.0})
    assert first.outs["value"] != second.outs["value"] and len(first.outs["value"]) >= 32
    assert not provider.diff("id", {"length": 24}, {"length": 24}).changes
    assert provider.diff("id", {"length": 24}, {"length": 32}).replaces == ["length"]
    # A password made before generations existed is generation 0: the first `pulumi up` after keeps it.
    assert not provider.diff("id", {"length": 24}, {"length": 24, "generation": 0}).changes
    assert provider.diff("id", {"length": 24, "generation": 1}, {"length": 24, "generation": 2}).replaces == [
        "generation"]
    # The next diff sees the outputs of create: a rotation to 1 and back to 0 replaces the password both times.
    rotated = provider.create({"length": 24.0, "generation": 1}).outs
    assert provider.diff("id", rotated, {"length": 24, "generation": 0}).replaces == ["generation"]


@pulumi.runtime.test
def test_every_spark_daemon_holds_the_cluster_secret_as_a_file_and_not_in_its_env():
    from infra.spark import SparkCluster, SparkClusterArgs

    spark = SparkCluster("auth", SparkClusterArgs(
        naming=NAMING, network="net", base_image=_base(), wheels_image=_base(), connectors_image=_base(),
        bulkload_image=_base(), version=VERSIONS["sparkVersion"], workers=2, worker_cores=1, worker_memory="1g",
        daemon_memory="256m", master_ui_port=18080, auth_secret=pulumi.Output.secret("spark-pw")))
    daemons = [spark.master, *spark.workers]

    def check(args):
        envs, uploads = args[:3], args[3:]
        assert all(e["CLICKSTREAM_SPARK_AUTH_FILE"] == "/run/secrets/spark-auth.conf" for e in envs)
        assert envs[0]["SPARK_MASTER_OPTS"] == "-Dspark.ui.killEnabled=false"  # the published UI kills nothing
        assert not any("spark-pw" in v for e in envs for v in e.values())
        assert all([(u["file"], u["content"], u["permissions"]) for u in up] == [
            ("/run/secrets/spark-auth.conf", "spark.authenticate true\nspark.authenticate.secret spark-pw\n", "0444")]
            for up in uploads)

    return pulumi.Output.all(*[_env(d) for d in daemons], *[d.uploads for d in daemons]).apply(check)
