"""jobs.apply_schema's role set-up over a fake cluster: who logs in when, and what each run executes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from cassandra import ConfigurationException
from cassandra.cluster import NoHostAvailable

from contract import schema
from contract.settings import Settings
from jobs import apply_schema

PASSWORDS = {schema.ADMIN: "pw-admin", schema.WRITER: "pw-writer", schema.READER: "pw-reader"}
ADMIN = schema.role_name(Settings.keyspace, schema.ADMIN)


class Rows(list):
    def one(self):
        return self[0] if self else None


class FakeCluster:
    """Logins are checked against the roles that exist; the default superuser exists until dropped."""

    def __init__(self, roles: dict[str, str]):
        self.roles = roles  # role -> password
        self.log: list[tuple[str, str, tuple | None]] = []
        self.consistency: list[tuple[str, tuple | None, int | None]] = []
        self.auth_replication: dict | None = None  # system_auth's, once altered
        self.restarting = 0  # replication changes refused, as while a node is not in normal state
        self.drops_missed = 0  # DROP ROLE IF EXISTS whose QUORUM read misses the one replica holding the role

    def connect(self, settings, keyspace=None, credentials=None):
        user, password = credentials
        if self.roles.get(user) != password:
            raise NoHostAvailable("refused", {"node": Exception("Bad credentials")})
        return FakeSession(self, user)


class FakeSession:
    def __init__(self, cluster: FakeCluster, user: str):
        self.owner, self.user = cluster, user
        self.cluster = self

    def execute(self, cql, params=None, timeout=None):
        consistency = getattr(cql, "consistency_level", None)
        cql = " ".join(getattr(cql, "query_string", cql).split())
        self.owner.log.append((self.user, cql, params))
        self.owner.consistency.append((cql, params, consistency))
        words = cql.split()
        if cql.startswith("SELECT role FROM system_auth.roles"):
            return Rows([params[0]] if params[0] in self.owner.roles else [])
        if cql == schema.KEYSPACE_REPLICATION:
            replication = self.owner.auth_replication
            return Rows([SimpleNamespace(replication=replication)] if replication else [])
        if cql.startswith("ALTER KEYSPACE system_auth"):
            if self.owner.restarting:
                self.owner.restarting -= 1
                raise ConfigurationException("Cannot alter RF while some endpoints are not in normal state "
                                             "(no range movements): [/172.20.0.7:7000]")
            self.owner.auth_replication = {"class": schema.NETWORK_TOPOLOGY, "dc1": "3"}
        if cql.startswith("CREATE ROLE"):
            self.owner.roles[words[5]] = params[0]
        if cql.startswith("ALTER ROLE"):
            self.owner.roles[words[2]] = params[0]
        if cql.startswith("DROP ROLE"):
            if self.owner.drops_missed:
                self.owner.drops_missed -= 1
            else:
                self.owner.roles.pop(words[-1], None)
        return Rows([])

    def shutdown(self):
        pass


@pytest.fixture
def cluster(monkeypatch):
    fake = FakeCluster({"cassandra": "cassandra"})
    monkeypatch.setattr(apply_schema, "connect", fake.connect)
    return fake


def statements_of(cluster: FakeCluster, user: str) -> list[str]:
    return [cql for who, cql, _ in cluster.log if who == user]


def test_a_new_cluster_gets_an_admin_from_the_default_superuser_which_is_then_dropped(cluster):
    apply_schema.apply(Settings(), PASSWORDS)
    as_default = statements_of(cluster, "cassandra")
    alter = " ".join(schema.AUTH_KEYSPACE.format(datacenter="dc1", replication=3).split())
    assert as_default[:2] == [schema.KEYSPACE_REPLICATION, alter]
    assert any(cql.startswith(f"CREATE ROLE IF NOT EXISTS {ADMIN} WITH SUPERUSER = true") for cql in as_default)
    as_admin = statements_of(cluster, ADMIN)
    assert "DROP ROLE IF EXISTS cassandra" in as_admin
    assert set(cluster.roles) == {ADMIN, "clickstream_writer", "clickstream_reader"}
    assert "GRANT MODIFY ON KEYSPACE clickstream TO clickstream_writer" in as_admin
    assert "GRANT SELECT ON KEYSPACE clickstream TO clickstream_reader" in as_admin
    assert not [cql for cql in as_admin if cql.startswith("GRANT MODIFY") and cql.endswith("reader")]


def test_a_second_run_logs_in_as_the_admin_and_only_updates_passwords(cluster):
    apply_schema.apply(Settings(), PASSWORDS)
    cluster.log.clear()
    apply_schema.apply(Settings(), {**PASSWORDS, schema.READER: "rotated"})
    assert {who for who, _, _ in cluster.log} == {ADMIN}
    assert not [cql for _, cql, _ in cluster.log if cql.startswith("CREATE ROLE")]
    assert cluster.roles["clickstream_reader"] == "rotated"


def test_a_second_run_leaves_system_auth_alone_and_a_first_waits_out_a_restarting_node(cluster, monkeypatch):
    # Cassandra refuses to change replication while a node is not in normal state: asked again until it is.
    cluster.restarting = 2
    monkeypatch.setattr(apply_schema.time, "sleep", lambda seconds: None)
    apply_schema.apply(Settings(), PASSWORDS)
    alters = [cql for _, cql, _ in cluster.log if cql.startswith("ALTER KEYSPACE system_auth")]
    assert len(alters) == 3 and cluster.restarting == 0 and cluster.auth_replication["dc1"] == "3"
    # Already replicated so: a repeated set-up (while a node restarts, too) changes nothing.
    cluster.log.clear()
    cluster.restarting = 1
    apply_schema.apply(Settings(), PASSWORDS)
    assert not [cql for _, cql, _ in cluster.log if cql.startswith("ALTER KEYSPACE")] and cluster.restarting == 1


def test_a_replication_change_refused_for_another_reason_fails_the_set_up(cluster, monkeypatch):
    execute = FakeSession.execute

    def refused(self, cql, params=None, timeout=None):
        if getattr(cql, "query_string", cql).split()[:3] == ["ALTER", "KEYSPACE", "system_auth"]:
            raise ConfigurationException("Unrecognized strategy option {dc9}")
        return execute(self, cql, params, timeout)

    monkeypatch.setattr(FakeSession, "execute", refused)
    with pytest.raises(ConfigurationException, match="dc9"):
        apply_schema.apply(Settings(), PASSWORDS)


def test_roles_from_another_deployment_stop_with_an_explanation(cluster, monkeypatch):
    cluster.roles.clear()
    cluster.roles[ADMIN] = "someone-elses"
    monkeypatch.setattr(apply_schema, "LOGIN_TIMEOUT_S", 0)
    with pytest.raises(SystemExit, match="another deployment"):
        apply_schema.apply(Settings(), PASSWORDS)


def test_a_refusal_while_system_auth_spreads_to_every_node_is_asked_again(cluster, monkeypatch):
    """Right after its replication grows, a QUORUM read of the default superuser's role can miss it."""
    from cassandra import Unauthorized

    refusals = [Unauthorized("User cassandra has no SELECT permission on <table system_auth.roles>")]
    execute = FakeSession.execute

    def flaky(self, cql, params=None, timeout=None):
        if self.user == "cassandra" and cql.startswith("SELECT role FROM system_auth.roles") and refusals:
            raise refusals.pop()
        return execute(self, cql, params, timeout)

    monkeypatch.setattr(FakeSession, "execute", flaky)
    monkeypatch.setattr(apply_schema.time, "sleep", lambda seconds: None)
    apply_schema.apply(Settings(), PASSWORDS)
    assert not refusals and set(cluster.roles) == {ADMIN, "clickstream_writer", "clickstream_reader"}


def test_the_dropped_default_role_is_read_at_all_so_every_replica_gets_its_tombstone(cluster):
    from cassandra import ConsistencyLevel

    apply_schema.apply(Settings(), PASSWORDS)
    drop = next(i for i, (cql, _, _) in enumerate(cluster.consistency) if cql == "DROP ROLE IF EXISTS cassandra")
    cql, params, consistency = cluster.consistency[drop + 1]
    assert cql == schema.ROLE_EXISTS and params == ("cassandra",) and consistency == ConsistencyLevel.ALL


def test_a_replica_that_cannot_answer_at_all_is_asked_again(cluster, monkeypatch):
    from cassandra import Unavailable

    monkeypatch.setattr(apply_schema.time, "sleep", lambda s: None)
    original, failures = FakeSession.execute, [Unavailable("1 of 3 replicas down")]

    def flaky(self, cql, params=None, timeout=None):
        if getattr(cql, "consistency_level", None) is not None and failures:
            raise failures.pop()
        return original(self, cql, params, timeout)

    monkeypatch.setattr(FakeSession, "execute", flaky)
    apply_schema.apply(Settings(), PASSWORDS)
    reads_at_all = [c for c in cluster.consistency if c[2] is not None]
    assert not failures and len(reads_at_all) == 1  # the second ask answered: the role is gone
    assert "cassandra" not in cluster.roles


def test_a_drop_whose_quorum_missed_the_role_is_asked_again_until_every_replica_answers_it_is_gone(
        cluster, monkeypatch):
    """Seen in CI: the role on one replica only, the drop's QUORUM read missed it and wrote no tombstone."""
    monkeypatch.setattr(apply_schema.time, "sleep", lambda s: None)
    cluster.drops_missed = 2
    apply_schema.apply(Settings(), PASSWORDS)
    drops = [cql for _, cql, _ in cluster.log if cql == "DROP ROLE IF EXISTS cassandra"]
    assert len(drops) == 3 and cluster.drops_missed == 0
    assert set(cluster.roles) == {ADMIN, "clickstream_writer", "clickstream_reader"}


def test_a_role_a_quorum_still_holds_after_the_deadline_fails_the_set_up(cluster, monkeypatch):
    monkeypatch.setattr(apply_schema.time, "sleep", lambda s: None)
    monkeypatch.setattr(apply_schema, "REPAIR_TIMEOUT_S", 0)
    cluster.drops_missed = 10**6
    with pytest.raises(SystemExit, match="quorum of replicas still holds it"):
        apply_schema.apply(Settings(), PASSWORDS)
