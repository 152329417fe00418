"""The two kinds of container a stack runs: a cluster member (`node`) and an application container (`app`),
the latter grouped by application into an `AppComponent`."""

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
    #: Files written into the container at create (secrets: not in its env, so not in `docker inspect`).
    uploads: list[docker.ContainerUploadArgs] = field(default_factory=list)


def node(resource_name: str, spec: NodeSpec, naming: Naming, network: pulumi.Input[str] | None,
         parent: pulumi.Resource, depends_on: list[pulumi.Resource] | None = None,
         provider: docker.Provider | None = None) -> docker.Container:
    """A container reachable as `spec.host`, with its own data volume if it keeps state.

    With no `network` it shares its host's network (multi-host mode): no name, no published ports,
    it binds its ports on the host. `provider` picks the Docker engine; None is the default one.
    `pulumi up` waits until its health check passes, so a deployment that returns is healthy.
    """
    volumes = []
    if spec.data_path:
        volume = docker.Volume(f"{resource_name}-data", name=naming.resource(f"{spec.host}-data"),
                               labels=naming.volume_labels(),
                               opts=pulumi.ResourceOptions(parent=parent, provider=provider))
        volumes = [docker.ContainerVolumeArgs(volume_name=volume.name, container_path=spec.data_path)]
    on_network = network is not None
    return docker.Container(
        resource_name,
        name=naming.resource(spec.host),
        hostname=spec.host if on_network else None,
        network_mode=None if on_network else "host",
        image=spec.image,
        envs=[f"{k}={v}" for k, v in spec.env.items()],
        networks_advanced=([docker.ContainerNetworksAdvancedArgs(name=network, aliases=[spec.host])]
                           if on_network else []),
        volumes=volumes,
        uploads=spec.uploads,
        ports=spec.ports if on_network else [],
        healthcheck=docker.ContainerHealthcheckArgs(
            tests=["CMD", *spec.healthcheck], interval="5s", timeout="5s", retries=6, start_period=spec.start_period),
        restart="unless-stopped",
        stop_timeout=spec.stop_timeout,
        wait=True,
        wait_timeout=spec.wait_timeout,
        labels=naming.container_labels(),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or [], provider=provider),
    )


def app(resource_name: str, host: str, image: pulumi.Input[str], naming: Naming, network: pulumi.Input[str] | None,
        parent: pulumi.Resource, *, aliases: list[str] | None = None, depends_on: list[pulumi.Resource] | None = None,
        former: list[pulumi.Alias] | None = None, **container: object) -> docker.Container:
    """An application container named after `host`, labelled as the stack's, on the stack network (as
    `aliases` too), or on its host's network when `network` is None. `container` holds what is its own:
    command, env, uploads, restart policy, health check, ports. `former`: the URNs it had before (Pulumi aliases)."""
    on_network = network is not None
    return docker.Container(
        resource_name,
        name=naming.resource(host),
        image=image,
        networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=network, aliases=aliases)] if on_network else [],
        labels=naming.container_labels(),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=depends_on or [], aliases=former),
        **container,
    )


@dataclass
class AppPlace:
    """Where a stack's application containers go: its naming, and its network."""

    naming: Naming
    network: pulumi.Input[str]


class AppComponent(pulumi.ComponentResource):
    """One application's containers and volumes, as a component of type `clickstream:infra:<kind>`.

    Children are named `{name}-<resource>` and built through `app()`. Every app component of a stack takes the
    name of the component that wires them (infra.apps.Apps, their parent): its children were that component's own
    before each app had one, and the alias to that parent keeps their URNs, so a stack stood up before the split
    updates in place instead of creating a second container of the same Docker name.
    """

    def __init__(self, kind: str, name: str, place: AppPlace, opts: pulumi.ResourceOptions | None = None):
        super().__init__(f"clickstream:infra:{kind}", name, {}, opts)
        self.name, self.place = name, place
        self._former = [pulumi.Alias(parent=opts.parent)] if opts and opts.parent else []

    def add_container(self, resource: str, host: str, image: pulumi.Input[str], *, host_network: bool = False,
                  **container: object) -> docker.Container:
        """An `app()` container of this component: on the stack network, or on its host's with `host_network`."""
        network = None if host_network else self.place.network
        return app(f"{self.name}-{resource}", host, image, self.place.naming, network, self, former=self._former,
                   **container)

    def add_volume(self, resource: str) -> docker.Volume:
        """A named volume of this component, labelled as the stack's."""
        naming = self.place.naming
        return docker.Volume(f"{self.name}-{resource}", name=naming.resource(resource), labels=naming.volume_labels(),
                             opts=pulumi.ResourceOptions(parent=self, aliases=self._former))
