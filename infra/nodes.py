"""One cluster member: a long-running, health-checked container on the stack network."""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker

from infra.naming import Naming


@dataclass
class NodeSpec:
    host: str
    image: pulumi.Input[str]
    env: dict[str, object]
    healthcheck: list[str]
    start_period: str  # Go duration ("2m0s"): Docker echoes it back in that form, so no false diffs
    wait_timeout: int
    data_path: str | None = None
    ports: list[docker.ContainerPortArgs] = field(default_factory=list)
    stop_timeout: int | None = None


def node(resource_name: str, spec: NodeSpec, naming: Naming, network: pulumi.Input[str],
         parent: pulumi.Resource, depends_on: list[pulumi.Resource] | None = None) -> docker.Container:
    """A container reachable as `spec.host`, with its own data volume if it keeps state.

    `pulumi up` waits until its health check passes, so a deployment that returns is healthy.
    """
    volumes = []
    if spec.data_path:
        volume = docker.Volume(f"{resource_name}-data", name=naming.resource(f"{spec.host}-data"),
                               labels=naming.volume_labels(), opts=pulumi.ResourceOptions(parent=parent))
        volumes = [docker.ContainerVolumeArgs(volume_name=volume.name, container_path=spec.data_path)]
    return docker.Container(
        resource_name,
        name=naming.resource(spec.host),
        hostname=spec.host,
        image=spec.image,
        envs=[f"{k}={v}" for k, v in spec.env.items()],
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network, aliases=[spec.host])],
        volumes=volumes,
        ports=spec.ports,
        healthcheck=docker.ContainerHealthcheckArgs(
            tests=["CMD", *spec.healthcheck], interval="5s", timeout="5s", retries=6, start_period=spec.start_period),
        restart="unless-stopped",
        stop_timeout=spec.stop_timeout,
        wait=True,
        wait_timeout=spec.wait_timeout,
        labels=naming.container_labels(),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or []),
    )
