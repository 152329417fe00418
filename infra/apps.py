"""Apps: the set-up steps (schema, topics), the producer, the streaming job submitted to Spark, the web UI, and
the front server before it (infra.front).

Each is a small component (`infra.nodes.AppComponent`) with its own Args; `Apps` builds their images and wires them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_docker as docker

from contract import kafka_auth, schema
from contract.settings import SPARK_AUTH_PATH, Settings, kafka_password_path, password_path
from infra.front import FrontServer, FrontServerArgs
from infra.images import IMAGES_DIR, REPO_ROOT, image_ref, local_image
from infra.naming import Naming
from infra.nodes import AppComponent, AppPlace
from infra.spark import auth_file

WEBUI_PORT = 8050
DRIVER_HOST = "spark-driver"


@dataclass
class AppArgs:
    """What every long-running app is given: where its containers go, the shared settings, and its image."""

    place: AppPlace
    settings: Settings
    image: docker.Image


@dataclass
class SetupStepsArgs:
    place: AppPlace
    settings: Settings
    jobs_image: docker.Image
    producer_image: docker.Image
    #: Password of each Cassandra role (contract.schema ADMIN, WRITER, READER); Pulumi secrets.
    cassandra_passwords: dict[str, pulumi.Output[str]]
    #: The Kafka admin's password and the apps' (contract.kafka_auth ADMIN and APP_USERS; Pulumi secrets): the
    #: topics step logs in as the admin, creates the topics and the ACLs, and sets the apps' logins.
    kafka_passwords: dict[str, pulumi.Output[str]]
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    depends_on: list[pulumi.Resource]


class SetupSteps(AppComponent):
    """The schema and the topics, once each, as one-shot containers.

    `schema_done` and `topics_done` are env entries carrying each step's checked exit code: a container given
    one waits for, and requires, that step's success.
    """

    def __init__(self, name: str, args: SetupStepsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("SetupSteps", name, args.place, opts)
        # One-shot, as the admin: keyspace, tables, and the jobs' and web UI's roles (jobs.apply_schema).
        self.schema = self.add_container(
            "schema", "cassandra-schema", image_ref(args.jobs_image),
            entrypoints=["/usr/bin/tini", "--"], command=["/opt/venv/bin/python", "-m", "jobs.apply_schema"],
            envs=_env(args.settings, schema.ADMIN),
            uploads=[_password_file(role, password) for role, password in args.cassandra_passwords.items()],
            must_run=False, attach=True, logs=True, depends_on=args.depends_on,
        )
        # One-shot, as the Kafka admin: create the topics, the ACLs and the apps' logins, and return once every
        # partition has a full ISR.
        self.topics = self.add_container(
            "topics", "producer-topics", image_ref(args.producer_image),
            command=["producer.topics", f"--partitions={args.partitions}",
                     f"--replication={args.replication_factor}", f"--min-insync={args.min_insync_replicas}"],
            must_run=False, attach=True, logs=True, envs=_env(args.settings, kafka_user=kafka_auth.ADMIN),
            uploads=[_kafka_password_file(user, args.kafka_passwords[user])
                     for user in (kafka_auth.ADMIN, *kafka_auth.APP_USERS)], depends_on=args.depends_on,
        )
        self.topics_done = _succeeded(self.topics, "creating the Kafka topics").apply(
            lambda c: f"CLICKSTREAM_TOPICS_EXIT={c}")
        self.schema_done = _succeeded(self.schema, "applying the Cassandra schema").apply(
            lambda c: f"CLICKSTREAM_SCHEMA_EXIT={c}")
        self.register_outputs({"schema_done": self.schema_done, "topics_done": self.topics_done})


@dataclass
class ProducerArgs(AppArgs):
    #: SetupSteps.topics_done.
    topics_done: pulumi.Output[str]
    #: The Kafka producer principal's password (a Pulumi secret).
    kafka_password: pulumi.Output[str]


class Producer(AppComponent):
    """The long-running producer: watches the dumps index and loads each new month. With no route to the dumps
    site it logs that it is waiting and retries with backoff."""

    def __init__(self, name: str, args: ProducerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("Producer", name, args.place, opts)
        cache = self.add_volume("producer-cache")
        self.container = self.add_container(
            "producer", "producer", image_ref(args.image), command=["producer", "watch"], restart="unless-stopped",
            volumes=[docker.ContainerVolumeArgs(volume_name=cache.name, container_path="/var/lib/clickstream")],
            envs=pulumi.Output.all(*_env(args.settings, kafka_user=kafka_auth.PRODUCER), args.topics_done),
            uploads=[_kafka_password_file(kafka_auth.PRODUCER, args.kafka_password)],
        )
        self.register_outputs({"container": self.container.name})


@dataclass
class StreamingJobArgs(AppArgs):
    #: The writer role's password, the Spark cluster's secret and the Kafka streaming principal's password
    #: (Pulumi secrets).
    writer_password: pulumi.Output[str]
    spark_secret: pulumi.Output[str]
    kafka_password: pulumi.Output[str]
    #: SetupSteps.topics, topics_done and schema_done.
    topics: docker.Container
    topics_done: pulumi.Output[str]
    schema_done: pulumi.Output[str]
    driver_memory: str
    executor_memory: str
    executor_cores: int
    #: Multi-host mode: the first host's address. The driver then shares that host's network, so that
    #: executors on every host reach it; None: it is `spark-driver` on the stack network.
    driver_address: str | None = None


class StreamingJob(AppComponent):
    """The streaming job's driver, submitted to the Spark master; it keeps its checkpoints in a volume."""

    def __init__(self, name: str, args: StreamingJobArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("StreamingJob", name, args.place, opts)
        checkpoints = self.add_volume("checkpoints")
        on_host = args.driver_address is not None
        submit = [
            "/opt/venv/bin/spark-submit", "--master", args.settings.spark_master,
            "--conf", f"spark.driver.host={args.driver_address or DRIVER_HOST}",
            "--conf", "spark.driver.bindAddress=0.0.0.0",
            "--conf", f"spark.driver.memory={args.driver_memory}",
            "--conf", f"spark.executor.memory={args.executor_memory}",
            "--conf", f"spark.executor.cores={args.executor_cores}",
            "/app/jobs/streaming.py",
        ]
        self.container = self.add_container(
            "streaming", "streaming", image_ref(args.image), host_network=on_host,
            aliases=None if on_host else [DRIVER_HOST],
            hostname=None if on_host else DRIVER_HOST, network_mode="host" if on_host else None,
            command=submit, restart="unless-stopped", wait=True, wait_timeout=240,
            volumes=[docker.ContainerVolumeArgs(volume_name=checkpoints.name,
                                                container_path=args.settings.checkpoint_dir)],
            envs=pulumi.Output.all(*_env(replace(args.settings, spark_auth_file=SPARK_AUTH_PATH), schema.WRITER,
                                         kafka_auth.STREAMING), args.topics_done, args.schema_done),
            uploads=[_password_file(schema.WRITER, args.writer_password), auth_file(args.spark_secret),
                     _kafka_password_file(kafka_auth.STREAMING, args.kafka_password)],
            depends_on=[args.topics],
        )
        self.register_outputs({"container": self.container.name})


@dataclass
class WebUIArgs(AppArgs):
    #: The reader role's password (a Pulumi secret).
    reader_password: pulumi.Output[str]
    #: SetupSteps.schema_done.
    schema_done: pulumi.Output[str]
    workers: int
    #: Threads per gunicorn (gthread) worker.
    threads: int
    #: CPU weight against the other containers (Docker's default is 1024): under contention the
    #: latency-bound web tier runs before the throughput-bound ones.
    cpu_shares: int
    depends_on: list[pulumi.Resource]


class WebUI(AppComponent):
    """The web UI and JSON API under gunicorn, on the stack network only: the front server publishes it."""

    def __init__(self, name: str, args: WebUIArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("WebUI", name, args.place, opts)
        self.container = self.add_container(
            "webui", "webui", image_ref(args.image),
            entrypoints=["/usr/bin/tini", "--"],
            command=["/opt/venv/bin/gunicorn", "--bind", f"0.0.0.0:{WEBUI_PORT}", "--workers",
                     str(args.workers), "--threads", str(args.threads),
                     # Longer than any client's idle gap: with gunicorn's 2 s default, a client that
                     # reuses a connection the server is closing gets a reset (seen as HTTP 0 in Locust).
                     "--keep-alive", "75",
                     # Request line and headers bounded explicitly (gunicorn's defaults, made visible);
                     # bodies are bounded by the app (contract.settings.MAX_REQUEST_BYTES).
                     "--limit-request-line", "4094", "--limit-request-fields", "100",
                     "--limit-request-field_size", "8190", "webui.wsgi:server"],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", "/opt/venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen("
                       f"'http://127.0.0.1:{WEBUI_PORT}/api/v1/health', timeout=2)"],
                interval="5s", timeout="3s", retries=5, start_period="1m0s"),
            cpu_shares=args.cpu_shares,
            envs=pulumi.Output.all(*_env(args.settings, schema.READER), args.schema_done),
            uploads=[_password_file(schema.READER, args.reader_password)],
            restart="unless-stopped", wait=True, wait_timeout=180, depends_on=args.depends_on,
        )
        self.register_outputs({"container": self.container.name})


@dataclass
class AppsArgs:
    naming: Naming
    network: pulumi.Input[str]
    python_image: docker.Image
    wheels_image: docker.Image
    spark_image: docker.Image
    settings: Settings
    #: Password of each Cassandra role (contract.schema ADMIN, WRITER, READER); Pulumi secrets.
    cassandra_passwords: dict[str, pulumi.Output[str]]
    #: The Spark cluster's RPC secret, for the streaming job's driver (a Pulumi secret).
    spark_secret: pulumi.Output[str]
    #: Password of each Kafka principal (contract.kafka_auth); Pulumi secrets.
    kafka_passwords: dict[str, pulumi.Output[str]]
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    webui_port: int
    webui_workers: int
    webui_threads: int
    webui_cpu_shares: int
    #: The front server's cache size and its limits (infra.front.FrontServerArgs).
    front_cache_size: str
    front_connections_per_client: int
    front_connections_total: int
    driver_memory: str
    executor_memory: str
    executor_cores: int
    depends_on: list[pulumi.Resource]
    driver_address: str | None = None


class Apps(pulumi.ComponentResource):
    """The application images, and the app components wired in order: the set-up steps, then the producer and
    the streaming job once the topics (and the schema) exist, then the web UI once the job runs, then the front
    server that publishes it."""

    def __init__(self, name: str, args: AppsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:Apps", name, {}, opts)
        python_bases = {"PYTHON_IMAGE": args.python_image, "WHEELS_IMAGE": args.wheels_image}
        producer = self._image(name, args.naming, "producer", "app", python_bases, {"APP": "producer"})
        webui = self._image(name, args.naming, "webui", "app", python_bases, {"APP": "webui"})
        jobs = self._image(name, args.naming, "jobs", "jobs", {"SPARK_IMAGE": args.spark_image},
                           {"CHECKPOINT_DIR": args.settings.checkpoint_dir})
        place, settings, passwords = AppPlace(args.naming, args.network), args.settings, args.cassandra_passwords
        child = pulumi.ResourceOptions(parent=self)
        self.setup = SetupSteps(name, SetupStepsArgs(
            place=place, settings=settings, jobs_image=jobs, producer_image=producer, cassandra_passwords=passwords,
            kafka_passwords=args.kafka_passwords, partitions=args.partitions,
            replication_factor=args.replication_factor, min_insync_replicas=args.min_insync_replicas,
            depends_on=args.depends_on), child)
        self.producer = Producer(name, ProducerArgs(
            place=place, settings=settings, image=producer, topics_done=self.setup.topics_done,
            kafka_password=args.kafka_passwords[kafka_auth.PRODUCER]), child)
        self.streaming = StreamingJob(name, StreamingJobArgs(
            place=place, settings=settings, image=jobs, writer_password=passwords[schema.WRITER],
            spark_secret=args.spark_secret, kafka_password=args.kafka_passwords[kafka_auth.STREAMING],
            topics=self.setup.topics, topics_done=self.setup.topics_done, schema_done=self.setup.schema_done,
            driver_memory=args.driver_memory, executor_memory=args.executor_memory,
            executor_cores=args.executor_cores, driver_address=args.driver_address), child)
        self.webui = WebUI(name, WebUIArgs(
            place=place, settings=settings, image=webui, reader_password=passwords[schema.READER],
            schema_done=self.setup.schema_done, workers=args.webui_workers,
            threads=args.webui_threads, cpu_shares=args.webui_cpu_shares,
            depends_on=[self.streaming.container]), child)
        # Its own folder as the build context: nothing of the repository's code goes in it.
        front = local_image(f"{name}-front-image", args.naming.image("front", "latest"), IMAGES_DIR / "front",
                            IMAGES_DIR / "front" / "Dockerfile", self)
        self.front = FrontServer(name, FrontServerArgs(
            place=place, image=front, webui=self.webui.container, webui_port=WEBUI_PORT, port=args.webui_port,
            cache_size=args.front_cache_size, connections_per_client=args.front_connections_per_client,
            connections_total=args.front_connections_total, cpu_shares=args.webui_cpu_shares), child)
        self.web_url = self.front.url
        self.register_outputs({"web_url": self.web_url})

    def _image(self, name: str, naming: Naming, app_name: str, dockerfile: str, bases: dict,
               build_args: dict) -> docker.Image:
        return local_image(f"{name}-{app_name}-image", naming.image(app_name, "latest"), REPO_ROOT,
                           IMAGES_DIR / dockerfile / "Dockerfile", self, bases=bases, args=build_args)


def _env(settings: Settings, role: str | None = None, kafka_user: str | None = None) -> list[str]:
    """The settings as container env; with a role, logging in to Cassandra as that role, and with a Kafka user,
    to Kafka as that principal."""
    if role:
        settings = replace(settings, cassandra_user=schema.role_name(settings.keyspace, role),
                           cassandra_password_file=password_path(role))
    if kafka_user:
        settings = replace(settings, kafka_user=kafka_user, kafka_password_file=kafka_password_path(kafka_user))
    return [f"{k}={v}" for k, v in settings.as_env().items()]


def _kafka_password_file(user: str, password: pulumi.Output[str]) -> docker.ContainerUploadArgs:
    """A Kafka principal's password as a file in the container, as `_password_file` does for Cassandra."""
    return docker.ContainerUploadArgs(file=kafka_password_path(user), content=pulumi.Output.secret(password),
                                      permissions="0444")


def _password_file(role: str, password: pulumi.Output[str]) -> docker.ContainerUploadArgs:
    """A role's password as a file in the container: not in its env, so not in `docker inspect`."""
    return docker.ContainerUploadArgs(file=password_path(role), content=pulumi.Output.secret(password),
                                      permissions="0444")


def _succeeded(container: docker.Container, what: str) -> pulumi.Output[int]:
    """The exit code of a one-shot container; fails the deployment, with its logs, if it is not 0."""

    def check(args) -> int:
        code, logs = args
        if code:
            raise RuntimeError(f"{what} failed with exit code {code}:\n{(logs or '')[-3000:]}")
        return code or 0

    return pulumi.Output.all(container.exit_code, container.container_logs).apply(check)
