"""The Cassandra schema, designed query-first: every dashboard question is one partition read.

Statements are templates over the keyspace name; `statements()` renders them in order and
`jobs/schema.py` applies them. Readers and writers take table names from `TABLES`.
"""

from __future__ import annotations

#: Outgoing rows of the five other-* pseudo-articles run to millions per month; spreading them
#: over this many partitions keeps each well under 100 MB. Real articles use bucket 0 only, and
#: readers of an other-* source merge all buckets, so only the writer needs the bucket function.
SOURCE_BUCKETS = 64

#: Rows kept per partition by the analytics tables. Fixed, so that a re-run overwrites every
#: position it wrote before (positions are clustering keys).
PAGERANK_LIMIT = 1000
ANALYTICS_TOP = 10

#: Scope partition of the `ingestion` table: all loads, a few hundred rows at most.
INGESTION_SCOPE = "loads"

KEYSPACE = """
CREATE KEYSPACE IF NOT EXISTS {keyspace}
  WITH replication = {{'class': 'NetworkTopologyStrategy', '{datacenter}': {replication}}}
"""

TABLES = {
    # Rows into an article, best first: "who sends readers here?" (top-N incoming).
    "edges_in": """
CREATE TABLE IF NOT EXISTS {keyspace}.edges_in (
  lang text, month text, curr text, n bigint, prev text, type text,
  PRIMARY KEY ((lang, month, curr), n, prev)
) WITH CLUSTERING ORDER BY (n DESC, prev ASC)
""",
    # Rows out of an article, best first: "where do readers go next?" (top-N outgoing).
    "edges_out": """
CREATE TABLE IF NOT EXISTS {keyspace}.edges_out (
  lang text, month text, prev text, bucket int, n bigint, curr text, type text,
  PRIMARY KEY ((lang, month, prev, bucket), n, curr)
) WITH CLUSTERING ORDER BY (n DESC, curr ASC)
""",
    # Exact totals and source mix of one article in one month.
    "article_stats": """
CREATE TABLE IF NOT EXISTS {keyspace}.article_stats (
  lang text, month text, title text,
  incoming_total bigint, outgoing_total bigint, sources map<text, bigint>,
  PRIMARY KEY ((lang, month, title))
)
""",
    # Totals of a whole month.
    "month_stats": """
CREATE TABLE IF NOT EXISTS {keyspace}.month_stats (
  lang text, month text, rows bigint, total_clicks bigint, sources map<text, bigint>,
  PRIMARY KEY ((lang, month))
)
""",
    # The month's articles by PageRank, best first; at most PAGERANK_LIMIT rows.
    "pagerank": """
CREATE TABLE IF NOT EXISTS {keyspace}.pagerank (
  lang text, month text, rank int, title text, score double,
  PRIMARY KEY ((lang, month), rank)
) WITH CLUSTERING ORDER BY (rank ASC)
""",
    # Articles whose readers come from the same places, best first; at most ANALYTICS_TOP rows.
    "related": """
CREATE TABLE IF NOT EXISTS {keyspace}.related (
  lang text, month text, title text, rank int, related text, score double,
  PRIMARY KEY ((lang, month, title), rank)
) WITH CLUSTERING ORDER BY (rank ASC)
""",
    # The most probable k-step paths out of an article; at most ANALYTICS_TOP rows.
    "paths": """
CREATE TABLE IF NOT EXISTS {keyspace}.paths (
  lang text, month text, title text, rank int, path frozen<list<text>>, probability double,
  PRIMARY KEY ((lang, month, title), rank)
) WITH CLUSTERING ORDER BY (rank ASC)
""",
    # Status of each load, kept in one small partition so listing them is one read.
    "ingestion": """
CREATE TABLE IF NOT EXISTS {keyspace}.ingestion (
  scope text, lang text, month text, run text, status text, file text,
  rows_accepted bigint, rows_rejected bigint, rejected_by_reason map<text, bigint>,
  start_offsets map<int, bigint>, end_offsets map<int, bigint>,
  rows_processed bigint, seconds double, rows_per_second double, error text,
  started_at timestamp, produced_at timestamp, completed_at timestamp, analyzed_at timestamp,
  updated_at timestamp,
  PRIMARY KEY ((scope), lang, month)
)
""",
    # The streaming job's last progress report, for lag and throughput.
    "stream_progress": """
CREATE TABLE IF NOT EXISTS {keyspace}.stream_progress (
  query text PRIMARY KEY, batch_id bigint, end_offsets map<int, bigint>, latest_offsets map<int, bigint>,
  rows_in bigint, rows_out bigint, batch_ms bigint, input_rows_per_second double,
  processed_rows_per_second double, lag bigint, updated_at timestamp
)
""",
}


#: Columns added after a table first shipped, as (table, column, CQL type), for keyspaces created
#: before. Each is added only where system_schema says the column is missing.
ADDED_COLUMNS = [
    ("ingestion", "run", "text"),
    ("ingestion", "analyzed_at", "timestamp"),
]


def statements(keyspace: str, datacenter: str, replication: int) -> list[str]:
    """Every CREATE statement, keyspace first."""
    params = {"keyspace": keyspace, "datacenter": datacenter, "replication": replication}
    return [KEYSPACE.format(**params)] + [cql.format(**params) for cql in TABLES.values()]
