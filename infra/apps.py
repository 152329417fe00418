"""Apps: the producer's topic set-up, the streaming job submitted to Spark, and the web UI."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pulumi
import pulumi_docker as docker

from contract import schema
from contract.settings import Settings, password_path
from infra.images import IMAGES_DIR, REPO_ROOT, image_ref, local_image
from infra.naming import Naming
from infra.nodes import app

WEBUI_PORT = 8050
DRIVER_HOST = "spark-driver"


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
    partitions: int
    replication_factor: int
    min_insync_replicas: int
    webui_port: int
    webui_workers: int
    #: Threads per gunicorn (gthread) worker.
    webui_threads: int
    #: CPU weight of the web UI against the other containers (Docker's default is 1024): under
    #: contention the latency-bound web tier runs before the throughput-bound ones.
    webui_cpu_shares: int
    driver_memory: str
    executor_memory: str
    executor_cores: int
    depends_on: list[pulumi.Resource]
    #: Multi-host mode: the first host's address. The driver then shares that host's network, so that
    #: executors on every host reach it; None: it is `spark-driver` on the stack network.
    driver_address: str | None = None


class Apps(pulumi.ComponentResource):
    """Application containers; each reads the shared `contract.settings` variables.

    Two one-shot set-up steps (the schema, the topics), then the producer, the streaming job and the
    web UI, each built by one method through `infra.nodes.app`.
    """

    def __init__(self, name: str, args: AppsArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:Apps", name, {}, opts)
        self.name, self.args = name, args
        python_bases = {"PYTHON_IMAGE": args.python_image, "WHEELS_IMAGE": args.wheels_image}
        producer = self._image("producer", "app", python_bases, {"APP": "producer"})
        webui = self._image("webui", "app", python_bases, {"APP": "webui"})
        jobs = self._image("jobs", "jobs", {"SPARK_IMAGE": args.spark_image},
                           {"CHECKPOINT_DIR": args.settings.checkpoint_dir})
        topics_done, schema_done = self._setup_steps(jobs, producer)
        self.producer = self._producer(producer, topics_done)
        self.streaming = self._streaming(jobs, topics_done, schema_done)
        self.webui = self._webui(webui, schema_done)
        self.web_url = f"http://127.0.0.1:{args.webui_port}"
        self.register_outputs({"web_url": self.web_url})

    def _app(self, resource: str, host: str, image: docker.Image, *, stack_network: bool = True,
             **container) -> docker.Container:
        """One of this component's containers (infra.nodes.app), on the stack network unless told otherwise."""
        network = self.args.network if stack_network else None
        return app(f"{self.name}-{resource}", host, image_ref(image), self.args.naming, network, self, **container)

    def _setup_steps(self, jobs: docker.Image, producer: docker.Image) -> tuple[pulumi.Output[str], pulumi.Output[str]]:
        """The schema and the topics, once each; returns the env entries that make a container wait for,
        and require, each one's success (it carries the step's checked exit code)."""
        args = self.args
        # One-shot, as the admin: keyspace, tables, and the jobs' and web UI's roles (jobs.apply_schema).
        self.schema = self._app(
            "schema", "cassandra-schema", jobs,
            entrypoints=["/usr/bin/tini", "--"], command=["/opt/venv/bin/python", "-m", "jobs.apply_schema"],
            envs=_env(args.settings, schema.ADMIN),
            uploads=[_password_file(role, password) for role, password in args.cassandra_passwords.items()],
            must_run=False, attach=True, logs=True, depends_on=args.depends_on,
        )
        # One-shot: create the topics and return once every partition has a full ISR.
        self.topics = self._app(
            "topics", "producer-topics", producer,
            command=["producer.topics", f"--partitions={args.partitions}",
                     f"--replication={args.replication_factor}", f"--min-insync={args.min_insync_replicas}"],
            must_run=False, attach=True, logs=True, envs=_env(args.settings), depends_on=args.depends_on,
        )
        topics_done = _succeeded(self.topics, "creating the Kafka topics").apply(
            lambda c: f"CLICKSTREAM_TOPICS_EXIT={c}")
        schema_done = _succeeded(self.schema, "applying the Cassandra schema").apply(
            lambda c: f"CLICKSTREAM_SCHEMA_EXIT={c}")
        return topics_done, schema_done

    def _producer(self, image: docker.Image, topics_done: pulumi.Output[str]) -> docker.Container:
        """The long-running producer: watches the dumps index and loads each new month. With no route to
        the dumps site it logs that it is waiting and retries with backoff."""
        n = self.args.naming
        cache = docker.Volume(f"{self.name}-producer-cache", name=n.resource("producer-cache"),
                              labels=n.volume_labels(), opts=pulumi.ResourceOptions(parent=self))
        return self._app(
            "producer", "producer", image, command=["producer", "watch"], restart="unless-stopped",
            volumes=[docker.ContainerVolumeArgs(volume_name=cache.name, container_path="/var/lib/clickstream")],
            envs=pulumi.Output.all(*_env(self.args.settings), topics_done),
        )

    def _streaming(self, image: docker.Image, topics_done: pulumi.Output[str],
                   schema_done: pulumi.Output[str]) -> docker.Container:
        """The streaming job's driver, submitted to the Spark master; it keeps its checkpoints in a volume."""
        args, n = self.args, self.args.naming
        checkpoints = docker.Volume(f"{self.name}-checkpoints", name=n.resource("checkpoints"),
                                    labels=n.volume_labels(), opts=pulumi.ResourceOptions(parent=self))
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
        return self._app(
            "streaming", "streaming", image, stack_network=not on_host, aliases=None if on_host else [DRIVER_HOST],
            hostname=None if on_host else DRIVER_HOST, network_mode="host" if on_host else None,
            command=submit, restart="unless-stopped", wait=True, wait_timeout=240,
            volumes=[docker.ContainerVolumeArgs(volume_name=checkpoints.name,
                                                container_path=args.settings.checkpoint_dir)],
            envs=pulumi.Output.all(*_env(args.settings, schema.WRITER), topics_done, schema_done),
            uploads=[_password_file(schema.WRITER, args.cassandra_passwords[schema.WRITER])],
            depends_on=[self.topics],
        )

    def _webui(self, image: docker.Image, schema_done: pulumi.Output[str]) -> docker.Container:
        """The web UI and JSON API under gunicorn, published on the loopback only."""
        args = self.args
        return self._app(
            "webui", "webui", image,
            entrypoints=["/usr/bin/tini", "--"],
            command=["/opt/venv/bin/gunicorn", "--bind", f"0.0.0.0:{WEBUI_PORT}", "--workers",
                     str(args.webui_workers), "--threads", str(args.webui_threads),
                     # Longer than any client's idle gap: with gunicorn's 2 s default, a client that
                     # reuses a connection the server is closing gets a reset (seen as HTTP 0 in Locust).
                     "--keep-alive", "75",
                     # Request line and headers bounded explicitly (gunicorn's defaults, made visible);
                     # bodies are bounded by the app (webui.app.MAX_REQUEST_BYTES).
                     "--limit-request-line", "4094", "--limit-request-fields", "100",
                     "--limit-request-field_size", "8190", "webui.wsgi:server"],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", "/opt/venv/bin/python", "-c", "import urllib.request; urllib.request.urlopen("
                       f"'http://127.0.0.1:{WEBUI_PORT}/api/v1/health', timeout=2)"],
                interval="5s", timeout="3s", retries=5, start_period="1m0s"),
            ports=[docker.ContainerPortArgs(internal=WEBUI_PORT, external=args.webui_port, ip="127.0.0.1")],
            cpu_shares=args.webui_cpu_shares,
            envs=pulumi.Output.all(*_env(args.settings, schema.READER), schema_done),
            uploads=[_password_file(schema.READER, args.cassandra_passwords[schema.READER])],
            restart="unless-stopped", wait=True, wait_timeout=180, depends_on=[self.streaming],
        )

    def _image(self, app_name: str, dockerfile: str, bases: dict, build_args: dict) -> docker.Image:
        return local_image(f"{self.name}-{app_name}-image", self.args.naming.image(app_name, "latest"), REPO_ROOT,
                           IMAGES_DIR / dockerfile / "Dockerfile", self, bases=bases, args=build_args)


def _env(settings: Settings, role: str | None = None) -> list[str]:
    """The settings as container env; with a role, logging in to Cassandra as that role."""
    if role:
        settings = replace(settings, cassandra_user=schema.role_name(settings.keyspace, role),
                           cassandra_password_file=password_path(role))
    return [f"{k}={v}" for k, v in settings.as_env().items()]


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
