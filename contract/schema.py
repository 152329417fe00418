"""The Cassandra schema, designed query-first: every dashboard question is one partition read.

Statements are templates over the keyspace name; `statements()` renders them in order and
`jobs/apply_schema.py` applies them. Readers and writers take table names from `TABLES`.
"""

from __future__ import annotations

import re

#: Outgoing rows of the five other-* pseudo-articles run to millions per month; spreading them
#: over this many partitions keeps each well under 100 MB. Real articles use bucket 0 only, and
#: readers of an other-* source merge all buckets, so only the writer needs the bucket function.
SOURCE_BUCKETS = 64

#: Rows kept per partition by the analytics tables. Fixed, so that a re-run overwrites every
#: position it wrote before (positions are clustering keys).
PAGERANK_LIMIT = 1000
ANALYTICS_TOP = 10
TOP_ARTICLES_LIMIT = 1000
MOVERS_LIMIT = 100

#: Longest path of the `likely_paths` table, in clicks; paths of every length 1..MAX_PATH_STEPS are kept.
MAX_PATH_STEPS = 4

#: `month_articles` spreads a month's articles over this many partitions (English: ~6M articles,
#: so ~100k rows and a few MB per partition), so Spark can read one month back without a scan.
ARTICLE_BUCKETS = 64

#: Search (`search_top`, `search_titles`): a folded query of at most SEARCH_PREFIX_CHARS characters is answered
#: from the SEARCH_TOP most-read titles of its prefix, stored in rank order; SEARCH_TOP is the API's largest
#: search limit. A longer query reads at most SEARCH_SCAN titles of its range in fold order and ranks those:
#: what it returns always matches, but past SEARCH_SCAN matches its ranking is of the first SEARCH_SCAN only.
SEARCH_PREFIX_CHARS = 3
SEARCH_TOP = 100
SEARCH_SCAN = 1000

#: Scope partition of the `ingestion` table: all loads, a few hundred rows at most.
INGESTION_SCOPE = "loads"

#: Names of the streaming job's two queries, shared because the `stream_progress` table's rows are keyed
#: by them: the job writes the rows query's progress, the webui and the benchmarks read it.
ROWS_QUERY = "rows"
LOADS_QUERY = "loads"

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
    # The month's most-read articles, best first; at most TOP_ARTICLES_LIMIT rows.
    "top_articles": """
CREATE TABLE IF NOT EXISTS {keyspace}.top_articles (
  lang text, month text, rank int, title text, incoming_total bigint,
  PRIMARY KEY ((lang, month), rank)
) WITH CLUSTERING ORDER BY (rank ASC)
""",
    # Every article's totals of one month, bucketed by title hash: the input of month-over-month
    # comparisons (movers), read back by Spark one (lang, month) at a time.
    "month_articles": """
CREATE TABLE IF NOT EXISTS {keyspace}.month_articles (
  lang text, month text, bucket int, title text, incoming_total bigint, outgoing_total bigint,
  PRIMARY KEY ((lang, month, bucket), title)
)
""",
    # The biggest changes in incoming clicks against the previous month, by |change|; at most
    # MOVERS_LIMIT rows. An article absent from one of the two months counts 0 there.
    "movers": """
CREATE TABLE IF NOT EXISTS {keyspace}.movers (
  lang text, month text, rank int, title text, incoming_total bigint, previous_total bigint, change bigint,
  PRIMARY KEY ((lang, month), rank)
) WITH CLUSTERING ORDER BY (rank ASC)
""",
    # One article's exact totals and incoming source mix in every loaded month: a partition holds one row per
    # month, so the article page reads one row of it and the trend chart the whole partition. (One copy per
    # article and month: an English month writes ~6M of these rows, and a second per-title table of the
    # same totals cost a bulk write of its own.)
    "article_trend": """
CREATE TABLE IF NOT EXISTS {keyspace}.article_trend (
  lang text, title text, month text, incoming_total bigint, outgoing_total bigint, sources map<text, bigint>,
  source_count bigint, destination_count bigint,
  PRIMARY KEY ((lang, title), month)
) WITH CLUSTERING ORDER BY (month DESC)
""",
    # Search, short queries: the SEARCH_TOP most-read titles (by incoming clicks, then title) of every folded
    # prefix of 1..SEARCH_PREFIX_CHARS characters (`contract.records.fold`), best first, so a query of up to
    # SEARCH_PREFIX_CHARS characters is one partition read in rank order.
    "search_top": """
CREATE TABLE IF NOT EXISTS {keyspace}.search_top (
  lang text, month text, prefix text, rank int, title text, incoming_total bigint,
  PRIMARY KEY ((lang, month, prefix), rank)
) WITH CLUSTERING ORDER BY (rank ASC)
""",
    # Search, longer queries: every title under the first SEARCH_PREFIX_CHARS characters of its fold, clustered
    # by fold, so a query is one range read of its partition (at most SEARCH_SCAN rows), ranked by the reader.
    # Largest partition on enwiki: the titles folding to "the...", a few hundred thousand rows, ~20 MB.
    "search_titles": """
CREATE TABLE IF NOT EXISTS {keyspace}.search_titles (
  lang text, month text, prefix text, folded text, title text, incoming_total bigint,
  PRIMARY KEY ((lang, month, prefix), folded, title)
)
""",
    # Articles whose readers come from the same places, best first; at most ANALYTICS_TOP rows.
    "related": """
CREATE TABLE IF NOT EXISTS {keyspace}.related (
  lang text, month text, title text, rank int, related text, score double,
  PRIMARY KEY ((lang, month, title), rank)
) WITH CLUSTERING ORDER BY (rank ASC)
""",
    # The most probable paths of exactly `steps` clicks out of an article, for steps 1..MAX_PATH_STEPS;
    # at most ANALYTICS_TOP rows per length. `path` starts with the article itself.
    "likely_paths": """
CREATE TABLE IF NOT EXISTS {keyspace}.likely_paths (
  lang text, month text, title text, steps int, rank int, path frozen<list<text>>, probability double,
  PRIMARY KEY ((lang, month, title), steps, rank)
) WITH CLUSTERING ORDER BY (steps ASC, rank ASC)
""",
    # Status of each load, kept in one small partition so listing them is one read. While a load is
    # loading or processing, rows_processed counts the rows of it the stream has validated so far, and
    # validated_offsets holds, per RAW partition, the offset after the last record counted (so a replayed
    # micro-batch counts nothing twice); once complete, rows_processed is the distinct rows it stored.
    "ingestion": """
CREATE TABLE IF NOT EXISTS {keyspace}.ingestion (
  scope text, lang text, month text, run text, status text, file text, checksum text,
  rows_accepted bigint, rows_rejected bigint, rejected_by_reason map<text, bigint>,
  start_offsets map<int, bigint>, end_offsets map<int, bigint>, validated_offsets map<int, bigint>,
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
    ("ingestion", "checksum", "text"),
    ("ingestion", "validated_offsets", "map<int, bigint>"),
    ("article_trend", "sources", "map<text, bigint>"),
    ("article_trend", "source_count", "bigint"),
    ("article_trend", "destination_count", "bigint"),
]

#: Tables earlier versions created and nothing reads any more: the set-up drops them from older keyspaces.
#: `article_stats` held what `article_trend` now holds; `titles` was the search index before `search_*`.
RETIRED_TABLES = ["article_stats", "titles"]
DROP_TABLE = "DROP TABLE IF EXISTS {keyspace}.{table}"


def partition_key(table: str) -> list[str]:
    """The partition key columns of `table`, as its CREATE statement declares them."""
    return _key(table)[0]


def primary_key(table: str) -> list[str]:
    """Every primary key column of `table`: its partition key, then its clustering columns."""
    partition, clustering = _key(table)
    return partition + clustering


def _key(table: str) -> tuple[list[str], list[str]]:
    match = re.search(r"PRIMARY KEY \(\(([^)]*)\)([^)]*)\)", TABLES[table])
    if not match:
        raise ValueError(f"{table} does not declare PRIMARY KEY ((partition key), clustering columns)")
    partition, clustering = ([c.strip() for c in group.split(",") if c.strip()] for group in match.groups())
    return partition, clustering


def columns(table: str) -> list[tuple[str, str]]:
    """Every column of `table` as (name, CQL type), in the order its CREATE statement declares them."""
    body = TABLES[table].split("(", 1)[1].split("PRIMARY KEY")[0]
    # Commas inside <...> belong to a type (map<text, bigint>), not to the column list.
    specs = [s.strip() for s in re.split(r",(?![^<]*>)", body) if s.strip()]
    return [tuple(spec.split(None, 1)) for spec in specs]


INSERT = "INSERT INTO {keyspace}.{table} ({names}) VALUES ({markers}) USING TIMESTAMP {timestamp}"


def insert(keyspace: str, table: str, timestamp: int, names=None) -> str:
    """An INSERT of every column of `table` (or of `names`, some of them) at a fixed write `timestamp`
    (microseconds), so that writing the same rows again (a retried bulk load) leaves exactly the same cells."""
    names = [name for name, _ in columns(table)] if names is None else list(names)
    if unknown := set(names) - {name for name, _ in columns(table)}:
        raise ValueError(f"{table} has no column {sorted(unknown)}")
    return INSERT.format(keyspace=keyspace, table=table, names=", ".join(names),
                         markers=", ".join("?" * len(names)), timestamp=int(timestamp))


def create_table(keyspace: str, table: str) -> str:
    """The CREATE statement of `table` in `keyspace`."""
    return TABLES[table].format(keyspace=keyspace).strip()


EXISTS = "SELECT {first} FROM {keyspace}.{table} WHERE {where} LIMIT 1"


def exists(keyspace: str, table: str, equal, among=()) -> str:
    """A query for any one row of `table` whose `equal` columns are each one value and `among` columns
    (`IN ?`) any of a list: whether partitions hold anything, asked without a scan."""
    where = [f"{c}=?" for c in equal] + [f"{c} IN ?" for c in among]
    return EXISTS.format(first=columns(table)[0][0], keyspace=keyspace, table=table, where=" AND ".join(where))


DELETE = "DELETE FROM {keyspace}.{table} WHERE {where}"


def delete(keyspace: str, table: str, columns) -> str:
    """A DELETE of one partition of `table` (`columns` its partition key) or one row (its primary key),
    with a `?` marker per column in the order given."""
    columns = list(columns)
    if len(set(columns)) != len(columns) or set(columns) not in (set(partition_key(table)), set(primary_key(table))):
        raise ValueError(f"a delete of {table} names its partition key {partition_key(table)} "
                         f"or its primary key {primary_key(table)}, got {columns}")
    return DELETE.format(keyspace=keyspace, table=table, where=" AND ".join(f"{c}=?" for c in columns))


def statements(keyspace: str, datacenter: str, replication: int) -> list[str]:
    """Every CREATE statement, keyspace first."""
    params = {"keyspace": keyspace, "datacenter": datacenter, "replication": replication}
    return [KEYSPACE.format(**params)] + [cql.format(**params) for cql in TABLES.values()]


# Roles. Authentication and authorization are on in every deployment; the jobs write as WRITER,
# the web UI reads as READER, and ADMIN (which replaces Cassandra's default `cassandra`
# superuser) applies the schema. Passwords are the deployment's secrets, never constants.
ADMIN, WRITER, READER = "admin", "writer", "reader"
#: Keyspace permissions of each login role; the admin is a superuser instead.
ROLE_PERMISSIONS = {WRITER: ("SELECT", "MODIFY"), READER: ("SELECT",)}
#: The superuser a new cluster starts with, which only the very first set-up logs in as.
DEFAULT_SUPERUSER = ("cassandra", "cassandra")

AUTH_KEYSPACE = """
ALTER KEYSPACE system_auth
  WITH replication = {{'class': 'NetworkTopologyStrategy', '{datacenter}': {replication}}}
"""
KEYSPACE_REPLICATION = "SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = %s"
#: How system_schema states AUTH_KEYSPACE's replication once it is applied.
NETWORK_TOPOLOGY = "org.apache.cassandra.locator.NetworkTopologyStrategy"
# Passwords are bound as parameters (the driver quotes them); role names come from role_name().
CREATE_ROLE = "CREATE ROLE IF NOT EXISTS {role} WITH SUPERUSER = {superuser} AND LOGIN = true AND PASSWORD = %s"
SET_PASSWORD = "ALTER ROLE {role} WITH PASSWORD = %s"
ROLE_EXISTS = "SELECT role FROM system_auth.roles WHERE role = %s"
GRANT = "GRANT {permission} ON KEYSPACE {keyspace} TO {role}"
DROP_ROLE = "DROP ROLE IF EXISTS {role}"


def role_name(keyspace: str, role: str) -> str:
    """The Cassandra role of one of ADMIN, WRITER, READER for this keyspace: `clickstream_reader`."""
    return f"{keyspace}_{role}"


def grants(keyspace: str, role: str) -> list[str]:
    return [GRANT.format(permission=p, keyspace=keyspace, role=role_name(keyspace, role))
            for p in ROLE_PERMISSIONS[role]]
