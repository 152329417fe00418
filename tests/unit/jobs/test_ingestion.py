from contract.schema import ROWS_QUERY
from jobs.ingestion import PendingLoad, caught_up, partition_offsets


def test_partition_offsets_accepts_dicts_and_json_text():
    assert partition_offsets({"clickstream.raw": {"0": 5, "1": 7}}) == {0: 5, 1: 7}
    assert partition_offsets('{"clickstream.raw": {"2": 9}}') == {2: 9}
    assert partition_offsets(None) == {}


def test_caught_up_needs_every_partition_past_the_load_end():
    load = PendingLoad("en", "2024-11", start_offsets={0: 0, 1: 0}, end_offsets={0: 10, 1: 4})
    assert caught_up(load, {0: 10, 1: 4})
    assert caught_up(load, {0: 12, 1: 5})
    assert not caught_up(load, {0: 10, 1: 3})
    assert not caught_up(load, {0: 10})


class RecordingSession:
    """Keeps what IngestionTable executes (our own boundary: its cassandra-driver session)."""

    def __init__(self):
        self.executed = []

    def prepare(self, cql):
        return cql

    def execute(self, statement, params=()):
        self.executed.append((statement, params))
        return []


PROGRESS = {"batchId": 7, "numInputRows": 3, "durationMs": {"triggerExecution": 1500},
            "inputRowsPerSecond": 2.0, "processedRowsPerSecond": 2.0,
            "sources": [{"endOffset": {"clickstream.raw": {"0": 10, "1": 4}},
                         "latestOffset": {"clickstream.raw": {"0": 12, "1": 4}}}]}


def test_progress_stores_rows_not_records_and_lag_in_records():
    from jobs.ingestion import IngestionTable

    session = RecordingSession()
    IngestionTable(session).record_progress(ROWS_QUERY, PROGRESS, rows=(768, 760))
    (_, params), = [e for e in session.executed if "stream_progress" in e[0]]
    query, batch, end, latest, rows_in, rows_out, batch_ms, *_, lag, _ = params
    assert (query, batch, rows_in, rows_out, batch_ms, lag) == (ROWS_QUERY, 7, 768, 760, 1500, 2)
    assert end == {0: 10, 1: 4} and latest == {0: 12, 1: 4}


def test_progress_without_row_counts_falls_back_to_sparks_record_counts():
    from jobs.ingestion import IngestionTable

    session = RecordingSession()
    IngestionTable(session).record_progress(ROWS_QUERY, PROGRESS)
    (_, params), = [e for e in session.executed if "stream_progress" in e[0]]
    assert params[4:6] == (3, 3)
