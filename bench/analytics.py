"""The analytics' cost without a stack: each function timed in Spark local mode on bench.pipeline's month.

    python -m bench.analytics [--rows 1000000] [--cores 2] [--only related] [--exact-related [--per-source 50 ...]]

Reads the month with Spark's CSV reader (a generated month has one row per pair), runs PageRank,
related articles and likely paths with the stored settings, and prints each one's seconds and rows.
With --exact-related it also runs `related` without the per-source cap and prints both timings
side by side, and how many of each article's capped top list are in its exact one.
"""

from __future__ import annotations

import argparse
import time

from bench.pipeline import LANG, MONTH, SEED
from bench.producer import bench_file
from contract.records import VALUE_FIELDS
from contract.schema import ANALYTICS_TOP, MAX_PATH_STEPS, PAGERANK_LIMIT

#: A cap no source reaches: `related` scores every pair the hub cap leaves.
UNCAPPED = 10**9


def session(cores: int):
    from pyspark.sql import SparkSession

    return (SparkSession.builder.master(f"local[{cores}]").appName("bench-analytics")
            .config("spark.ui.enabled", "false").config("spark.ui.showConsoleProgress", "false")
            .config("spark.sql.shuffle.partitions", str(4 * cores))
            .config("spark.driver.memory", "6g")
            .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
            .getOrCreate())


def month_rows(spark, rows: int):
    from pyspark.sql import functions as F

    path = bench_file(rows, LANG, MONTH, seed=SEED)
    # A dump line holds the record's fields after lang and month.
    columns = ", ".join(f"{name} {'long' if name == 'n' else 'string'}" for name in VALUE_FIELDS[2:])
    frame = spark.read.csv(str(path), sep="\t", quote="", schema=columns)
    return frame.withColumn("lang", F.lit(LANG)).withColumn("month", F.lit(MONTH)).persist()


def timed(name: str, build):
    """Build the frame with `build()` and count it. The functions checkpoint their steps as they build
    (localCheckpoint is eager), so the clock starts before the build."""
    started = time.monotonic()
    df = build().persist()
    count = df.count()
    seconds = time.monotonic() - started
    print(f"{name:<22}{seconds:>10.1f} s{count:>14,} rows", flush=True)
    return df, seconds


def overlap(capped, exact) -> tuple[float, float]:
    """Mean share of an article's exact top list that its capped list holds, and the share of identical lists."""
    from pyspark.sql import functions as F

    def lists(df):
        return df.groupBy("title").agg(F.collect_set("related").alias("related"))

    both = lists(exact).alias("e").join(lists(capped).alias("c"), "title", "left")
    found = F.size(F.array_intersect("e.related", F.coalesce("c.related", F.array()))) / F.size("e.related")
    row = both.select(F.avg(found).alias("share"), F.avg((found == 1).cast("double")).alias("same")).first()
    return row.share, row.same


def main() -> None:
    from jobs import analytics

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--only", choices=["pagerank", "related", "paths"], action="append")
    parser.add_argument("--exact-related", action="store_true",
                        help="related with and without the per-source cap (alone, unless --only)")
    parser.add_argument("--per-source", type=int, action="append",
                        help="a cap for --exact-related to compare (repeatable; default: jobs.analytics.PER_SOURCE)")
    args = parser.parse_args()
    spark = session(args.cores)
    rows = month_rows(spark, args.rows)
    print(f"{rows.count():,} rows read, local[{args.cores}]", flush=True)  # read once, before any clock
    runs = {
        "pagerank": lambda: analytics.pagerank_top(analytics.pagerank(rows), PAGERANK_LIMIT),
        "related": lambda: analytics.related(rows, top=ANALYTICS_TOP),
        "paths": lambda: analytics.likely_paths(rows, k=MAX_PATH_STEPS, top=ANALYTICS_TOP),
    }
    for name in args.only or ([] if args.exact_related else runs):
        timed(name, runs[name])[0].unpersist()
    if args.exact_related:
        exact, slow = timed("related (no cap)",
                            lambda: analytics.related(rows, top=ANALYTICS_TOP, per_source=UNCAPPED))
        for cap in args.per_source or [analytics.PER_SOURCE]:
            capped, fast = timed(f"related (cap {cap})",
                                 lambda: analytics.related(rows, top=ANALYTICS_TOP, per_source=cap))
            share, same = overlap(capped, exact)
            print(f"cap {cap}: {fast / slow:.3f} of the uncapped time; of each exact top {ANALYTICS_TOP}, the capped "
                  f"list holds {share:.1%} on average, and is the same set for {same:.1%} of articles", flush=True)
            capped.unpersist()


if __name__ == "__main__":
    main()
