"""SparkCluster: a standalone master and its workers, from the pyspark wheel plus connector jars."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from infra.images import IMAGES_DIR, image_ref, local_image
from infra.naming import Naming
from infra.nodes import NodeSpec, node

MASTER_PORT = 7077
MASTER_UI_PORT = 8080


@dataclass
class SparkClusterArgs:
    naming: Naming
    network: pulumi.Input[str]
    base_image: docker.Image
    wheels_image: docker.Image
    connectors_image: docker.Image
    version: str
    workers: int
    worker_cores: int
    worker_memory: str
    daemon_memory: str
    master_ui_port: int


class SparkCluster(pulumi.ComponentResource):
    """`master_url` is what drivers submit to; `image` is reused by the jobs image."""

    def __init__(self, name: str, args: SparkClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:SparkCluster", name, {}, opts)
        n = args.naming
        self.image = local_image(
            f"{name}-image", n.image("spark", args.version), IMAGES_DIR / "spark", IMAGES_DIR / "spark" / "Dockerfile",
            self, bases={"BASE_IMAGE": args.base_image, "WHEELS_IMAGE": args.wheels_image,
                         "CONNECTORS_IMAGE": args.connectors_image},
        )
        self.master_url = f"spark://spark-master:{MASTER_PORT}"
        # Workers register after the master exists, so its health needs none; each worker's own
        # health check passes only once it is registered, and `pulumi up` waits for all of them.
        master = self._node("spark-master", args, {"SPARK_MODE": "master", "SPARK_MASTER_HOST": "spark-master",
                                                   "SPARK_HEALTHCHECK_MIN_WORKERS": 0},
                            ports=[docker.ContainerPortArgs(internal=MASTER_UI_PORT, external=args.master_ui_port,
                                                            ip="127.0.0.1")])
        self.workers = [
            self._node(f"spark-worker-{i}", args, {
                "SPARK_MODE": "worker", "SPARK_MASTER_URL": self.master_url,
                "SPARK_WORKER_CORES": args.worker_cores, "SPARK_WORKER_MEMORY": args.worker_memory,
            }, depends_on=[master])
            for i in range(args.workers)
        ]
        self.master = master
        self.master_ui = f"http://127.0.0.1:{args.master_ui_port}"
        self.register_outputs({"master_url": self.master_url, "master_ui": self.master_ui})

    def _node(self, host: str, args: SparkClusterArgs, env: dict, ports=None, depends_on=None) -> docker.Container:
        spec = NodeSpec(host=host, image=image_ref(self.image), env={"SPARK_DAEMON_MEMORY": args.daemon_memory, **env},
                        healthcheck=["spark-healthcheck"], start_period="1m0s", wait_timeout=180, ports=ports or [])
        return node(host, spec, args.naming, args.network, self, depends_on)
