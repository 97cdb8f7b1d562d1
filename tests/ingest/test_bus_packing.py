"""Many values per bus record: packed on publish (Kafka), split again on poll, committed whole.

Exactly-once must hold as with one value a record: a packed record's offset is committed only
after every value of it is stored, an uncommitted one comes again whole, and a poison value
goes to the dead letters alone."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.ingest import pipeline
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC, Envelope, open_bus
from webapp.ingest.bus.base import decode, decode_many, encode, pack
from webapp.ingest.bus.models import DeadLetter
from webapp.ingest.models import Mention
from webapp.ingest.publish import publish_mentions

from tests.helpers import mention, new_monitor


# -- packing and reading (pure) -----------------------------------------------------------------

def unpacked(payloads):
    return [(key, decode_many(payload), n) for key, payload, n in payloads]


def test_pack_groups_consecutive_values_of_a_key_in_order():
    records = [("1", {"n": 0}), ("1", {"n": 1}), ("2", {"n": 2}), ("1", {"n": 3})]
    got = unpacked(pack(records, 1 << 20, 1000))
    assert got == [("1", [{"n": 0}, {"n": 1}], 2), ("2", [{"n": 2}], 1), ("1", [{"n": 3}], 1)]


def test_one_value_stays_a_json_object_and_many_are_an_array():
    [(_, alone, _)] = pack([("k", {"n": 1})], 1 << 20, 1000)
    [(_, many, _)] = pack([("k", {"n": 1}), ("k", {"n": 2})], 1 << 20, 1000)
    assert json.loads(alone) == {"n": 1}
    assert json.loads(many) == [{"n": 1}, {"n": 2}]


def test_pack_keeps_each_payload_within_its_bytes_and_values():
    records = [("k", {"text": "x" * 100, "n": i}) for i in range(50)]
    by_bytes = list(pack(records, 1000, 1000))
    assert all(len(payload) <= 1000 for _, payload, _ in by_bytes) and len(by_bytes) > 1
    by_count = list(pack(records, 1 << 20, 7))
    assert [n for _, _, n in by_count] == [7] * 7 + [1]
    every = [v for _, payload, _ in by_bytes + by_count for v in decode_many(payload)]
    assert every == [v for _, v in records] * 2
    assert [n for _, _, n in pack(records[:3], 1 << 20, 1)] == [1, 1, 1]   # packing off


def test_a_value_larger_than_the_cap_goes_alone():
    big = {"text": "y" * 5000}
    payloads = list(pack([("k", {"n": 1}), ("k", big), ("k", {"n": 2})], 1000, 1000))
    assert [decode_many(p) for _, p, _ in payloads] == [[{"n": 1}], [big], [{"n": 2}]]


@pytest.mark.parametrize("payload", [b"", b"nope", b"[]", b"3", b'"text"', b"\xff\xfe", b"[[[", b"null"])
def test_decode_many_refuses_what_is_no_record(payload):
    with pytest.raises(ValueError):
        decode_many(payload)


def test_decode_many_marks_array_items_that_are_no_object():
    assert decode_many(b'[{"n":1},7,"x"]') == [{"n": 1}, {"_undecodable": "7"}, {"_undecodable": '"x"'}]


def test_json_beyond_orjson_still_round_trips():
    value = {"big": 2**70, "nan": float("nan"), "text": "ü\u2028"}
    again = decode(encode(value))
    assert again["big"] == 2**70 and again["nan"] != again["nan"] and again["text"] == "ü\u2028"
    assert decode('{"n": NaN}')["n"] != 0


def test_a_packed_value_names_its_place_in_the_record():
    assert Envelope("t", "k", {}, 2, 40).position == "t/2/40"
    assert Envelope("t", "k", {}, 2, 40, 7).position == "t/2/40#7"


# -- on a real Kafka broker -----------------------------------------------------------------------

@pytest.fixture
def kafka(app, service_urls):
    with app.app_context():
        bus = open_bus(f"{service_urls['BUS_URL']}?partitions=2&prefix=pack-{uuid.uuid4().hex[:8]}.", db.engine)
        yield bus
        bus.close()


def poll_all(consumer, n, timeout=30.0, batch=500):
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got.extend(consumer.poll(batch, 0.5))
    return got


def test_kafka_packs_many_values_per_record_and_reads_them_in_order(kafka):
    records = [("a", {"n": i}) for i in range(1500)] + [("b", {"n": i}) for i in range(3)]
    assert kafka.publish("t", records) == 1503
    assert kafka.lag("t", "g") == 3   # 1,000 + 500 values of "a", 3 of "b"
    consumer = kafka.consumer("t", "g", "c1")
    got = poll_all(consumer, 1503)
    assert [e.value["n"] for e in got if e.key == "a"] == list(range(1500))
    assert [e.value["n"] for e in got if e.key == "b"] == [0, 1, 2]
    consumer.commit(got)
    assert kafka.lag("t", "g") == 0
    consumer.close()


def test_kafka_poll_hands_out_whole_records(kafka):
    kafka.publish("t", [("a", {"n": i}) for i in range(800)])
    consumer = kafka.consumer("t", "g", "c1")
    batch = poll_all(consumer, 1, batch=10)
    assert len(batch) == 800 and {e.offset for e in batch} == {batch[0].offset}
    assert [e.index for e in batch] == list(range(800))
    consumer.close()


def test_kafka_small_records_still_fill_a_batch(app, service_urls):
    with app.app_context():
        bus = open_bus(f"{service_urls['BUS_URL']}?partitions=1&pack=1&prefix=pack-{uuid.uuid4().hex[:8]}.", db.engine)
        try:
            assert bus.publish("t", [("a", {"n": i}) for i in range(300)]) == 300
            assert bus.lag("t", "g") == 300   # pack=1: one value a record
            consumer = bus.consumer("t", "g", "c1")
            first = poll_all(consumer, 1, batch=100)
            assert [e.value["n"] for e in first] == list(range(100))
            consumer.close()
        finally:
            bus.close()


def test_kafka_an_uncommitted_packed_record_comes_again_whole(kafka):
    kafka.publish("t", [("a", {"n": i}) for i in range(1200)])
    first = kafka.consumer("t", "g", "c1")
    got = poll_all(first, 1, batch=10)
    first.close()   # dies before committing
    second = kafka.consumer("t", "g", "c2")
    again = poll_all(second, 1200)
    assert sorted(e.value["n"] for e in again) == list(range(1200))
    assert [e.value for e in again[:len(got)]] == [e.value for e in got]
    second.commit(again)
    second.close()
    third = kafka.consumer("t", "g", "c3")
    assert third.poll(100, 1.0) == []
    third.close()


def test_kafka_pipeline_stores_a_packed_push_exactly_once(app, kafka):
    """A poison mention in a packed record goes to the dead letters alone; the rest is stored,
    and a replay of the record after the SQL commit adds nothing."""
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        items = [mention(i) for i in range(300)]
        items[150] = {"external_id": "bad", "text": ""}
        assert publish_mentions(kafka, monitor_id, source_id, items) == 300
        assert kafka.lag(MENTIONS_TOPIC, MENTIONS_GROUP) == 1
        consumer = kafka.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "w1")
        batch = poll_all(consumer, 300)
        outcome = pipeline.handle_batch(db.session, consumer, batch)
        assert (outcome.inserted, outcome.dead) == (299, 1)
        letter = db.session.execute(select(DeadLetter)).scalar_one()
        assert json.loads(letter.payload)["external_id"] == "bad" and letter.source_offset.endswith("#150")
        consumer.rewind(batch)   # as if the offset commit had been lost: the record comes again
        replay = poll_all(consumer, 300)
        assert len(replay) == 300
        again = pipeline.handle_batch(db.session, consumer, [e for e in replay if e.value["external_id"] != "bad"])
        assert (again.inserted, again.duplicates) == (0, 299)
        assert db.session.execute(select(func.count()).select_from(Mention)).scalar() == 299
        consumer.close()
        assert kafka.lag(MENTIONS_TOPIC, MENTIONS_GROUP) == 0
