"""Runtime settings every component reads from its environment.

The Pulumi program sets these variables on each container (it imports `ENV` for the names), and
people running a component on the host set them by hand; the defaults fit the dev stack's ports
published on 127.0.0.1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields

#: Environment variable of each setting.
ENV = {
    "kafka_bootstrap": "CLICKSTREAM_KAFKA_BOOTSTRAP",
    "cassandra_hosts": "CLICKSTREAM_CASSANDRA_HOSTS",
    "cassandra_port": "CLICKSTREAM_CASSANDRA_PORT",
    "cassandra_datacenter": "CLICKSTREAM_CASSANDRA_DC",
    "keyspace": "CLICKSTREAM_KEYSPACE",
    "replication": "CLICKSTREAM_REPLICATION",
    "checkpoint_dir": "CLICKSTREAM_CHECKPOINT_DIR",
    "spark_master": "CLICKSTREAM_SPARK_MASTER",
}


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:19092"
    cassandra_hosts: str = "127.0.0.1"
    cassandra_port: int = 19042
    cassandra_datacenter: str = "dc1"
    keyspace: str = "clickstream"
    replication: int = 3
    checkpoint_dir: str = "/tmp/clickstream-checkpoints"
    spark_master: str = "local[2]"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        """Defaults overridden by whichever CLICKSTREAM_* variables are set."""
        environ = os.environ if environ is None else environ
        values = {}
        for f in fields(cls):
            raw = environ.get(ENV[f.name])
            if raw is not None:
                values[f.name] = int(raw) if f.type in ("int", int) else raw
        return cls(**values)

    @property
    def cassandra_host_list(self) -> list[str]:
        return [h.strip() for h in self.cassandra_hosts.split(",") if h.strip()]

    def as_env(self) -> dict[str, str]:
        """The settings as environment variables, for containers."""
        return {ENV[f.name]: str(getattr(self, f.name)) for f in fields(self)}
