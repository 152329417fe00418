"""SparkCluster: a standalone master and its workers, from the pyspark wheel plus connector jars.

Workers scale by count alone: a new worker registers with the master, which gives running
applications executors on it; a removed worker's executors are lost and Spark reruns their tasks
elsewhere (executor loss does not count against the job), so the streaming job keeps running.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from contract.settings import ENV, SPARK_AUTH_PATH, spark_auth_properties
from infra.hosts import DockerHost, Placement
from infra.images import IMAGES_DIR, image_ref, local_image, on_host
from infra.naming import Naming
from infra.nodes import NodeSpec, node

MASTER_PORT = 7077
MASTER_UI_PORT = 8080


@dataclass
class SparkClusterArgs:
    naming: Naming
    #: The stack network; ignored in multi-host mode, where daemons use their host's network.
    network: pulumi.Input[str]
    #: These three: one image, or one per host name in multi-host mode.
    base_image: docker.Image | dict[str, docker.Image]
    wheels_image: docker.Image | dict[str, docker.Image]
    connectors_image: docker.Image | dict[str, docker.Image]
    bulkload_image: docker.Image | dict[str, docker.Image]
    version: str
    workers: int
    worker_cores: int
    worker_memory: str
    daemon_memory: str
    master_ui_port: int
    #: The cluster's RPC secret (a Pulumi secret): the master, workers and drivers must all hold it.
    auth_secret: pulumi.Output[str]
    placement: Placement = field(default_factory=Placement)


class SparkCluster(pulumi.ComponentResource):
    """`master_url` is what drivers submit to; `image` is reused by the jobs image."""

    def __init__(self, name: str, args: SparkClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:SparkCluster", name, {}, opts)
        n, place = args.naming, args.placement
        #: By host name: each engine builds its own.
        self.images = {h.name: local_image(
            h.resource_name(f"{name}-image", place), n.image("spark", args.version), IMAGES_DIR / "spark",
            IMAGES_DIR / "spark" / "Dockerfile", self,
            bases={"BASE_IMAGE": on_host(args.base_image, h), "WHEELS_IMAGE": on_host(args.wheels_image, h),
                   "CONNECTORS_IMAGE": on_host(args.connectors_image, h),
                   "BULKLOAD_IMAGE": on_host(args.bulkload_image, h)}, provider=h.provider,
        ) for h in place.hosts}
        #: The jobs image builds on this: the Spark image on the first host, where the apps run.
        self.image = self.images[place.first.name]
        master_host = place.first.address if place.multi_host else "spark-master"
        self.master_url = f"spark://{master_host}:{MASTER_PORT}"
        # Workers register after the master exists, so its health needs none; each worker's own
        # health check passes only once it is registered, and `pulumi up` waits for all of them.
        # The master UI is published on the host: it shows the cluster, and has no buttons that kill an application.
        master_env = {"SPARK_MODE": "master", "SPARK_MASTER_HOST": master_host, "SPARK_HEALTHCHECK_MIN_WORKERS": 0,
                      "SPARK_MASTER_OPTS": "-Dspark.ui.killEnabled=false"}
        if place.multi_host:
            master_env["SPARK_MASTER_WEBUI_PORT"] = args.master_ui_port
        master = self._node("spark-master", args, place.first, master_env,
                            ports=[docker.ContainerPortArgs(internal=MASTER_UI_PORT, external=args.master_ui_port,
                                                            ip="127.0.0.1")])
        self.workers = []
        for i in range(args.workers):
            env = {"SPARK_MODE": "worker", "SPARK_MASTER_URL": self.master_url,
                   "SPARK_WORKER_CORES": args.worker_cores, "SPARK_WORKER_MEMORY": args.worker_memory}
            if place.multi_host:
                # Executors bind on the worker's host and address; the driver and other executors reach them there.
                env |= {"SPARK_WORKER_HOST": place.host(i).address,
                        "SPARK_WORKER_WEBUI_PORT": place.ports.spark_worker_ui + place.slot(i)}
            self.workers.append(self._node(f"spark-worker-{i}", args, place.host(i), env, depends_on=[master]))
        self.master = master
        self.master_ui = f"http://{place.first.address if place.multi_host else '127.0.0.1'}:{args.master_ui_port}"
        self.register_outputs({"master_url": self.master_url, "master_ui": self.master_ui})

    def _node(self, host: str, args: SparkClusterArgs, docker_host: DockerHost, env: dict, ports=None,
              depends_on=None) -> docker.Container:
        image = image_ref(self.images[docker_host.name])
        spec = NodeSpec(host=host, image=image,
                        env={"SPARK_DAEMON_MEMORY": args.daemon_memory, ENV["spark_auth_file"]: SPARK_AUTH_PATH, **env},
                        healthcheck=["spark-healthcheck"], start_period="1m0s", wait_timeout=180, ports=ports or [],
                        uploads=[auth_file(args.auth_secret)])
        network = None if args.placement.multi_host else args.network
        return node(host, spec, args.naming, network, self, depends_on, provider=docker_host.provider)


def auth_file(secret: pulumi.Output[str]) -> docker.ContainerUploadArgs:
    """The cluster's secret as SPARK_AUTH_PATH, for a daemon or a driver."""
    return docker.ContainerUploadArgs(file=SPARK_AUTH_PATH, content=pulumi.Output.secret(secret).apply(
        spark_auth_properties), permissions="0444")
