"""CassandraCluster: one ring of nodes with preset tokens, so all nodes start together in about a minute."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.images import image_ref, service_image
from infra.naming import Naming
from infra.nodes import NodeSpec, node

CQL_PORT = 9042


@dataclass
class CassandraClusterArgs:
    naming: Naming
    network: pulumi.Input[str]
    base_image: docker.Image
    version: str
    artifacts: Path
    nodes: int
    max_heap: str
    new_heap: str
    datacenter: str
    admin_port: int


class CassandraCluster(pulumi.ComponentResource):
    """Nodes `cassandra-i` on the stack network; node 0's CQL port is published for cqlsh on the host."""

    def __init__(self, name: str, args: CassandraClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:CassandraCluster", name, {}, opts)
        n = args.naming
        image = service_image(name, n, "cassandra", args.version, args.artifacts, args.base_image, self)
        hosts = [f"cassandra-{i}" for i in range(args.nodes)]
        self.containers: list[docker.Container] = []
        for i, host in enumerate(hosts):
            env = {
                "CASSANDRA_CLUSTER_NAME": n.key,
                # Every node is a seed: each can always resolve at least itself while the others start.
                "CASSANDRA_SEEDS": ",".join(hosts),
                "CASSANDRA_ENDPOINT_SNITCH": "GossipingPropertyFileSnitch",
                "CASSANDRA_DC": args.datacenter,
                "CASSANDRA_RACK": "rack1",
                # Logins and grants are on from the first start; jobs.schema replaces the default superuser.
                "CASSANDRA_AUTHENTICATOR": "PasswordAuthenticator",
                "CASSANDRA_AUTHORIZER": "CassandraAuthorizer",
                "CASSANDRA_NUM_TOKENS": 16,
                # A new, empty ring: evenly spaced preset tokens and no bootstrap let all nodes start at once.
                "CASSANDRA_INITIAL_TOKEN": f"{i + 1}/{args.nodes}",
                "CASSANDRA_AUTO_BOOTSTRAP": "false",
                "JVM_EXTRA_OPTS": "-Dcassandra.skip_wait_for_gossip_to_settle=0",
                "MAX_HEAP_SIZE": args.max_heap,
                "HEAP_NEWSIZE": args.new_heap,
            }
            ports = [docker.ContainerPortArgs(internal=CQL_PORT, external=args.admin_port, ip="127.0.0.1")] if i == 0 else []
            self.containers.append(node(f"{name}-{i}", NodeSpec(
                host=host, image=image_ref(image), env=env, healthcheck=["/opt/cassandra/bin/healthcheck"],
                start_period="3m0s", wait_timeout=300, data_path="/var/lib/cassandra", stop_timeout=60,
                ports=ports,
            ), n, args.network, self))
        self.hosts = ",".join(hosts)
        self.port = CQL_PORT
        self.admin_endpoint = f"127.0.0.1:{args.admin_port}"
        self.register_outputs({"hosts": self.hosts, "admin_endpoint": self.admin_endpoint})
