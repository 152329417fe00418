"""Reading cassandra-stress's output: its results block, and the line naming a failure."""

from bench.cassandra_stress import first_error, profile, summary, tool_profile

RESULTS = """Running [insert] with 64 threads for 5000 iteration
Results:
Op rate                   :      473 op/s  [insert: 473 op/s]
Latency median            :  101.4 ms [insert: 101.4 ms]
Latency 99th percentile   :  493.1 ms [insert: 493.1 ms]
Total errors              :          0 [insert: 0]
END
"""


def test_summary_reads_the_final_results_block():
    assert summary("Results:\nOp rate : 1 op/s\n" + RESULTS) == {
        "writes_per_second": 473.0, "p50_ms": 101.4, "p99_ms": 493.1, "errors": 0.0}


def test_first_error_names_the_exception_not_a_stack_frame():
    output = ("Connected to cluster: dev\n"
              "java.lang.RuntimeException: com.datastax.driver.core.exceptions.OperationTimedOutException\n"
              "\tat com.datastax.shaded.netty.channel.AbstractChannelHandlerContext.invokeChannelRead(X.java:342)\n")
    assert first_error(output).startswith("java.lang.RuntimeException: com.datastax")
    assert first_error("Connected\n\tat some.Frame(Error.java:1)\n") == "no exception in its output"


def test_the_tool_gets_no_definition_to_run_so_its_login_needs_no_right_to_create():
    full = profile("clickstream_stress", "dc1", 3)
    assert "CREATE KEYSPACE" in full["keyspace_definition"] and "CREATE TABLE" in full["table_definition"]
    assert tool_profile(full) == {k: v for k, v in full.items() if not k.endswith("_definition")}
    assert tool_profile(full)["keyspace"] == "clickstream_stress" and tool_profile(full)["table"] == "edges_in"
