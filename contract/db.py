"""Opening a Cassandra session the same way everywhere: QUORUM, DC-aware, token-aware."""

from __future__ import annotations

from contract.settings import Settings

#: How long a read waits for its first replica before asking another as well.
SPECULATE_AFTER_SECONDS = 0.5


def connect(settings: Settings, keyspace: str | None = None, credentials: tuple[str, str] | None = None):
    """A cassandra-driver session at LOCAL_QUORUM; import is lazy so Spark-only code skips the driver.

    Logs in with `credentials` if given, else with the settings' role (none when auth is off).
    """
    from cassandra import ConsistencyLevel
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import EXEC_PROFILE_DEFAULT, Cluster, ExecutionProfile
    from cassandra.policies import ConstantSpeculativeExecutionPolicy, DCAwareRoundRobinPolicy, TokenAwarePolicy

    profile = ExecutionProfile(
        load_balancing_policy=TokenAwarePolicy(DCAwareRoundRobinPolicy(settings.cassandra_datacenter)),
        consistency_level=ConsistencyLevel.LOCAL_QUORUM,
        request_timeout=10,
        # Only statements marked idempotent speculate (the web UI's reads): one replica in a GC
        # pause or compaction then costs SPECULATE_AFTER_SECONDS, not the request timeout.
        speculative_execution_policy=ConstantSpeculativeExecutionPolicy(SPECULATE_AFTER_SECONDS, max_attempts=1),
    )
    credentials = credentials or settings.cassandra_credentials()
    cluster = Cluster(
        settings.cassandra_host_list,
        auth_provider=PlainTextAuthProvider(*credentials) if credentials else None,
        port=settings.cassandra_port,
        execution_profiles={EXEC_PROFILE_DEFAULT: profile},
        protocol_version=5,
    )
    return cluster.connect(keyspace)
