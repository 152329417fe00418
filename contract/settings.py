"""Runtime settings every component reads from its environment.

The Pulumi program sets these variables on each container (it imports `ENV` for the names), and
people running a component on the host set them by hand; the defaults fit the dev stack's ports
published on 127.0.0.1.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from contract import kafka_auth

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


def kafka_password_path(user: str) -> str:
    """Where a container finds the password of the Kafka principal (contract.kafka_auth) it logs in as."""
    return f"{SECRETS_DIR}/kafka-{user}"


#: The admin's Kafka login as a Java client properties file, in every broker: Kafka's command-line tools take it
#: with `--command-config` (scaling's reassignments, operators).
KAFKA_TOOLS_CONFIG = f"{SECRETS_DIR}/kafka-tools.properties"

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
    "kafka_user": "CLICKSTREAM_KAFKA_USER",
    "kafka_password_file": "CLICKSTREAM_KAFKA_PASSWORD_FILE",
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
    #: The Kafka principal to log in as (contract.kafka_auth); empty: no authentication (a local test broker).
    kafka_user: str = ""
    kafka_password_file: str = ""

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
        return self._login("cassandra_user", "cassandra_password_file")

    def kafka_login(self) -> tuple[str, str] | None:
        """(user, password) of the configured Kafka principal, or None when authentication is off."""
        return self._login("kafka_user", "kafka_password_file")

    def kafka_client_config(self) -> dict:
        """kafka-python settings: the bootstrap servers and, when configured, the SASL login."""
        return kafka_auth.python_client_config(self.kafka_bootstrap, self.kafka_login())

    def kafka_spark_options(self) -> dict[str, str]:
        """Options of Spark's Kafka source and sink: the bootstrap servers and the SASL login."""
        java = {"bootstrap.servers": self.kafka_bootstrap} | kafka_auth.java_client_properties(self.kafka_login())
        return {f"kafka.{key}": value for key, value in java.items()}

    def _login(self, user_field: str, password_field: str) -> tuple[str, str] | None:
        user, path = getattr(self, user_field), getattr(self, password_field)
        if not user:
            return None
        if not path:
            raise ValueError(f"{ENV[user_field]} is set but {ENV[password_field]} is not")
        with open(path, encoding="utf-8") as f:
            return user, f.read().strip()

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
