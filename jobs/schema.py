"""Apply the contract's Cassandra schema; every statement is idempotent."""

from __future__ import annotations

from cassandra import InvalidRequest

from contract import schema
from contract.db import connect
from contract.settings import Settings


def apply(settings: Settings) -> None:
    """Create the keyspace and tables if they do not exist yet."""
    session = connect(settings)
    try:
        for cql in schema.statements(settings.keyspace, settings.cassandra_datacenter, settings.replication):
            session.execute(cql, timeout=60)
        for cql in schema.MIGRATIONS:
            try:
                session.execute(cql.format(keyspace=settings.keyspace), timeout=60)
            except InvalidRequest as err:
                if "conflicts with an existing column" not in str(err):
                    raise
    finally:
        session.cluster.shutdown()


if __name__ == "__main__":
    apply(Settings.from_env())
