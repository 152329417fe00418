"""jobs.analytics against tiny hand-made graphs whose answers are computed here in plain Python."""

import math
from collections import defaultdict

import pytest

from contract.records import OTHER_SOURCES
from jobs import analytics
from tests.conftest import read_sample

pytestmark = pytest.mark.spark

SCHEMA = "lang string, month string, prev string, curr string, type string, n long"


def _frame(spark, rows, lang="en", month="2024-11"):
    data = [(lang, month, p, c, "external" if p in OTHER_SOURCES else t, n) for p, c, t, n in rows]
    return spark.createDataFrame(data, SCHEMA)


# PageRank ---------------------------------------------------------------------------------------

# A and B are entered from search; C from outside; D is dangling; E only ever clicks out (nobody
# reaches it, so its rank is 0 after one step).
PR_GRAPH = [
    ("other-search", "A", "external", 60), ("other-search", "B", "external", 30),
    ("other-external", "C", "external", 10),
    ("A", "B", "link", 20), ("A", "C", "link", 10), ("B", "C", "link", 15),
    ("C", "A", "other", 5), ("C", "D", "link", 5), ("E", "A", "link", 3),
]


def _pagerank_reference(rows, damping, iterations):
    """Power iteration written out plainly: r' = d * sum_u r(u) n(u,v)/out(u) + (1 - d + d*dangling) t(v)."""
    nodes = {c for _, c, _, _ in rows} | {p for p, _, _, _ in rows if p not in OTHER_SOURCES}
    out, entry = defaultdict(int), defaultdict(int)
    for p, c, _, n in rows:
        if p in OTHER_SOURCES:
            entry[c] += n
        else:
            out[p] += n
    total = sum(entry.values())
    teleport = {v: (entry[v] / total if total else 1 / len(nodes)) for v in nodes}
    rank = dict(teleport)
    for _ in range(iterations):
        dangling = sum(rank[v] for v in nodes if out[v] == 0)
        new = {v: (1 - damping + damping * dangling) * teleport[v] for v in nodes}
        for p, c, _, n in rows:
            if p not in OTHER_SOURCES:
                new[c] += damping * rank[p] * n / out[p]
        rank = new
    return rank


def test_reference_pagerank_by_hand():
    """The plain-Python reference, one step from r0 = t = (A .6, B .3, C .1), worked out by hand."""
    a = 0.85 * (0.1 * 5 / 10) + 0.15 * 0.6          # from C; D (dangling) holds no rank yet
    b = 0.85 * (0.6 * 20 / 30) + 0.15 * 0.3
    c = 0.85 * (0.6 * 10 / 30 + 0.3 * 15 / 15) + 0.15 * 0.1
    d = 0.85 * (0.1 * 5 / 10)
    one = _pagerank_reference(PR_GRAPH, 0.85, 1)
    assert one == pytest.approx({"A": a, "B": b, "C": c, "D": d, "E": 0.0}, rel=1e-12, abs=1e-15)
    # Iterated long enough it is the fixed point: r = d P^T r + (1 - d + d * r(D)) t.
    r = _pagerank_reference(PR_GRAPH, 0.85, 200)
    leak = 1 - 0.85 + 0.85 * r["D"]
    assert r["C"] == pytest.approx(0.85 * (r["A"] / 3 + r["B"]) + leak * 0.1)
    assert r["D"] == pytest.approx(0.85 * r["C"] / 2)


def test_pagerank_equals_power_iteration(spark):
    ranks = analytics.pagerank(_frame(spark, PR_GRAPH), 0.85, 6)
    got = {r.title: r.rank for r in ranks.collect()}
    expected = _pagerank_reference(PR_GRAPH, 0.85, 6)
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert sum(got.values()) == pytest.approx(1.0, abs=1e-12)
    assert got["E"] == pytest.approx(0.0, abs=1e-15)
    best = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))[:2]
    top = analytics.pagerank_top(ranks, limit=2).orderBy("rank").collect()
    assert [(r.rank, r.title) for r in top] == [(1, best[0][0]), (2, best[1][0])]
    assert [r.score for r in top] == pytest.approx([v for _, v in best])


def test_pagerank_uniform_teleport_without_other_sources_and_per_load(spark):
    cycle = [("X", "Y", "link", 1), ("Y", "Z", "link", 1), ("Z", "X", "link", 2), ("Z", "W", "link", 2)]
    frame = _frame(spark, cycle, lang="de").unionByName(_frame(spark, PR_GRAPH[:4]))
    got = {(r.lang, r.title): r.rank for r in analytics.pagerank(frame, 0.5, 2).collect()}
    de = _pagerank_reference(cycle, 0.5, 2)
    en = _pagerank_reference(PR_GRAPH[:4], 0.5, 2)
    assert {t: v for (lang, t), v in got.items() if lang == "de"} == pytest.approx(de, rel=1e-9)
    assert {t: v for (lang, t), v in got.items() if lang == "en"} == pytest.approx(en, rel=1e-9)


# Related ----------------------------------------------------------------------------------------

# Incoming vectors over article sources: X = (S1 3, S2 4), Y = (S1 4, S2 3), Z = (S2 5, S3 2).
# H links to four articles, above max_fanout=3, so it is skipped; other-search is never a source.
REL_GRAPH = [
    ("S1", "X", "link", 3), ("S1", "Y", "link", 4),
    ("S2", "X", "link", 4), ("S2", "Y", "link", 3), ("S2", "Z", "link", 5),
    ("S3", "Z", "link", 2),
    ("H", "X", "link", 50), ("H", "Y", "link", 50), ("H", "Z", "link", 50), ("H", "W", "link", 50),
    ("other-search", "X", "external", 1000), ("other-search", "Z", "external", 1000),
]


def test_related_cosines_by_hand(spark):
    got = analytics.related(_frame(spark, REL_GRAPH), top=10, min_common=1, max_fanout=3).collect()
    by = {(r.title, r.related): (r.score, r.rank) for r in got}
    xy = (3 * 4 + 4 * 3) / (5 * 5)                       # 0.96
    xz = (4 * 5) / (5 * math.sqrt(29))                   # ~0.743
    yz = (3 * 5) / (5 * math.sqrt(29))                   # ~0.557
    assert set(by) == {("X", "Y"), ("Y", "X"), ("X", "Z"), ("Z", "X"), ("Y", "Z"), ("Z", "Y")}
    assert by[("X", "Y")] == (pytest.approx(xy), 1) and by[("X", "Z")] == (pytest.approx(xz), 2)
    assert by[("Y", "X")] == (pytest.approx(xy), 1) and by[("Y", "Z")] == (pytest.approx(yz), 2)
    assert by[("Z", "X")] == (pytest.approx(xz), 1) and by[("Z", "Y")] == (pytest.approx(yz), 2)


def test_related_min_common_top_and_cap(spark):
    frame = _frame(spark, REL_GRAPH)
    two = analytics.related(frame, top=10, min_common=2, max_fanout=3).collect()
    assert {(r.title, r.related) for r in two} == {("X", "Y"), ("Y", "X")}
    one = analytics.related(frame, top=1, max_fanout=3).collect()
    assert {(r.title, r.related, r.rank) for r in one} == {("X", "Y", 1), ("Y", "X", 1), ("Z", "X", 1)}
    # With H kept, W joins (through H only) and every vector gains the H term.
    wide = {(r.title, r.related): r.score for r in analytics.related(frame, max_fanout=4).collect()}
    assert wide[("W", "X")] == pytest.approx(50 * 50 / (50 * math.sqrt(9 + 16 + 2500)))


def test_related_pairs_only_each_sources_largest_destinations(spark):
    # S2's two largest destinations are Z (5) and X (4): Y (3) pairs only through S1, and Z never with Y.
    got = {(r.title, r.related): r.score
           for r in analytics.related(_frame(spark, REL_GRAPH), max_fanout=3, per_source=2).collect()}
    assert set(got) == {("X", "Y"), ("Y", "X"), ("X", "Z"), ("Z", "X")}
    assert got[("X", "Y")] == pytest.approx(3 * 4 / (5 * 5))  # the norms still count every source
    assert got[("X", "Z")] == pytest.approx(4 * 5 / (5 * math.sqrt(29)))


# Likely paths -----------------------------------------------------------------------------------

# out(A)=10, out(B)=8, out(C)=2, out(F)=1; D and E are dead ends. B->A and C->A close cycles.
PATH_GRAPH = [
    ("A", "B", "link", 6), ("A", "C", "link", 3), ("A", "D", "other", 1),
    ("B", "C", "link", 2), ("B", "A", "link", 2), ("B", "E", "link", 4),
    ("C", "A", "link", 1), ("C", "F", "link", 1),
    ("F", "B", "link", 1),
    ("other-search", "A", "external", 99), ("other-empty", "D", "external", 7),
]


def _paths_reference(rows, k):
    """Every simple path of exactly 1..k steps per start, exact probability: {(start, steps): [(p, path)]}."""
    out, steps = defaultdict(int), defaultdict(list)
    for p, c, _, n in rows:
        if p not in OTHER_SOURCES:
            out[p] += n
    for p, c, _, n in rows:
        if p not in OTHER_SOURCES and p != c:
            steps[p].append((c, n / out[p]))
    found = defaultdict(list)

    def walk(path, prob):
        if len(path) > 1:
            found[(path[0], len(path) - 1)].append((prob, path))
        if len(path) <= k:
            for c, q in steps[path[-1]]:
                if c not in path:
                    walk(path + [c], prob * q)

    for start in list(steps):
        walk([start], 1.0)
    return {key: sorted(v, key=lambda pv: (-pv[0], pv[1])) for key, v in found.items()}


def _paths(df):
    got = defaultdict(list)
    for r in df.orderBy("title", "steps", "rank").collect():
        got[(r.title, r.steps)].append((r.rank, list(r.path), r.probability))
    return got


def test_likely_paths_by_hand(spark):
    df = analytics.likely_paths(_frame(spark, PATH_GRAPH), k=2, top=10)
    assert df.columns == ["lang", "month", "title", "steps", "rank", "path", "probability"]
    got = _paths(df)
    assert [(rank, path, p) for rank, path, p in got[("A", 1)]] == [
        (1, ["A", "B"], pytest.approx(0.6)), (2, ["A", "C"], pytest.approx(0.3)), (3, ["A", "D"], pytest.approx(0.1))
    ]
    # A-C-A would close a cycle; A-B-C and A-C-F tie at 0.15 and the smaller path goes first.
    assert [(rank, path) for rank, path, _ in got[("A", 2)]] == [
        (1, ["A", "B", "E"]), (2, ["A", "B", "C"]), (3, ["A", "C", "F"])
    ]
    assert [p for _, _, p in got[("A", 2)]] == pytest.approx([0.6 * 0.5, 0.6 * 0.25, 0.3 * 0.5])
    # From F the only step is B (probability 1); B->F is absent, so the 2-step paths are F-B-{E,A,C}.
    assert got[("F", 1)] == [(1, ["F", "B"], pytest.approx(1.0))]
    assert [(path, p) for _, path, p in got[("F", 2)]] == [
        (["F", "B", "E"], pytest.approx(0.5)), (["F", "B", "A"], pytest.approx(0.25)),
        (["F", "B", "C"], pytest.approx(0.25)),
    ]
    assert {title for title, _ in got} == {"A", "B", "C", "F"}  # dead ends D and E start no path


def test_likely_paths_match_exhaustive_search_when_the_beam_is_wide(spark):
    got = _paths(analytics.likely_paths(_frame(spark, PATH_GRAPH), k=4, top=50))
    expected = _paths_reference(PATH_GRAPH, 4)
    assert set(got) == set(expected)
    for key, paths in expected.items():
        assert [path for _, path, _ in got[key]] == [path for _, path in paths], key
        assert [p for _, _, p in got[key]] == pytest.approx([p for p, _ in paths])
    # Four steps, ending in the dead end E; from B no 4-step path exists (B-C-F's only way on is B).
    assert ["A", "C", "F", "B", "E"] in [path for _, path, _ in got[("A", 4)]]
    assert ("B", 3) in got and ("B", 4) not in got


def test_likely_paths_beam_keeps_best_per_depth(spark):
    got = _paths(analytics.likely_paths(_frame(spark, PATH_GRAPH), k=2, top=1))
    assert got[("A", 1)] == [(1, ["A", "B"], pytest.approx(0.6))]
    assert got[("A", 2)] == [(1, ["A", "B", "E"], pytest.approx(0.3))]
    # B's best step leads to the dead end E (0.5): the 1-step answer, but not kept to grow, so
    # the beam goes on with B-A (0.25, ties B-C by path). B-A-C (0.075) is then the 2-step answer,
    # though the exact best is B-C-A (0.125): with a narrow beam the search is approximate.
    assert got[("B", 1)] == [(1, ["B", "E"], pytest.approx(0.5))]
    assert got[("B", 2)] == [(1, ["B", "A", "C"], pytest.approx(0.25 * 0.3))]


def test_likely_paths_keep_a_sources_open_step_behind_more_dead_ends_than_the_beam_is_wide(spark):
    # S's five dead ends outrank its one open step; with top 2 and k 2 S keeps its best 3 steps of
    # each kind, so S-O still grows, and the answer is the exhaustive search's.
    graph = [*[("S", f"D{i}", "link", 10) for i in range(1, 6)], ("S", "O", "link", 5),
             ("O", "T", "link", 1), ("O", "U", "link", 1), ("T", "S", "link", 1)]
    got = _paths(analytics.likely_paths(_frame(spark, graph), k=2, top=2))
    expected = _paths_reference(graph, 2)
    for key in expected:
        assert [path for _, path, _ in got[key]] == [path for _, path in expected[key][:2]], key
    assert [path for _, path, _ in got[("S", 2)]] == [["S", "O", "T"], ["S", "O", "U"]]

# Validation and invariants ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda df: analytics.pagerank(df, damping=1.0), "damping must be a number strictly between 0 and 1"),
        (lambda df: analytics.pagerank(df, damping="0.85"), "damping must be"),
        (lambda df: analytics.pagerank(df, iterations=0), r"iterations must be an integer in 1\.\.100"),
        (lambda df: analytics.pagerank_top(df, limit=0), r"limit must be an integer in 1\.\.10000"),
        (lambda df: analytics.related(df, top=0), r"top must be an integer in 1\.\.100"),
        (lambda df: analytics.related(df, min_common=0), "min_common must be an integer >= 1"),
        (lambda df: analytics.related(df, max_fanout=1), "max_fanout must be an integer >= 2"),
        (lambda df: analytics.related(df, per_source=1), "per_source must be an integer >= 2"),
        (lambda df: analytics.likely_paths(df, k=5), r"k must be an integer in 1\.\.4"),
        (lambda df: analytics.likely_paths(df, k=True), r"k must be an integer in 1\.\.4"),
        (lambda df: analytics.likely_paths(df, top=101), r"top must be an integer in 1\.\.100"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(None)  # arguments are checked before the frame is touched


def test_invariants_on_the_real_sample(spark):
    frame = _frame(spark, read_sample()).cache()
    ranks = analytics.pagerank(frame, iterations=2).collect()
    assert sum(r.rank for r in ranks) == pytest.approx(1.0, abs=1e-9)
    assert all(r.rank >= 0 for r in ranks)
    paths = analytics.likely_paths(frame, k=3, top=5).collect()
    assert paths and all(0 < r.probability <= 1 for r in paths)
    assert all(len(set(r.path)) == len(r.path) == r.steps + 1 and r.path[0] == r.title for r in paths)
    assert {r.steps for r in paths} == {1, 2, 3}
    rel = analytics.related(frame, top=3).collect()
    for rows, key in ((paths, lambda r: (r.title, r.steps)), (rel, lambda r: r.title)):
        per = defaultdict(list)
        for r in rows:
            per[key(r)].append(r.rank)
        assert all(sorted(v) == list(range(1, len(v) + 1)) and len(v) <= 5 for v in per.values())
    assert all(0 < r.score <= 1 and r.title != r.related for r in rel)
    frame.unpersist()
