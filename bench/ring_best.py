"""The ring's best write shape by mutations, as the anchor for the bulk sink
(after ../shared/tools/ring_write_shapes.py).

`edges_in`'s columns in a hash-bucketed table `((lang, month, bucket), curr, n, prev)`, rows grouped into
single-partition unlogged batches of BATCH rows, IN_FLIGHT batches in flight, LOCAL_QUORUM: 11.8x the
one-row-per-partition shape on this ring (../shared/notes/scale.md). Writes into its own keyspace, dropped
at the end, also when interrupted.
"""

from __future__ import annotations

import random
import time
import zlib
from collections import defaultdict

from contract.schema import ADMIN
from devstack import stack as stack_tool

KEYSPACE = "ring_best_probe"
BATCH, IN_FLIGHT, BUCKETS = 100, 16, 1024


def synthetic_rows(count: int, seed: int = 1):
    rng = random.Random(seed)
    titles = [f"Article_{i}_{rng.randrange(10**6)}_of_some_length" for i in range(300_000)]
    for _ in range(count):
        skewed = titles[min(int(rng.paretovariate(0.6)) - 1, len(titles) - 1)]
        curr = skewed if rng.random() < 0.5 else rng.choice(titles)
        yield "en", "2030-01", curr, rng.randrange(10, 5000), rng.choice(titles), "link"


#: Schema changes wait on every node; a ring still compacting a big bulk load answers them slowly.
SCHEMA_TIMEOUT = 120


def run(stack: str, rows: int, datacenter: str, replication: int) -> dict:
    """Rows/s of the batched, bucketed shape on `stack`'s ring."""
    from cassandra.concurrent import execute_concurrent
    from cassandra.query import BatchStatement, BatchType

    session = stack_tool.cassandra(stack_tool.outputs(stack), ADMIN)
    try:
        session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}", timeout=SCHEMA_TIMEOUT)
        session.execute(f"CREATE KEYSPACE {KEYSPACE} WITH replication = "
                        f"{{'class': 'NetworkTopologyStrategy', '{datacenter}': {replication}}}",
                        timeout=SCHEMA_TIMEOUT)
        session.execute(f"CREATE TABLE {KEYSPACE}.bucketed (lang text, month text, bucket int, curr text, n bigint, "
                        "prev text, type text, PRIMARY KEY ((lang, month, bucket), curr, n, prev))",
                        timeout=SCHEMA_TIMEOUT)
        session.cluster.control_connection.wait_for_schema_agreement(wait_time=SCHEMA_TIMEOUT)
        insert = session.prepare(f"INSERT INTO {KEYSPACE}.bucketed (lang, month, bucket, curr, n, prev, type) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)")
        data = list(synthetic_rows(rows))
        started = time.monotonic()
        groups = defaultdict(list)
        for row in data:
            groups[zlib.crc32(row[2].encode()) % BUCKETS].append(row)
        batches = []
        for bucket, members in groups.items():
            for i in range(0, len(members), BATCH):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for lang, month, curr, n, prev, kind in members[i:i + BATCH]:
                    batch.add(insert, (lang, month, bucket, curr, n, prev, kind))
                batches.append((batch, ()))
        execute_concurrent(session, batches, concurrency=IN_FLIGHT, raise_on_first_error=True)
        seconds = time.monotonic() - started
        return {"rows": rows, "seconds": round(seconds, 1), "rows_per_second": round(rows / seconds)}
    finally:
        session.execute(f"DROP KEYSPACE IF EXISTS {KEYSPACE}", timeout=SCHEMA_TIMEOUT)
        session.cluster.shutdown()
