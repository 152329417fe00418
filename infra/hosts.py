"""Where cluster members run: the one local Docker engine (the default), or several hosts from stack config.

Multi-host mode runs members with host networking: containers on different daemons cannot share a
Docker network, so each member binds its ports on its host and advertises the host's address. Several
members of one cluster on one host would collide, so the k-th of them on that host (its slot) uses
port base + k. The first member on every host therefore uses the base ports, which lets clients
reach any host at the same port.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker


@dataclass(frozen=True)
class DockerHost:
    #: Short name: resource names, and the rack of the members on it (one host, one failure domain).
    name: str
    #: The engine: unix://, tcp:// or ssh://; "" is the default engine (DOCKER_HOST, else the local socket).
    url: str
    #: What members on other hosts, and clients, reach this host's members by.
    address: str
    provider: docker.Provider | None = None

    def resource_name(self, name: str, placement: "Placement") -> str:
        """`name` as is on a single-host stack (so its state is untouched); `name-<host>` otherwise."""
        return f"{name}-{self.name}" if placement.multi_host else name

    def opts(self, **kwargs) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(provider=self.provider, **kwargs)


@dataclass(frozen=True)
class HostPorts:
    """Ports a multi-host member binds on its host: slot k on a host uses base + k."""

    kafka: int
    kafka_controller: int
    cassandra_storage: int
    cassandra_cql: int
    cassandra_jmx: int
    spark_worker_ui: int


LOCAL = DockerHost(name="local", url="", address="127.0.0.1")


@dataclass(frozen=True)
class Placement:
    """Round-robin: member i of a cluster runs on host i mod the number of hosts."""

    hosts: tuple[DockerHost, ...] = (LOCAL,)
    #: Set exactly when the hosts come from stack config; then members use host networking.
    ports: HostPorts | None = None

    def __post_init__(self):
        if not self.hosts:
            raise ValueError("a placement needs at least one Docker host")
        if len({h.name for h in self.hosts}) != len(self.hosts):
            raise ValueError(f"Docker host names must be unique: {[h.name for h in self.hosts]}")

    @property
    def multi_host(self) -> bool:
        return self.ports is not None

    @property
    def racks(self) -> bool:
        """Racks follow hosts only once members really sit on different hosts."""
        return self.multi_host and len(self.hosts) > 1

    @property
    def first(self) -> DockerHost:
        return self.hosts[0]

    def host(self, member: int) -> DockerHost:
        return self.hosts[member % len(self.hosts)]

    def slot(self, member: int) -> int:
        """How many members of the same cluster come before this one on its host."""
        return member // len(self.hosts)


def placement(hosts: list[dict] | None, ports: HostPorts | None) -> Placement:
    """One `docker.Provider` per configured host; without hosts, today's single local engine."""
    if not hosts:
        return Placement()
    if ports is None:
        raise ValueError("clickstream:hosts needs clickstream:hostPorts (the ports members bind on their hosts)")
    made = []
    for h in hosts:
        provider = docker.Provider(f"docker-{h['name']}", host=h["url"])
        made.append(DockerHost(name=h["name"], url=h["url"], address=h["address"], provider=provider))
    return Placement(hosts=tuple(made), ports=ports)
