"""Runtime settings every component reads from its environment.

The Pulumi program sets these variables on each container (it imports `ENV` for the names), and
people running a component on the host set them by hand; the defaults fit the dev stack's ports
published on 127.0.0.1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

#: The host's cache of everything built and downloaded (toolchain/, the producer's dumps, test reports).
CACHE_ENV = "CLICKSTREAM_CACHE"


def cache_root() -> Path:
    """`$CLICKSTREAM_CACHE`, else ~/.cache/clickstream: the one root the setup step, the tools and the tests share."""
    return Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "clickstream")


#: The largest request body the web tier takes (413 beyond): a Dash callback posts a few KB and the API takes
#: none. The web UI (webui.app) and the front server before it (infra/images/front) both enforce it.
MAX_REQUEST_BYTES = 256 * 1024

#: Where deployments put secret files, one per Cassandra role: `/run/secrets/cassandra-reader`.
SECRETS_DIR = "/run/secrets"


def password_path(role: str) -> str:
    return f"{SECRETS_DIR}/cassandra-{role}"


#: The Spark cluster's shared secret, as a Spark properties file: the master and workers read it with
#: `--properties-file`, the driver through `Settings.spark_auth_conf`.
SPARK_AUTH_PATH = f"{SECRETS_DIR}/spark-auth.conf"


def spark_auth_properties(secret: str) -> str:
    """The content of SPARK_AUTH_PATH: RPC authentication on, with `secret` (Spark's own properties format)."""
    return f"spark.authenticate true\nspark.authenticate.secret {secret}\n"


#: Environment variable of each setting.
ENV = {
    "kafka_bootstrap": "CLICKSTREAM_KAFKA_BOOTSTRAP",
    "cassandra_hosts": "CLICKSTREAM_CASSANDRA_HOSTS",
    "cassandra_port": "CLICKSTREAM_CASSANDRA_PORT",
    "cassandra_storage_port": "CLICKSTREAM_CASSANDRA_STORAGE_PORT",
    "cassandra_datacenter": "CLICKSTREAM_CASSANDRA_DC",
    "keyspace": "CLICKSTREAM_KEYSPACE",
    "replication": "CLICKSTREAM_REPLICATION",
    "checkpoint_dir": "CLICKSTREAM_CHECKPOINT_DIR",
    "spark_master": "CLICKSTREAM_SPARK_MASTER",
    "cassandra_user": "CLICKSTREAM_CASSANDRA_USER",
    "cassandra_password_file": "CLICKSTREAM_CASSANDRA_PASSWORD_FILE",
    "spark_auth_file": "CLICKSTREAM_SPARK_AUTH_FILE",
}


@dataclass(frozen=True)
class Settings:
    kafka_bootstrap: str = "127.0.0.1:19092"
    cassandra_hosts: str = "127.0.0.1"
    cassandra_port: int = 19042
    #: The nodes' inter-node port, which bulk loads stream SSTables to (jobs/bulk.py).
    cassandra_storage_port: int = 7000
    cassandra_datacenter: str = "dc1"
    keyspace: str = "clickstream"
    replication: int = 3
    checkpoint_dir: str = "/tmp/clickstream-checkpoints"
    spark_master: str = "local[2]"
    #: The Cassandra role to log in as; empty: no authentication (a local test cluster).
    cassandra_user: str = ""
    #: A file holding that role's password. A file, not a variable, so the password stays out of
    #: `docker inspect` and of process environments.
    cassandra_password_file: str = ""
    #: The Spark cluster's secret (SPARK_AUTH_PATH's format); empty: no RPC authentication (local mode).
    spark_auth_file: str = ""

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

    def cassandra_credentials(self) -> tuple[str, str] | None:
        """(user, password) for the configured role, or None when authentication is off."""
        if not self.cassandra_user:
            return None
        if not self.cassandra_password_file:
            raise ValueError(f"{ENV['cassandra_user']} is set but {ENV['cassandra_password_file']} is not")
        with open(self.cassandra_password_file, encoding="utf-8") as f:
            return self.cassandra_user, f.read().strip()

    def spark_auth_conf(self) -> dict[str, str]:
        """The Spark properties in `spark_auth_file` (blank and # lines skipped), or none when it is unset."""
        if not self.spark_auth_file:
            return {}
        with open(self.spark_auth_file, encoding="utf-8") as f:
            lines = [line.strip() for line in f]
        return dict(line.split(None, 1) for line in lines if line and not line.startswith("#"))

    def as_env(self) -> dict[str, str]:
        """The settings as environment variables, for containers."""
        return {ENV[f.name]: str(getattr(self, f.name)) for f in fields(self)}
