"""Create the contract's topics with the stack's durability settings, then wait for a full ISR.

Run by the Pulumi program as a one-shot container once the brokers are healthy:
    python -m producer.topics --partitions 6 --replication 3 --min-insync 2
"""

from __future__ import annotations

import argparse
import sys
import time

from contract import topics
from contract.settings import Settings

#: Raw rows are kept so that any load can be replayed or re-aggregated from Kafka.
RETENTION = {topics.RAW: "-1", topics.DEAD_LETTER: "-1", topics.LOADS: "-1"}


def ensure_topics(bootstrap: str, partitions: int, replication: int, min_insync: int, timeout: float) -> None:
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = _connect(bootstrap, timeout)
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
        _wait_for_full_isr(admin, replication, timeout)
    finally:
        admin.close()


def _connect(bootstrap: str, timeout: float):
    from kafka.admin import KafkaAdminClient
    from kafka.errors import KafkaError

    deadline = time.monotonic() + timeout
    while True:
        try:
            return KafkaAdminClient(bootstrap_servers=bootstrap.split(","), client_id="clickstream-topics")
        except KafkaError as err:
            if time.monotonic() > deadline:
                raise SystemExit(f"Kafka at {bootstrap} did not answer within {timeout:.0f} s: {err}")
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
    ensure_topics(Settings.from_env().kafka_bootstrap, args.partitions, args.replication, args.min_insync, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
