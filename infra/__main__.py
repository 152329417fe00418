"""The clickstream stack: read config, wire the clusters and apps, export endpoints."""

from __future__ import annotations


import pulumi
import pulumi_docker as docker

from contract import kafka_auth, schema
from contract.settings import Settings, cache_root
from infra.apps import Apps, AppsArgs
from infra.cassandra import CassandraCluster, CassandraClusterArgs
from infra.hosts import HostPorts, placement
from infra.images import BaseImages, BaseImagesArgs
from infra.kafka import KafkaCluster, KafkaClusterArgs
from infra.naming import Naming
from infra.passwords import Password, cassandra_secret, generations, kafka_secret
from infra.spark import SparkCluster, SparkClusterArgs

config = pulumi.Config("clickstream")
kafka_cfg = config.require_object("kafka")
cassandra_cfg = config.require_object("cassandra")
spark_cfg = config.require_object("spark")
webui_cfg = config.require_object("webui")
front_cfg = config.require_object("front")
versions = {key: config.require(key) for key in
            ("kafkaVersion", "cassandraVersion", "sparkVersion", "sparkCassandraConnectorVersion")}
cache = cache_root()
# Optional: several Docker hosts (docs/scaling.md). Without them, the one default engine, as always.
host_ports = config.get_object("hostPorts")
place = placement(config.get_object("hosts"), host_ports and HostPorts(
    kafka=host_ports["kafka"], kafka_controller=host_ports["kafkaController"],
    cassandra_storage=host_ports["cassandraStorage"], cassandra_cql=host_ports["cassandraCql"],
    cassandra_jmx=host_ports["cassandraJmx"], spark_worker_ui=host_ports["sparkWorkerUi"]))
# The apps, the Spark master and the stack network live on the first host.
first = place.first

naming = Naming(pulumi.get_project(), pulumi.get_stack())
network = docker.Network("network", name=naming.resource("net"), labels=naming.network_labels(), opts=first.opts())


spark_connectors = f"spark-connectors-{versions['sparkVersion']}-scc{versions['sparkCassandraConnectorVersion']}"
bases = {h.name: BaseImages(h.resource_name("base", place), BaseImagesArgs(
    naming=naming, wheels=(cache / "wheels" / "current").resolve(),
    spark_connectors=cache / "artifacts" / spark_connectors,
    bulkload=(cache / "artifacts" / "bulkload" / "current").resolve(),
), opts=pulumi.ResourceOptions(providers=[h.provider] if h.provider else None)) for h in place.hosts}
jre = {host: b.jre for host, b in bases.items()}
# Optional: {secret name: generation}; a new generation rotates that secret (docs/security.md).
generation = generations(config.get_object("secretGenerations"))


def generated(name: str) -> pulumi.Output[str]:
    return Password(name, generation=generation.get(name, 0)).value


# One generated password per Kafka principal (contract.kafka_auth), kept encrypted in the stack state only.
kafka_passwords = {user: generated(kafka_secret(user)) for user in kafka_auth.PRINCIPALS}
kafka = KafkaCluster("kafka", KafkaClusterArgs(
    naming=naming, network=network.name, base_image=jre, version=versions["kafkaVersion"],
    artifacts=cache / "artifacts" / f"kafka-{versions['kafkaVersion']}",
    brokers=kafka_cfg["brokers"], heap=kafka_cfg["heap"], replication_factor=kafka_cfg["replicationFactor"],
    min_insync_replicas=kafka_cfg["minInsyncReplicas"], external_port_base=kafka_cfg["externalPortBase"],
    controllers=kafka_cfg["controllers"], placement=place,
    # The apps' logins are the topics step's to set: rotating one restarts no broker.
    passwords={user: kafka_passwords[user] for user in kafka_auth.SUPER_USERS},
))
cassandra = CassandraCluster("cassandra", CassandraClusterArgs(
    naming=naming, network=network.name, base_image=jre, version=versions["cassandraVersion"],
    artifacts=cache / "artifacts" / f"cassandra-{versions['cassandraVersion']}",
    nodes=cassandra_cfg["nodes"], max_heap=cassandra_cfg["maxHeap"], new_heap=cassandra_cfg["newHeap"],
    datacenter=cassandra_cfg["datacenter"], admin_port=cassandra_cfg["adminPort"], seeds=cassandra_cfg["seeds"],
    placement=place,
))
# The Spark cluster's RPC secret: without it the master takes no driver and the workers no master.
spark_secret = generated("spark-auth")
spark = SparkCluster("spark", SparkClusterArgs(
    naming=naming, network=network.name, base_image=jre, wheels_image={h: b.wheels for h, b in bases.items()},
    connectors_image={h: b.spark_connectors for h, b in bases.items()},
    bulkload_image={h: b.bulkload for h, b in bases.items()},
    version=versions["sparkVersion"], workers=spark_cfg["workers"], worker_cores=spark_cfg["workerCores"],
    worker_memory=spark_cfg["workerMemory"], daemon_memory=spark_cfg["daemonMemory"],
    master_ui_port=spark_cfg["masterUiPort"], auth_secret=spark_secret, placement=place,
))
base = bases[first.name]
# One generated password per Cassandra role, kept encrypted in the stack state only.
cassandra_passwords = {role: generated(cassandra_secret(role)) for role in (schema.ADMIN, schema.WRITER, schema.READER)}
settings = Settings(
    kafka_bootstrap=kafka.bootstrap, cassandra_hosts=cassandra.hosts, cassandra_port=cassandra.port,
    cassandra_datacenter=cassandra_cfg["datacenter"], keyspace=Settings.keyspace,
    # Sized by the fixed core (seeds, controllers), so scaling never changes an app's settings.
    replication=min(cassandra_cfg["replicationFactor"], cassandra_cfg["seeds"]),
    checkpoint_dir="/var/lib/clickstream/checkpoints", spark_master=spark.master_url,
)
apps = Apps("apps", AppsArgs(
    naming=naming, network=network.name, python_image=base.python, wheels_image=base.wheels,
    spark_image=spark.image, settings=settings, cassandra_passwords=cassandra_passwords, spark_secret=spark_secret,
    kafka_passwords=kafka_passwords,
    partitions=kafka_cfg["partitions"],
    replication_factor=kafka.replication_factor, min_insync_replicas=kafka.min_insync_replicas,
    webui_port=webui_cfg["port"], webui_workers=webui_cfg["workers"],
    webui_threads=webui_cfg["threads"], webui_cpu_shares=webui_cfg["cpuShares"],
    front_cache_size=front_cfg["cacheSize"], front_connections_per_client=front_cfg["connectionsPerClient"],
    front_connections_total=front_cfg["connectionsTotal"],
    driver_memory=spark_cfg["driverMemory"], executor_memory=spark_cfg["executorMemory"],
    executor_cores=spark_cfg["executorCores"],
    depends_on=[*kafka.containers, *cassandra.containers, *spark.workers],
    driver_address=first.address if place.multi_host else None,
), opts=pulumi.ResourceOptions(providers=[first.provider] if first.provider else None))

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
pulumi.export("sparkSecret", pulumi.Output.secret(spark_secret))
# `pulumi stack output --show-secrets kafkaCredentials`: `make load` logs in as the producer, operators as the admin.
pulumi.export("kafkaCredentials", pulumi.Output.secret({
    user: {"user": user, "password": password} for user, password in kafka_passwords.items()}))
