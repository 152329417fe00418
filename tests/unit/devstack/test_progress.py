"""Waits that time out on a lack of progress (devstack.progress, devstack.loads), on a fake clock."""

from __future__ import annotations

import pytest

from contract.status import FINISHED
from devstack import loads
from devstack.progress import Stalled, wait_for_progress


class FakeClock:
    """time.monotonic and time.sleep in one: sleeping moves the clock."""

    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def states(*values):
    """A probe that returns `values` in turn, then the last one for ever."""
    seen = list(values)

    def probe():
        return seen.pop(0) if len(seen) > 1 else seen[0]

    return probe


def wait(probe, done, clock, **kwargs):
    return wait_for_progress(probe, done, "the load", clock=clock, sleep=clock.sleep, **kwargs)


def test_a_wait_returns_the_state_that_is_done():
    clock = FakeClock()
    assert wait(states("loading", "processing", "complete"), lambda s: s == "complete", clock) == "complete"
    assert clock.now == 4.0


def test_a_slow_load_that_keeps_moving_never_stalls_however_long_it_takes():
    clock = FakeClock()
    # One change every 100 s, 60 changes: 6,000 s in all, far past the stall limit of 180 s.
    probe = states(*[(i // 50) for i in range(3000)], "done")
    assert wait(probe, lambda s: s == "done", clock, stall_seconds=180, interval=2) == "done"
    assert clock.now > 180 * 30


def test_no_change_for_the_stall_time_fails_and_says_where_it_stood():
    clock = FakeClock()
    probe = states("loading", "processing 10 rows")
    with pytest.raises(Stalled) as err:
        wait(probe, lambda s: s == "complete", clock, stall_seconds=60, interval=5)
    message = str(err.value)
    assert message.startswith("the load: no change for 60 s")
    assert "processing 10 rows" in message and "stall limit 60 s" in message
    assert clock.now == 65  # the change at 5 s restarted the stall clock


def test_the_cap_bounds_a_wait_that_changes_for_ever():
    clock = FakeClock()
    counter = iter(range(10**9))
    with pytest.raises(Stalled, match="past the 100 s cap"):
        wait(lambda: next(counter), lambda s: False, clock, stall_seconds=60, cap_seconds=100, interval=10)
    assert clock.now == 100


def test_describe_renders_the_last_state():
    clock = FakeClock()
    with pytest.raises(Stalled, match="last seen: 7 rows"):
        wait(states(7), lambda s: False, clock, stall_seconds=4, describe=lambda s: f"{s} rows")


INGESTION = "http://web/api/v1/ingestion"
DRIVER = "http://driver:4040/api/v1/applications"


class FakeStack:
    """The web UI's ingestion list and the Spark driver's REST answers, scripted per call."""

    def __init__(self, loads_by_call, tasks_by_call=None, records: int = 0):
        self.loads_by_call, self.tasks_by_call = list(loads_by_call), list(tasks_by_call or [0])
        self.records = records

    def fetch(self, url: str):
        if url == INGESTION:
            answer = self.loads_by_call.pop(0) if len(self.loads_by_call) > 1 else self.loads_by_call[0]
            if isinstance(answer, Exception):
                raise answer
            return {"loads": answer}
        if url == DRIVER:
            return [{"id": "app-1"}]
        if url == f"{DRIVER}/app-1/allexecutors":
            done = self.tasks_by_call.pop(0) if len(self.tasks_by_call) > 1 else self.tasks_by_call[0]
            return [{"id": "driver", "completedTasks": 0}, {"id": "0", "completedTasks": done, "failedTasks": 1}]
        if url == f"{DRIVER}/app-1/stages?status=active":
            return [{"inputRecords": self.records, "outputRecords": 1, "shuffleReadRecords": 0}]
        raise AssertionError(url)


def row(status: str, run: str = "r1", **fields) -> dict:
    return {"lang": "en", "month": "2024-06", "run": run, "status": status, "rows_accepted": 150_000,
            "rows_processed": None, "lag": 0, "updated_at": "t0"} | fields


def test_the_probe_finds_this_run_of_the_load_and_counts_the_drivers_tasks():
    stack = FakeStack([[row("complete", run="r0", month="2024-05"), row("processing", run="r1")]], [41], records=9)
    probe = loads.LoadProbe("http://web", "en", "2024-06", "r1", driver_ui="http://driver:4040", fetch=stack.fetch)
    state = probe()
    assert (state.status, state.driver_tasks, state.driver_records, state.raw_records) == ("processing", 42, 10, None)
    assert "42 driver tasks done; 10 records in running stages" in str(state)
    assert loads.LoadProbe("http://web", "en", "2024-06", "r9", fetch=stack.fetch)().load is None


def test_a_load_aggregating_with_a_still_row_is_progress_while_the_driver_finishes_tasks():
    clock = FakeClock()
    # The row stays `processing` with lag 0 for 300 s (finalize), while the driver's tasks grow.
    rows = [[row("processing")]] * 150 + [[row("complete", rows_processed=150_000)]]
    stack = FakeStack(rows, list(range(0, 1500, 10)))
    probe = loads.LoadProbe("http://web", "en", "2024-06", "r1", driver_ui=lambda: "http://driver:4040",
                            fetch=stack.fetch)
    state = wait_for_progress(probe, lambda s: s.status in FINISHED, "load", stall_seconds=60,
                              clock=clock, sleep=clock.sleep)
    assert state.load["rows_processed"] == 150_000 and clock.now == 300


def test_a_stuck_load_stalls_with_its_status_and_counts_and_an_api_error_is_no_progress():
    clock = FakeClock()
    stuck = [row("processing", lag=1200)]
    stack = FakeStack([stuck, OSError("refused"), stuck, OSError("refused"), stuck])
    probe = loads.LoadProbe("http://web", "en", "2024-06", "r1", fetch=stack.fetch)
    with pytest.raises(Stalled) as err:
        wait_for_progress(probe, lambda s: s.status in FINISHED, "load not complete", stall_seconds=30,
                          clock=clock, sleep=clock.sleep, describe=str)
    message = str(err.value)
    assert "no change for 30 s" in message
    assert "status processing, 150,000 rows accepted, rows processed None, stream lag 1200" in message


def test_wait_for_load_exits_with_the_stall_message(monkeypatch):
    from devstack import stack

    stuck = FakeStack([[row("loading")]])
    monkeypatch.setattr(stack, "probe", lambda *a, **k: loads.LoadProbe("http://web", "en", "2024-06", "r1",
                                                                         fetch=stuck.fetch))
    monkeypatch.setattr(loads, "wait_for_progress", _instant(loads.wait_for_progress))
    with pytest.raises(SystemExit, match=r"load not complete \(en 2024-06\): no change for 10 s.*status loading"):
        stack.wait_for_load("dev", {"webUrl": "http://web"}, "en", "2024-06", "r1", stall_seconds=10)


def _instant(wait):
    """`wait` on a fake clock."""

    def run(*args, **kwargs):
        clock = FakeClock()
        return wait(*args, clock=clock, sleep=clock.sleep, **kwargs)

    return run


def test_a_running_stage_that_reads_records_is_progress_while_no_task_finishes():
    clock = FakeClock()
    stack = FakeStack([[row("processing")]] * 100 + [[row("complete")]])
    probe = loads.LoadProbe("http://web", "en", "2024-06", "r1", driver_ui="http://driver:4040", fetch=stack.fetch)

    def reading():
        stack.records += 1_000
        return probe()

    state = wait_for_progress(reading, lambda s: s.status in FINISHED, "load", stall_seconds=30,
                              clock=clock, sleep=clock.sleep)
    assert state.status == "complete" and clock.now == 200
