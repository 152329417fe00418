"""Apply the contract's Cassandra schema; every statement is idempotent."""

from __future__ import annotations

from contract import schema
from contract.db import connect
from contract.settings import Settings


def apply(settings: Settings) -> None:
    """Create the keyspace and tables if they do not exist yet."""
    session = connect(settings)
    try:
        for cql in schema.statements(settings.keyspace, settings.cassandra_datacenter, settings.replication):
            session.execute(cql, timeout=60)
        for table, column, cql_type in schema.ADDED_COLUMNS:
            existing = session.execute(
                "SELECT column_name FROM system_schema.columns WHERE keyspace_name=%s AND table_name=%s",
                (settings.keyspace, table),
            )
            if column not in {row.column_name for row in existing}:
                session.execute(f"ALTER TABLE {settings.keyspace}.{table} ADD {column} {cql_type}", timeout=60)
    finally:
        session.cluster.shutdown()


if __name__ == "__main__":
    apply(Settings.from_env())
