"""The Ingestion page's progress bar and ETA (webui.landing)."""

from __future__ import annotations

import pytest

from webui import landing


def load(status="processing", accepted=1000, processed=640, rate=100.0, error=None) -> dict:
    return {"status": status, "rows_accepted": accepted, "rows_processed": processed, "rows_per_second": rate,
            "error": error}


def test_a_running_load_shows_its_landed_share_and_the_time_left():
    assert landing.progress(load()) == "▇▇▇▇▇▇▁▁▁▁ 64%"
    assert landing.eta_seconds(load()) == pytest.approx(3.6)
    assert landing.eta(load()) == "~4 s"


@pytest.mark.parametrize("rate", [0, 0.0, None])
def test_no_eta_without_a_rate(rate):
    assert landing.eta_seconds(load(rate=rate)) is None and landing.eta(load(rate=rate)) == ""
    assert landing.progress(load(rate=rate)) == "▇▇▇▇▇▇▁▁▁▁ 64%"


def test_a_caught_up_load_is_finalizing_at_100_percent_without_an_eta():
    caught_up = load(processed=1000)
    assert landing.progress(caught_up) == "▇▇▇▇▇▇▇▇▇▇ 100% finalizing"
    assert landing.eta(caught_up) == ""


def test_a_complete_load_is_100_percent_without_an_eta():
    done = load(status="complete", processed=1000)
    assert landing.progress(done) == "▇▇▇▇▇▇▇▇▇▇ 100%"
    assert landing.eta(done) == ""
    # complete is complete, even if the row never learned its processed count
    assert landing.progress(load(status="complete", processed=None)) == "▇▇▇▇▇▇▇▇▇▇ 100%"


def test_a_failed_load_shows_its_error():
    failed = load(status="failed", error="Kafka did not acknowledge 3 records")
    assert landing.progress(failed) == "failed: Kafka did not acknowledge 3 records"
    assert landing.eta(failed) == ""
    assert landing.progress(load(status="failed")) == "failed: no reason recorded"


def test_the_bar_shows_100_only_when_every_row_is_in():
    assert landing.progress(load(processed=999)) == "▇▇▇▇▇▇▇▇▇▁ 99%"
    assert landing.bar(0.0) == "▁▁▁▁▁▁▁▁▁▁ 0%"


@pytest.mark.parametrize("processed, accepted", [(None, 1000), (0, 0), (5, None)])
def test_an_unknown_share_shows_the_status_alone(processed, accepted):
    unknown = load(status="loading", processed=processed, accepted=accepted)
    assert landing.progress(unknown) == "loading" and landing.eta(unknown) == ""


@pytest.mark.parametrize("left, rate, text", [(1, 5.0, "~1 s"), (59, 1.0, "~59 s"), (61, 1.0, "~2 min"),
                                              (3599, 1.0, "~1 h 00 min"), (7500, 1.0, "~2 h 05 min")])
def test_the_eta_is_rounded_up_to_a_readable_unit(left, rate, text):
    assert landing.eta(load(accepted=left, processed=0, rate=rate)) == text
