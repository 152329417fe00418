"""CassandraCluster: a ring of seed nodes with preset tokens, plus nodes that bootstrap into it.

The first `seeds` nodes are the seeds and the initial ring: evenly spaced preset tokens and no
bootstrap, so they all start together in about a minute. Nodes beyond them bootstrap one at a time
(token allocation for the replication factor), each with a CassandraMembership that runs
`nodetool cleanup` on the older nodes once it has joined and `nodetool decommission` before it goes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pulumi
import pulumi_docker as docker

from infra.hosts import Placement
from infra.images import image_ref, service_images
from infra.membership import CassandraMembership, CassandraMembershipArgs
from infra.naming import Naming
from infra.nodes import NodeSpec, node

CQL_PORT = 9042
JVM_OPTS = "-Dcassandra.skip_wait_for_gossip_to_settle=0"
#: Seconds `pulumi up` waits for a node to serve CQL. A joiner first streams its ranges, which takes
#: longer the more data there is: under a running load on the dev stack one took 8 minutes.
SEED_WAIT, JOINER_WAIT = 300, 1800


@dataclass
class CassandraClusterArgs:
    naming: Naming
    #: The stack network; ignored in multi-host mode, where nodes use their host's network.
    network: pulumi.Input[str]
    #: The JRE base image, or one per host name in multi-host mode.
    base_image: docker.Image | dict[str, docker.Image]
    version: str
    artifacts: Path
    nodes: int
    max_heap: str
    new_heap: str
    datacenter: str
    admin_port: int
    #: How many of the first nodes are seeds with preset tokens; None: all of them, a fixed-size ring.
    seeds: int | None = None
    placement: Placement = field(default_factory=Placement)


class CassandraCluster(pulumi.ComponentResource):
    """Nodes `cassandra-i`; `hosts` and `port` are the contact points, which never leave."""

    def __init__(self, name: str, args: CassandraClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("clickstream:infra:CassandraCluster", name, {}, opts)
        n, place, ports = args.naming, args.placement, args.placement.ports
        seeds = args.nodes if args.seeds is None else args.seeds
        if not 1 <= seeds <= args.nodes:
            raise ValueError(f"cassandra: {args.nodes} nodes cannot keep {seeds} seeds; "
                             "scale in only down to the seeds")
        images = service_images(name, n, "cassandra", args.version, args.artifacts, args.base_image, self, place)
        hosts = [f"cassandra-{i}" for i in range(args.nodes)]
        if ports is None:
            seed_list = ",".join(hosts[:seeds])
        else:
            seed_list = ",".join(f"{place.host(i).address}:{ports.cassandra_storage + place.slot(i)}"
                                 for i in range(seeds))
        self.containers: list[docker.Container] = []
        self.memberships: list[CassandraMembership] = []
        for i, host in enumerate(hosts):
            is_seed = i < seeds
            env = {
                "CASSANDRA_CLUSTER_NAME": n.key,
                # Seeds are the fixed initial ring: each can always resolve at least itself while the others start.
                "CASSANDRA_SEEDS": seed_list,
                "CASSANDRA_ENDPOINT_SNITCH": "GossipingPropertyFileSnitch",
                "CASSANDRA_DC": args.datacenter,
                # Racks follow hosts, so replicas of a range land on different hosts where there are enough.
                "CASSANDRA_RACK": place.host(i).name if place.racks else "rack1",
                # Logins and grants are on from the first start; jobs.apply_schema replaces the default superuser.
                "CASSANDRA_AUTHENTICATOR": "PasswordAuthenticator",
                "CASSANDRA_AUTHORIZER": "CassandraAuthorizer",
                "CASSANDRA_NUM_TOKENS": 16,
            }
            if is_seed:
                # A new, empty ring: evenly spaced preset tokens and no bootstrap let all seeds start at once.
                env |= {"CASSANDRA_INITIAL_TOKEN": f"{i + 1}/{seeds}", "CASSANDRA_AUTO_BOOTSTRAP": "false"}
            else:
                # Joining a ring with data: stream its ranges first (tokens from the allocator).
                env |= {"CASSANDRA_AUTO_BOOTSTRAP": "true"}
            env |= {"JVM_EXTRA_OPTS": JVM_OPTS, "MAX_HEAP_SIZE": args.max_heap, "HEAP_NEWSIZE": args.new_heap}
            if ports is not None:
                env |= _host_network_env(place, i, ports)
            published = (i == 0 and not place.multi_host)
            docker_host = place.host(i)
            container = node(f"{name}-{i}", NodeSpec(
                host=host, image=image_ref(images[docker_host.name]), env=env,
                healthcheck=["/opt/cassandra/bin/healthcheck"], start_period="3m0s",
                wait_timeout=SEED_WAIT if is_seed else JOINER_WAIT,
                data_path="/var/lib/cassandra", stop_timeout=60,
                ports=([docker.ContainerPortArgs(internal=CQL_PORT, external=args.admin_port, ip="127.0.0.1")]
                       if published else []),
            ), n, None if place.multi_host else args.network, self,
                # Cassandra lets only one node join at a time: each waits for the one before to be serving.
                depends_on=[] if is_seed else self.containers[-1:], provider=docker_host.provider)
            self.containers.append(container)
            if not is_seed:
                self.memberships.append(CassandraMembership(f"{name}-{i}-membership", CassandraMembershipArgs(
                    docker_host=docker_host.url, container=n.resource(host),
                    older_nodes=[[place.host(j).url, n.resource(hosts[j])] for j in range(i)],
                ), pulumi.ResourceOptions(parent=self, depends_on=[*self.containers, *self.memberships[-1:]])))
        if ports is None:
            self.hosts = ",".join(hosts[:seeds])
            self.port = CQL_PORT
            self.admin_endpoint = f"127.0.0.1:{args.admin_port}"
        else:
            # The seeds first on their hosts: all listen on the base CQL port, so one port fits every contact point.
            self.hosts = ",".join(place.host(i).address for i in range(seeds) if place.slot(i) == 0)
            self.port = ports.cassandra_cql
            self.admin_endpoint = f"{place.first.address}:{ports.cassandra_cql}"
        self.register_outputs({"hosts": self.hosts, "admin_endpoint": self.admin_endpoint})


def _host_network_env(place: Placement, i: int, ports) -> dict[str, object]:
    """Node i on its host's network: the host's address, and ports shifted by its slot on that host."""
    address, slot = place.host(i).address, place.slot(i)
    jmx = ports.cassandra_jmx + slot
    return {
        "CASSANDRA_LISTEN_ADDRESS": address,
        "CASSANDRA_BROADCAST_ADDRESS": address,
        "CASSANDRA_YAML_storage_port": ports.cassandra_storage + slot,
        "CASSANDRA_YAML_native_transport_port": ports.cassandra_cql + slot,
        # The entrypoint fixes JMX at 7199; a later -D wins, and nodetool in the container reads JMX_PORT.
        "JVM_EXTRA_OPTS": f"{JVM_OPTS} -Dcassandra.jmx.local.port={jmx}",
        "JMX_PORT": jmx,
    }
