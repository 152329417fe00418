"""Graph analytics of one load: pure DataFrame -> DataFrame functions over its valid, de-duplicated rows.

Input columns: lang, month, prev, curr, type, n (one row per (lang, month, prev, curr), as
`transforms.deduplicated` leaves them). Articles are every curr and every prev that is not one of
the five other-* sources; an article->article row is a click whatever its type (link or other).
Every step keys on (lang, month), so a frame holding several loads gives each its own answer.
Formulas, caps and the proposed Cassandra tables: docs/analytics.md.
"""

from __future__ import annotations

from numbers import Real

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from contract.records import OTHER_SOURCES
from contract.schema import MAX_PATH_STEPS

GROUP = ["lang", "month"]

#: Largest `top` of `related` and `likely_paths`, which bounds their Cassandra partitions.
MAX_TOP = 100

#: Largest `limit` of `pagerank_top`, which bounds the (lang, month) partition of its table.
MAX_PAGERANK_TOP = 10_000

MAX_ITERATIONS = 100

#: Destinations per source that pair up in `related`: a source adds at most PER_SOURCE^2 / 2 pairs.
PER_SOURCE = 100


def _is_other() -> Column:
    return F.col("prev").isin(*OTHER_SOURCES)


def _article_rows(rows: DataFrame) -> DataFrame:
    return rows.where(~_is_other())


def _check_int(name: str, value, low: int, high: int | None = None) -> int:
    allowed = f"an integer in {low}..{high}" if high is not None else f"an integer >= {low}"
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        raise ValueError(f"{name} must be {allowed}, got {value!r}")
    return value


def _check_damping(damping) -> float:
    if isinstance(damping, bool) or not isinstance(damping, Real) or not 0.0 < float(damping) < 1.0:
        raise ValueError(f"damping must be a number strictly between 0 and 1 (e.g. 0.85), got {damping!r}")
    return float(damping)


def pagerank(rows: DataFrame, damping: float = 0.85, iterations: int = 20) -> DataFrame:
    """PageRank of every article, (lang, month, title, rank); walks start where the other-* clicks land."""
    d = _check_damping(damping)
    _check_int("iterations", iterations, 1, MAX_ITERATIONS)
    articles = _article_rows(rows)
    out = articles.groupBy(*GROUP, "prev").agg(F.sum("n").alias("out"))
    edges = articles.join(out, [*GROUP, "prev"]).select(
        *GROUP, F.col("prev").alias("src"), F.col("curr").alias("dst"), (F.col("n") / F.col("out")).alias("p")
    ).localCheckpoint()
    titles = rows.select(*GROUP, F.col("curr").alias("title")).union(
        articles.select(*GROUP, F.col("prev").alias("title"))
    ).distinct()
    entry = rows.where(_is_other()).groupBy(*GROUP, F.col("curr").alias("title")).agg(F.sum("n").alias("entry"))
    titles = titles.join(entry, [*GROUP, "title"], "left")
    totals = titles.groupBy(*GROUP).agg(F.count("*").alias("articles"), F.sum("entry").alias("entry_total"))
    teleport = F.when(F.col("entry_total") > 0, F.coalesce(F.col("entry"), F.lit(0)) / F.col("entry_total"))
    state = (
        titles.join(F.broadcast(totals), GROUP)
        .join(out.withColumnRenamed("prev", "title"), [*GROUP, "title"], "left")
        .select(
            *GROUP, "title",
            teleport.otherwise(1.0 / F.col("articles")).alias("teleport"),
            F.col("out").isNotNull().alias("linked"),
        )
        .withColumn("rank", F.col("teleport"))
        .localCheckpoint()
    )
    for _ in range(iterations):
        e, s = edges.alias("e"), state.alias("s")
        on = ((F.col("e.lang") == F.col("s.lang")) & (F.col("e.month") == F.col("s.month"))
              & (F.col("e.src") == F.col("s.title")))
        # Each article's row and the rank flowing into it, summed in one aggregation (one shuffle).
        flows = e.join(s, on).select(
            "e.lang", "e.month", F.col("e.dst").alias("title"), F.lit(None).cast("double").alias("teleport"),
            F.lit(None).cast("boolean").alias("linked"), (F.col("s.rank") * F.col("e.p")).alias("inflow"),
        )
        merged = (
            state.select(*GROUP, "title", "teleport", "linked", F.lit(0.0).alias("inflow"))
            .unionByName(flows)
            .groupBy(*GROUP, "title")
            .agg(F.max("teleport").alias("teleport"), F.max("linked").alias("linked"), F.sum("inflow").alias("inflow"))
        )
        # Rank mass that follows a link (held by articles with outgoing rows); the rest teleports.
        followed = state.where("linked").groupBy(*GROUP).agg(F.sum("rank").alias("followed"))
        state = (
            merged.join(F.broadcast(followed), GROUP, "left")
            .select(
                *GROUP, "title", "teleport", "linked",
                (F.lit(d) * F.col("inflow")
                 + F.col("teleport") * (F.lit(1.0) - F.lit(d) * F.coalesce(F.col("followed"), F.lit(0.0))))
                .alias("rank"),
            )
            # Every iteration: `state` feeds two branches, so an unbroken plan would double per iteration.
            .localCheckpoint()
        )
    return state.select(*GROUP, "title", "rank")


def pagerank_top(ranks: DataFrame, limit: int = 1000) -> DataFrame:
    """Rows of the proposed `pagerank` table: the best `limit` articles per (lang, month), positions 1..limit."""
    _check_int("limit", limit, 1, MAX_PAGERANK_TOP)
    order = Window.partitionBy(*GROUP).orderBy(F.col("rank").desc(), F.col("title").asc())
    return (
        ranks.withColumn("position", F.row_number().over(order))
        .where(F.col("position") <= limit)
        .select(*GROUP, F.col("position").alias("rank"), "title", F.col("rank").alias("score"))
    )


def related(rows: DataFrame, top: int = 10, min_common: int = 1, max_fanout: int = 1000,
            per_source: int = PER_SOURCE) -> DataFrame:
    """Per article, the `top` articles whose readers come from the same articles, by cosine of incoming clicks.

    Candidate pairs come only from each source's `per_source` largest destinations: the pair work
    is linear in the rows, not quadratic in each source's fanout (docs/analytics.md, "Scaling").
    """
    _check_int("top", top, 1, MAX_TOP)
    _check_int("min_common", min_common, 1)
    _check_int("max_fanout", max_fanout, 2)
    _check_int("per_source", per_source, 2)
    links = _article_rows(rows).select(
        *GROUP, F.col("prev").alias("source"), F.col("curr").alias("title"), F.col("n").cast("double").alias("x")
    )
    by_source = Window.partitionBy(*GROUP, "source")
    kept = (
        links.withColumn("fanout", F.count("*").over(by_source))
        .withColumn("_i", F.row_number().over(by_source.orderBy(F.col("x").desc(), F.col("title").asc())))
        .where(F.col("fanout") <= max_fanout)
        .drop("fanout")
        .localCheckpoint()
    )
    norms = kept.groupBy(*GROUP, "title").agg(F.sqrt(F.sum(F.col("x") * F.col("x"))).alias("norm"))
    candidates = kept.where(F.col("_i") <= per_source)
    left = candidates.select(*GROUP, "source", F.col("title").alias("a"), F.col("x").alias("xa"))
    right = candidates.select(*GROUP, "source", F.col("title").alias("b"), F.col("x").alias("xb"))
    pairs = (
        left.join(right, [*GROUP, "source"])
        .where(F.col("a") < F.col("b"))
        .groupBy(*GROUP, "a", "b")
        .agg(F.sum(F.col("xa") * F.col("xb")).alias("dot"), F.count("*").alias("common"))
        .where(F.col("common") >= min_common)
    )
    scored = (
        pairs.join(norms.withColumnRenamed("title", "a").withColumnRenamed("norm", "na"), [*GROUP, "a"])
        .join(norms.withColumnRenamed("title", "b").withColumnRenamed("norm", "nb"), [*GROUP, "b"])
        .select(*GROUP, "a", "b", F.least(F.col("dot") / (F.col("na") * F.col("nb")), F.lit(1.0)).alias("score"))
    )
    both = scored.select(*GROUP, F.col("a").alias("title"), F.col("b").alias("related"), "score").unionByName(
        scored.select(*GROUP, F.col("b").alias("title"), F.col("a").alias("related"), "score")
    )
    order = Window.partitionBy(*GROUP, "title").orderBy(F.col("score").desc(), F.col("related").asc())
    return both.withColumn("rank", F.row_number().over(order)).where(F.col("rank") <= top)


def likely_paths(rows: DataFrame, k: int = MAX_PATH_STEPS, top: int = 10) -> DataFrame:
    """Per article and per length 1..k, the `top` most probable click paths of exactly that many steps from it.

    Rows of `likely_paths`: lang, month, title, steps, rank, path (starting with `title`), probability.
    Beam-pruned per depth, so the answer is exact only while the beam is wide enough (docs/analytics.md).
    """
    _check_int("k", k, 1, MAX_PATH_STEPS)
    _check_int("top", top, 1, MAX_TOP)
    articles = _article_rows(rows)
    out = articles.groupBy(*GROUP, "prev").agg(F.sum("n").alias("out"))
    # A path never revisits a node, so self-loops are never taken (they still count in `out`).
    transitions = (
        articles.where(F.col("prev") != F.col("curr"))
        .join(out, [*GROUP, "prev"])
        .select(*GROUP, F.col("prev").alias("last"), F.col("curr").alias("dst"), (F.col("n") / F.col("out")).alias("p"))
    )
    # `open`: the step lands on an article with steps of its own, so the path may grow further.
    sources = transitions.select(*GROUP, F.col("last").alias("dst"), F.lit(True).alias("open")).distinct()
    # Per source and openness only the best top + k - 1 transitions can enter a beam: a path about
    # to take its d-th step has d - 1 <= k - 1 earlier nodes that may block one, and one parent's
    # top extensions (open ones, for the frontier) already fill `top`.
    by_p = Window.partitionBy(*GROUP, "last", "open").orderBy(F.col("p").desc(), F.col("dst").asc())
    steps = (
        transitions.join(sources, [*GROUP, "dst"], "left")
        .select(*GROUP, "last", "dst", "p", F.coalesce("open", F.lit(False)).alias("open"))
        .withColumn("_i", F.row_number().over(by_p))
        .where(F.col("_i") <= top + k - 1)
        .drop("_i")
        .localCheckpoint()
    )
    frontier = steps.select(*GROUP, "last").distinct().select(
        *GROUP, F.col("last").alias("start"), F.array("last").alias("path"), "last", F.lit(1.0).alias("probability")
    )
    best = Window.partitionBy(*GROUP, "start").orderBy(F.col("probability").desc(), F.col("path").asc())
    # The beam ranks open paths apart, so dead ends (kept as answers of their own length) never
    # take the places of paths that can still grow.
    beam = Window.partitionBy(*GROUP, "start", "open").orderBy(F.col("probability").desc(), F.col("path").asc())
    found = []
    for depth in range(1, k + 1):
        grown = (
            frontier.alias("f").join(
                steps.alias("s"),
                (F.col("f.lang") == F.col("s.lang")) & (F.col("f.month") == F.col("s.month"))
                & (F.col("f.last") == F.col("s.last")) & ~F.array_contains(F.col("f.path"), F.col("s.dst")),
            )
            .select(
                "f.lang", "f.month", "f.start", F.concat(F.col("f.path"), F.array(F.col("s.dst"))).alias("path"),
                F.col("s.dst").alias("last"), (F.col("f.probability") * F.col("s.p")).alias("probability"), "s.open",
            )
            .withColumn("rank", F.row_number().over(best))
            .withColumn("_i", F.row_number().over(beam))
            .where((F.col("rank") <= top) | (F.col("open") & (F.col("_i") <= top)))
            .localCheckpoint()
        )
        found.append(
            grown.where(F.col("rank") <= top).select(
                *GROUP, F.col("start").alias("title"), F.lit(depth).alias("steps"), "rank", "path", "probability"
            )
        )
        frontier = (grown.where(F.col("open") & (F.col("_i") <= top))
                    .select(*GROUP, "start", "path", "last", "probability"))
    paths = found[0]
    for more in found[1:]:
        paths = paths.unionByName(more)
    return paths
