"""Names and labels of a stack's Docker objects, so stacks never collide and leftovers are findable."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_docker as docker

STACK_LABEL = "clickstream.stack"


@dataclass(frozen=True)
class Naming:
    project: str
    stack: str

    @property
    def key(self) -> str:
        return f"{self.project}-{self.stack}"

    def resource(self, name: str) -> str:
        """Docker name of a container, volume or network: `clickstream-dev-kafka-0`."""
        return f"{self.key}-{name}"

    def image(self, name: str, tag: str) -> str:
        return f"{self.project}/{name}:{tag}"

    def container_labels(self) -> list[docker.ContainerLabelArgs]:
        return [docker.ContainerLabelArgs(label=STACK_LABEL, value=self.stack)]

    def volume_labels(self) -> list[docker.VolumeLabelArgs]:
        return [docker.VolumeLabelArgs(label=STACK_LABEL, value=self.stack)]

    def network_labels(self) -> list[docker.NetworkLabelArgs]:
        return [docker.NetworkLabelArgs(label=STACK_LABEL, value=self.stack)]
