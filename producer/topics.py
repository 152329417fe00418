"""Create the contract's topics with the stack's durability settings, then wait for a full ISR.

Run by the Pulumi program as a one-shot container once the brokers are healthy:
    python -m producer.topics --partitions 6 --replication 3 --min-insync 2
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from contract import kafka_auth, topics
from contract.settings import Settings, kafka_password_path

#: Raw rows are kept so that any load can be replayed or re-aggregated from Kafka.
RETENTION = {topics.RAW: "-1", topics.DEAD_LETTER: "-1", topics.LOADS: "-1"}


def ensure_topics(kafka: Settings, partitions: int, replication: int, min_insync: int, timeout: float) -> None:
    """The topics, with their ACLs when Kafka takes logins (`kafka` logs in as the admin)."""
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = _connect(kafka, timeout)
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(name, partitions if name == topics.RAW else 1, replication,
                     topic_configs={"min.insync.replicas": str(min_insync), "retention.ms": RETENTION[name],
                                    "unclean.leader.election.enable": "false"})
            for name in topics.ALL if name not in existing
        ]
        if wanted:
            try:
                admin.create_topics(wanted)
            except TopicAlreadyExistsError:
                pass
        if kafka.kafka_login():
            set_app_logins(admin, app_passwords())
            grant(admin)
        _wait_for_full_isr(admin, replication, timeout)
    finally:
        admin.close()


def app_passwords() -> dict[str, str]:
    """The apps' Kafka passwords (contract.kafka_auth.APP_USERS), from the files the topics step is given."""
    return {user: Path(kafka_password_path(user)).read_text().strip() for user in kafka_auth.APP_USERS}


def set_app_logins(admin, passwords: dict[str, str]) -> None:
    """Give each app principal its SCRAM credential for `passwords[user]`: made on a new cluster, replaced by a
    rotated password (docs/security.md); fail naming any the brokers refused."""
    from kafka.admin import ScramMechanism, UserScramCredentialUpsertion

    mechanism = ScramMechanism[kafka_auth.MECHANISM.replace("-", "_")]
    errors = admin.alter_user_scram_credentials(
        [UserScramCredentialUpsertion(user, mechanism, password, iterations=kafka_auth.SCRAM_ITERATIONS)
         for user, password in sorted(passwords.items())])
    refused = {user: error for user, error in errors.items() if error}
    if refused:
        raise SystemExit("Kafka refused the apps' logins: " + "; ".join(f"{u}: {e}" for u, e in refused.items()))
    print(f"Kafka logins set for {', '.join(sorted(passwords))}")


def acls() -> list:
    """contract.kafka_auth.GRANTS as kafka-python ACLs, one per operation."""
    from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourcePattern, ResourceType

    return [
        ACL(kafka_auth.principal(g.principal), "*", ACLOperation[operation], ACLPermissionType.ALLOW,
            ResourcePattern(ResourceType[g.resource], g.name,
                            ACLResourcePatternType.PREFIXED if g.prefixed else ACLResourcePatternType.LITERAL))
        for g in kafka_auth.GRANTS for operation in g.operations
    ]


def grant(admin) -> None:
    """Create the ACLs (creating one that exists changes nothing); fail naming any the brokers refused."""
    wanted = acls()
    result = admin.create_acls(wanted)
    if result["failed"]:
        raise SystemExit("Kafka refused ACLs: " + "; ".join(f"{acl}: {err!r}" for acl, err in result["failed"]))
    users = sorted({g.principal for g in kafka_auth.GRANTS})
    print(f"{len(wanted)} ACLs granted to {', '.join(users)}")


def _connect(kafka: Settings, timeout: float):
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return KafkaAdminClient(**kafka.kafka_client_config(), client_id="clickstream-topics")
        except KafkaError as err:
            if time.monotonic() > deadline:
                raise SystemExit(f"Kafka at {kafka.kafka_bootstrap} did not answer within {timeout:.0f} s: {err}")
            time.sleep(2)


def _wait_for_full_isr(admin, replication: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        described = admin.describe_topics(list(topics.ALL))
        short = [t["name"] for t in described if t["error_code"] or not t["partitions"]]
        short += [
            f"{t['name']}/{p['partition_index']}"
            for t in described
            for p in t["partitions"]
            if p["error_code"] or len(p["isr_nodes"]) < replication
        ]
        if not short:
            print(f"topics {', '.join(topics.ALL)} ready, every partition with {replication} in-sync replicas")
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"partitions without a full ISR after {timeout:.0f} s: {', '.join(short)}")
        time.sleep(2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--partitions", type=int, required=True)
    parser.add_argument("--replication", type=int, required=True)
    parser.add_argument("--min-insync", type=int, required=True)
    parser.add_argument("--timeout", type=float, default=180)
    args = parser.parse_args()
    ensure_topics(Settings.from_env(), args.partitions, args.replication, args.min_insync, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
