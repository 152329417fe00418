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


def running_load(**fields) -> PendingLoad:
    """en 2024-11 from offsets {0: 100, 1: 50}, its end not reported yet."""
    defaults = {"lang": "en", "month": "2024-11", "start_offsets": {0: 100, 1: 50}, "end_offsets": {}, "run": "r2"}
    return PendingLoad(**(defaults | fields))


def test_a_batch_adds_the_rows_of_the_loads_records_and_moves_its_offsets():
    from jobs.ingestion import RecordRows, count_validated

    batch = [RecordRows(0, 100, "en", "2024-11", 256), RecordRows(0, 101, "en", "2024-11", 200),
             RecordRows(0, 101, "en", "2024-11", 56),  # the same record's rejected rows: validated too
             RecordRows(1, 50, "en", "2024-11", 10)]
    assert count_validated(running_load(), batch) == (522, {0: 102, 1: 51})


def test_records_of_other_months_and_outside_the_load_do_not_count():
    from jobs.ingestion import RecordRows, count_validated

    load = running_load(end_offsets={0: 103, 1: 50})
    batch = [RecordRows(0, 99, "en", "2024-11", 256),   # an earlier load of the month
             RecordRows(0, 101, "de", "2024-11", 256),  # another wiki, loading alongside
             RecordRows(0, 102, "en", "2024-10", 256),  # another month
             RecordRows(0, 103, "en", "2024-11", 256),  # past the end: a later load's
             RecordRows(1, 50, "en", "2024-11", 256),   # partition 1 holds nothing of the load
             RecordRows(0, 102, "en", "2024-11", 7)]
    assert count_validated(load, batch) == (7, {0: 103})
    assert count_validated(load, batch[:-1]) is None


def test_a_replayed_batch_counts_nothing_twice():
    from jobs.ingestion import RecordRows, count_validated

    batch = [RecordRows(0, 100, "en", "2024-11", 256), RecordRows(1, 50, "en", "2024-11", 3)]
    rows, marks = count_validated(running_load(), batch)
    stored = running_load(rows_processed=rows, validated_offsets=marks)
    assert count_validated(stored, batch) is None
    # a replay overlapping new records counts only the new ones
    assert count_validated(stored, [*batch, RecordRows(0, 101, "en", "2024-11", 5)]) == (264, {0: 102, 1: 51})


class LoadsSession(RecordingSession):
    """A session whose ingestion table holds `rows` (as cassandra-driver's named tuples would)."""

    def __init__(self, rows):
        super().__init__()
        self.rows = rows

    def execute(self, statement, params=()):
        super().execute(statement, params)
        return self.rows if statement.startswith("SELECT") else []


def test_each_running_load_gets_one_conditional_write_of_its_count():
    from types import SimpleNamespace

    from jobs.ingestion import IngestionTable, RecordRows

    def row(month, status, **fields):
        return SimpleNamespace(**{"lang": "en", "month": month, "run": "r-" + month, "status": status,
                                  "start_offsets": {0: 0}, "end_offsets": {}, "analyzed_at": None,
                                  "rows_processed": None, "validated_offsets": None} | fields)

    session = LoadsSession([row("2024-10", "complete", rows_processed=9), row("2024-11", "processing",
                            rows_processed=40, validated_offsets={0: 4}, end_offsets={0: 9}),
                            row("2024-12", "loading")])
    IngestionTable(session).record_validated([RecordRows(0, 3, "en", "2024-11", 5),
                                              RecordRows(0, 4, "en", "2024-11", 6),
                                              RecordRows(0, 5, "en", "2024-10", 7)])
    writes = [(cql, params) for cql, params in session.executed if "validated_offsets=?" in cql]
    ((cql, (rows, marks, _, _, lang, month, run)),) = writes
    assert cql.endswith("IF run=?") and (lang, month, run) == ("en", "2024-11", "r-2024-11")
    assert (rows, marks) == (46, {0: 5})


def test_an_empty_batch_reads_nothing():
    from jobs.ingestion import IngestionTable

    session = LoadsSession([])
    table = IngestionTable(session)
    session.executed.clear()
    table.record_validated([])
    assert session.executed == []


def test_a_new_run_starts_its_count_afresh():
    from jobs.ingestion import IngestionTable
    from contract.topics import LoadEvent

    session = RecordingSession()
    IngestionTable(session).record_event(LoadEvent("en", "2024-11", "loading", start_offsets={0: 7}))
    ((cql, params),) = [e for e in session.executed if e[0].startswith("UPDATE")]
    names = cql.split(" SET ")[1].split(" WHERE ")[0].split(", ")
    values = dict(zip([n.removesuffix("=?") for n in names], params))
    assert values["rows_processed"] is None and values["validated_offsets"] is None
