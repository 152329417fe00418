"""Apply the contract's Cassandra schema and login roles; every step is idempotent.

The Pulumi program runs this once per `pulumi up`, in a one-shot container, as the admin role
(CLICKSTREAM_CASSANDRA_USER / CLICKSTREAM_CASSANDRA_PASSWORD_FILE) with the writer's and the
reader's passwords in their files under contract.settings.SECRETS_DIR:

    python -m jobs.apply_schema

On a new cluster the admin role does not exist yet: the first run logs in as Cassandra's default
superuser, creates the admin, and drops the default. Without CLICKSTREAM_CASSANDRA_USER (a local
cluster with authentication off) only the keyspace and tables are created.
"""

from __future__ import annotations

import logging
import time

from contract import schema
from contract.db import connect
from contract.settings import Settings, password_path

log = logging.getLogger("clickstream.schema")
LOGIN_TIMEOUT_S = 240
#: How long the dropped default role is read at ALL before the set-up goes on with a warning.
REPAIR_TIMEOUT_S = 120
#: How long the set-up waits for every node to be in normal state before it changes system_auth's replication.
RING_SETTLE_TIMEOUT_S = 300


def apply(settings: Settings, passwords: dict[str, str] | None = None) -> None:
    """Create the keyspace, tables and, given passwords for the schema's roles, the roles and grants."""
    session = _admin_session(settings, passwords) if passwords else connect(settings)
    try:
        if passwords:
            _secure_auth_keyspace(session, settings)
            _drop_on_every_replica(session, schema.DEFAULT_SUPERUSER[0])
        for cql in schema.statements(settings.keyspace, settings.cassandra_datacenter, settings.replication):
            session.execute(cql, timeout=60)
        for table, column, cql_type in schema.ADDED_COLUMNS:
            existing = session.execute(
                "SELECT column_name FROM system_schema.columns WHERE keyspace_name=%s AND table_name=%s",
                (settings.keyspace, table),
            )
            if column not in {row.column_name for row in existing}:
                session.execute(f"ALTER TABLE {settings.keyspace}.{table} ADD {column} {cql_type}", timeout=60)
        for table in schema.RETIRED_TABLES:
            session.execute(schema.DROP_TABLE.format(keyspace=settings.keyspace, table=table), timeout=120)
        if passwords:
            for role in schema.ROLE_PERMISSIONS:
                _ensure_role(session, settings.keyspace, role, passwords[role], superuser=False)
                for grant in schema.grants(settings.keyspace, role):
                    session.execute(grant, timeout=60)
    finally:
        session.cluster.shutdown()


def _admin_session(settings: Settings, passwords: dict[str, str]):
    """A session as the admin role, creating that role first on a cluster that still has the default."""
    from cassandra import Unauthorized
    from cassandra.cluster import NoHostAvailable

    admin = (schema.role_name(settings.keyspace, schema.ADMIN), passwords[schema.ADMIN])
    deadline = time.monotonic() + LOGIN_TIMEOUT_S
    while True:
        try:
            return connect(settings, credentials=admin)
        except NoHostAvailable as admin_error:
            try:
                default = connect(settings, credentials=schema.DEFAULT_SUPERUSER)
            except NoHostAvailable as default_error:
                # A new node creates the default superuser some seconds after it starts serving.
                if time.monotonic() > deadline:
                    raise SystemExit(
                        f"cannot log in to Cassandra as {admin[0]} ({_reason(admin_error)}) nor as the default "
                        f"superuser ({_reason(default_error)}). If the nodes' data volumes come from another "
                        "deployment, their roles do not match this stack's secrets: destroy the stack "
                        "(pulumi destroy removes the volumes) and bring it up again.") from None
                time.sleep(5)
                continue
        try:
            log.info("new cluster: creating %s in place of the default superuser", admin[0])
            _secure_auth_keyspace(default, settings)
            _ensure_role(default, settings.keyspace, schema.ADMIN, admin[1], superuser=True)
        except Unauthorized as err:
            # Seen in make test: once system_auth is replicated to every node, a QUORUM read of the default
            # superuser's role can miss the one node that holds it ("no SELECT permission on system_auth.roles").
            # Asked again, it is found (and read-repaired); the admin, written at QUORUM, is then on a quorum.
            if time.monotonic() > deadline:
                raise SystemExit(f"cannot set up the roles as the default superuser: {err}") from None
            log.warning("the default superuser was refused (%s); trying again in 5 s", err)
            time.sleep(5)
        finally:
            default.cluster.shutdown()


def _drop_on_every_replica(session, role: str) -> None:
    """Drop `role`, then read it at ALL until every replica answers that it is gone.

    Each node writes the default superuser at timestamp 0 while system_auth still has one replica,
    and the keyspace is replicated to every node just before the drop, so the role can live on one
    replica only. `DROP ROLE IF EXISTS` decides at QUORUM whether the role exists: a quorum that
    misses that replica writes no tombstone at all. A read at ALL makes every replica answer, and
    read repair copies what it finds to all of them: the role while it was not dropped (the drop is
    then asked again and now finds it), the tombstone once it was. After that a timestamp-0 write
    cannot bring the role back.
    """
    from cassandra import ConsistencyLevel
    from cassandra.query import SimpleStatement

    everywhere = SimpleStatement(schema.ROLE_EXISTS, consistency_level=ConsistencyLevel.ALL)
    at_quorum = SimpleStatement(schema.ROLE_EXISTS, consistency_level=ConsistencyLevel.QUORUM)
    deadline = time.monotonic() + REPAIR_TIMEOUT_S
    while True:
        session.execute(schema.DROP_ROLE.format(role=role), timeout=60)
        try:
            if not session.execute(everywhere, (role,), timeout=30).one():
                return
            reason = "a replica still returns it"
        except Exception as err:  # noqa: BLE001 - a node down or slow: ALL cannot answer yet, ask again
            reason = f"{type(err).__name__}: {str(err)[:200]}"
        if time.monotonic() > deadline:
            if session.execute(at_quorum, (role,), timeout=30).one():
                raise SystemExit(f"cannot drop the role {role}: a quorum of replicas still holds it ({reason})")
            # Logins read the role at QUORUM and refuse it; only LIST ROLES, at ONE, may still show it.
            log.warning("the dropped role %s is not confirmed gone on every replica (%s); run "
                        "`nodetool repair system_auth` once every node is up", role, reason)
            return
        log.info("the role %s is not confirmed dropped on every replica yet (%s); dropping it again in 5 s",
                 role, reason)
        time.sleep(5)


def _secure_auth_keyspace(session, settings: Settings) -> None:
    """Replicate roles like the data: with system_auth's default of one replica, one node down locks logins out.

    Left alone when it already is, so a repeated set-up changes nothing. Cassandra refuses to change a
    keyspace's replication while any node is not in normal state (restarting, joining): the change is asked
    again every 5 s until RING_SETTLE_TIMEOUT_S."""
    from cassandra import ConfigurationException

    wanted = {"class": schema.NETWORK_TOPOLOGY, settings.cassandra_datacenter: str(settings.replication)}
    deadline = time.monotonic() + RING_SETTLE_TIMEOUT_S
    while True:
        current = session.execute(schema.KEYSPACE_REPLICATION, ("system_auth",)).one()
        if current and dict(current.replication) == wanted:
            return
        try:
            session.execute(schema.AUTH_KEYSPACE.format(datacenter=settings.cassandra_datacenter,
                                                        replication=settings.replication), timeout=60)
            return
        except ConfigurationException as err:
            if "normal state" not in str(err) or time.monotonic() > deadline:
                raise
            log.info("a node is not in normal state (%s); changing system_auth's replication in 5 s", err)
            time.sleep(5)


def _ensure_role(session, keyspace: str, role: str, password: str, superuser: bool) -> None:
    name = schema.role_name(keyspace, role)
    if session.execute(schema.ROLE_EXISTS, (name,)).one():
        # Follows a rotated secret. Not right after CREATE: Cassandra refuses two changes within 5 s.
        session.execute(schema.SET_PASSWORD.format(role=name), (password,), timeout=60)
    else:
        session.execute(schema.CREATE_ROLE.format(role=name, superuser=str(superuser).lower()), (password,),
                        timeout=60)


def _reason(error) -> str:
    return "; ".join(str(e) for e in getattr(error, "errors", {}).values())[:300] or str(error)[:300]


def _read_passwords(settings: Settings) -> dict[str, str] | None:
    if not settings.cassandra_user:
        return None
    passwords = {}
    for role in (schema.ADMIN, *schema.ROLE_PERMISSIONS):
        with open(password_path(role), encoding="utf-8") as f:
            passwords[role] = f.read().strip()
    return passwords


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    current = Settings.from_env()
    apply(current, _read_passwords(current))
    log.info("schema and roles of keyspace %s applied", current.keyspace)
