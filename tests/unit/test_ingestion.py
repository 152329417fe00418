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
