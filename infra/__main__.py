"""The clickstream stack: read config, wire the clusters and apps, export endpoints."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pulumi
import pulumi_docker as docker

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the repo root: contract/ and infra/

from contract import schema  # noqa: E402
from contract.settings import Settings  # noqa: E402
from infra.apps import Apps, AppsArgs  # noqa: E402
from infra.cassandra import CassandraCluster, CassandraClusterArgs  # noqa: E402
from infra.images import BaseImages, BaseImagesArgs  # noqa: E402
from infra.kafka import KafkaCluster, KafkaClusterArgs  # noqa: E402
from infra.naming import Naming  # noqa: E402
from infra.passwords import Password  # noqa: E402
from infra.spark import SparkCluster, SparkClusterArgs  # noqa: E402

config = pulumi.Config("clickstream")
kafka_cfg = config.require_object("kafka")
cassandra_cfg = config.require_object("cassandra")
spark_cfg = config.require_object("spark")
webui_cfg = config.require_object("webui")
versions = {key: config.require(key) for key in
            ("kafkaVersion", "cassandraVersion", "sparkVersion", "sparkCassandraConnectorVersion")}
cache = Path(os.environ.get("CLICKSTREAM_CACHE", Path.home() / ".cache" / "clickstream"))

naming = Naming(pulumi.get_project(), pulumi.get_stack())
network = docker.Network("network", name=naming.resource("net"), labels=naming.network_labels())


spark_connectors = f"spark-connectors-{versions['sparkVersion']}-scc{versions['sparkCassandraConnectorVersion']}"
base = BaseImages("base", BaseImagesArgs(
    naming=naming, wheels=(cache / "wheels" / "current").resolve(), spark_connectors=cache / "artifacts" / spark_connectors,
))
kafka = KafkaCluster("kafka", KafkaClusterArgs(
    naming=naming, network=network.name, base_image=base.jre, version=versions["kafkaVersion"],
    artifacts=cache / "artifacts" / f"kafka-{versions['kafkaVersion']}",
    brokers=kafka_cfg["brokers"], heap=kafka_cfg["heap"], replication_factor=kafka_cfg["replicationFactor"],
    min_insync_replicas=kafka_cfg["minInsyncReplicas"], external_port_base=kafka_cfg["externalPortBase"],
))
cassandra = CassandraCluster("cassandra", CassandraClusterArgs(
    naming=naming, network=network.name, base_image=base.jre, version=versions["cassandraVersion"],
    artifacts=cache / "artifacts" / f"cassandra-{versions['cassandraVersion']}",
    nodes=cassandra_cfg["nodes"], max_heap=cassandra_cfg["maxHeap"], new_heap=cassandra_cfg["newHeap"],
    datacenter=cassandra_cfg["datacenter"], admin_port=cassandra_cfg["adminPort"],
))
spark = SparkCluster("spark", SparkClusterArgs(
    naming=naming, network=network.name, base_image=base.jre, wheels_image=base.wheels,
    connectors_image=base.spark_connectors,
    version=versions["sparkVersion"], workers=spark_cfg["workers"], worker_cores=spark_cfg["workerCores"],
    worker_memory=spark_cfg["workerMemory"], daemon_memory=spark_cfg["daemonMemory"],
    master_ui_port=spark_cfg["masterUiPort"],
))
# One generated password per Cassandra role, kept encrypted in the stack state only.
cassandra_passwords = {role: Password(f"cassandra-{role}").value
                       for role in (schema.ADMIN, schema.WRITER, schema.READER)}
settings = Settings(
    kafka_bootstrap=kafka.bootstrap, cassandra_hosts=cassandra.hosts, cassandra_port=cassandra.port,
    cassandra_datacenter=cassandra_cfg["datacenter"], keyspace=Settings.keyspace,
    replication=min(cassandra_cfg["replicationFactor"], cassandra_cfg["nodes"]),
    checkpoint_dir="/var/lib/clickstream/checkpoints", spark_master=spark.master_url,
)
apps = Apps("apps", AppsArgs(
    naming=naming, network=network.name, python_image=base.python, wheels_image=base.wheels,
    spark_image=spark.image, settings=settings, cassandra_passwords=cassandra_passwords, partitions=kafka_cfg["partitions"],
    replication_factor=min(kafka_cfg["replicationFactor"], kafka_cfg["brokers"]),
    min_insync_replicas=min(kafka_cfg["minInsyncReplicas"], kafka_cfg["brokers"]),
    webui_port=webui_cfg["port"], webui_workers=webui_cfg["workers"], driver_memory=spark_cfg["driverMemory"],
    executor_memory=spark_cfg["executorMemory"], executor_cores=spark_cfg["executorCores"],
    depends_on=[*kafka.containers, *cassandra.containers, *spark.workers],
))

pulumi.export("webUrl", apps.web_url)
pulumi.export("kafkaBootstrap", kafka.external_bootstrap)
pulumi.export("kafkaInternalBootstrap", kafka.bootstrap)
pulumi.export("cassandraAdmin", cassandra.admin_endpoint)
pulumi.export("sparkMasterUi", spark.master_ui)
pulumi.export("sparkMasterUrl", spark.master_url)
pulumi.export("network", network.name)
# For operators and the test suite on the host: `pulumi stack output --show-secrets cassandraCredentials`.
pulumi.export("cassandraCredentials", pulumi.Output.secret({
    role: {"user": schema.role_name(Settings.keyspace, role), "password": password}
    for role, password in cassandra_passwords.items()}))
