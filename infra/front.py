"""The front server: nginx (infra/images/front) on the web UI's published port, in front of the web UI.

It answers a complete month's fixed API answers and Dash's assets from its cache, compresses text, and
sheds load past its limits with 503 + Retry-After. The web UI behind it publishes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from contract.settings import MAX_REQUEST_BYTES
from infra.images import image_ref
from infra.nodes import AppComponent, AppPlace

#: Where nginx listens inside its container (above 1024: it runs unprivileged).
FRONT_PORT = 8080


@dataclass
class FrontServerArgs:
    place: AppPlace
    image: docker.Image
    #: The web UI's container, and the port it listens on inside the stack network.
    webui: docker.Container
    webui_port: int
    #: Published on 127.0.0.1 at this port (the stack's `webui.port`).
    port: int
    #: The proxy cache's size on disk, as nginx writes sizes ("256m").
    cache_size: str
    #: Requests in progress at once from one client address, and in all; past either, 503 + Retry-After.
    connections_per_client: int
    connections_total: int
    #: CPU weight against the other containers, as the web UI's: it is the same latency-bound tier.
    cpu_shares: int


class FrontServer(AppComponent):
    """nginx in front of the web UI, published on the loopback only."""

    def __init__(self, name: str, args: FrontServerArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("FrontServer", name, args.place, opts)
        # nginx resolves the web UI's address once, at start. The web UI's container id in the env makes
        # a replaced web UI (a new address) replace the front server too.
        envs = pulumi.Output.all(args.webui.name, args.webui.id).apply(lambda webui: [
            f"FRONT_LISTEN_PORT={FRONT_PORT}",
            f"FRONT_UPSTREAM={webui[0]}:{args.webui_port}",
            f"FRONT_WEBUI_CONTAINER={webui[1]}",
            f"FRONT_CACHE_SIZE={args.cache_size}",
            f"FRONT_CONN_PER_CLIENT={args.connections_per_client}",
            f"FRONT_CONN_TOTAL={args.connections_total}",
            # nginx refuses a bigger body itself: passed on, the app's early 413 would reach the client as a 502.
            f"FRONT_MAX_BODY={MAX_REQUEST_BYTES}",
        ])
        self.container = self.add_container(
            "front", "front", image_ref(args.image), envs=envs,
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=["CMD", "/usr/local/bin/front-healthcheck.sh"],
                interval="5s", timeout="3s", retries=5, start_period="10s"),
            ports=[docker.ContainerPortArgs(internal=FRONT_PORT, external=args.port, ip="127.0.0.1")],
            cpu_shares=args.cpu_shares, restart="unless-stopped", wait=True, wait_timeout=60,
            depends_on=[args.webui],
        )
        self.url = f"http://127.0.0.1:{args.port}"
        self.register_outputs({"url": self.url})
