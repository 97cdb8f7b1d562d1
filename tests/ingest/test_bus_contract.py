"""The contract every bus implementation passes: the SQL log and Kafka (real broker)."""
from __future__ import annotations

import time
import uuid

import pytest

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest.bus.models import DeadLetter
from webapp.ingest.bus import open_bus


@pytest.fixture(params=["sql", "kafka"])
def bus(request, app):
    with app.app_context():
        if request.param == "sql":
            yield runtime.bus()
        else:
            servers = request.getfixturevalue("service_urls")["BUS_URL"]
            kafka = open_bus(f"{servers}?partitions=3&prefix=contract-{uuid.uuid4().hex[:8]}.", db.engine)
            yield kafka
            kafka.close()


def values(n, start=0):
    return [(str(i % 3), {"n": i}) for i in range(start, start + n)]


def poll_all(consumer, n, timeout=30.0):
    """Poll until `n` records came (Kafka hands partitions out one by one) or the time is up."""
    got, deadline = [], time.monotonic() + timeout
    while len(got) < n and time.monotonic() < deadline:
        got.extend(consumer.poll(100, 0.5))
    return got


def by_key(envelopes):
    out = {}
    for e in envelopes:
        out.setdefault(e.key, []).append(e.value["n"])
    return out


def test_publish_then_poll_keeps_order_per_key(bus):
    assert bus.publish("t", values(9)) == 9
    consumer = bus.consumer("t", "g", "c1")
    got = poll_all(consumer, 9)
    assert by_key(got) == {"0": [0, 3, 6], "1": [1, 4, 7], "2": [2, 5, 8]}
    consumer.close()


def test_uncommitted_records_go_to_the_next_consumer(bus):
    bus.publish("t", values(6))
    first = bus.consumer("t", "g", "c1")
    batch = poll_all(first, 6)
    assert first.poll(100, 0.2) == []  # a consumer reads on from its own position
    firsts = {}
    for e in batch:
        firsts.setdefault(e.partition, e)
    first.commit(list(firsts.values()))  # the first record of each partition is done
    first.close()
    second = bus.consumer("t", "g", "c2")
    again = poll_all(second, 6 - len(firsts))
    assert sorted(e.value["n"] for e in again) == sorted(
        e.value["n"] for e in batch if e not in firsts.values())
    second.commit(again)
    second.close()
    third = bus.consumer("t", "g", "c3")
    assert third.poll(100, 1.0) == []
    third.close()


def test_rewind_reads_a_batch_again(bus):
    bus.publish("t", values(4))
    consumer = bus.consumer("t", "g", "c1")
    batch = poll_all(consumer, 4)
    consumer.rewind(batch)
    assert sorted(e.value["n"] for e in poll_all(consumer, 4)) == [0, 1, 2, 3]
    consumer.close()


def test_groups_are_independent(bus):
    bus.publish("t", values(3))
    a = bus.consumer("t", "a", "x")
    a.commit(poll_all(a, 3))
    a.close()
    b = bus.consumer("t", "b", "y")
    assert len(poll_all(b, 3)) == 3
    b.close()


def test_poll_waits_at_most_about_its_timeout(bus):
    consumer = bus.consumer("t", "g", "c1")
    poll_all(consumer, 0)
    started = time.monotonic()
    consumer.poll(10, 0.3)
    assert time.monotonic() - started < 5
    consumer.close()


def test_dead_letter_keeps_record_and_error(app, bus):
    bus.publish("t", values(1))
    consumer = bus.consumer("t", "g", "c1")
    [envelope] = poll_all(consumer, 1)
    consumer.dead_letter(envelope, "ValueError: boom", 3)
    letter = db.session.execute(db.select(DeadLetter)).scalar_one()
    assert (letter.error, letter.attempts, letter.topic) == ("ValueError: boom", 3, "t")
    assert '"n":0' in letter.payload
    consumer.close()


def test_lag_counts_what_the_group_has_not_committed(bus):
    bus.publish("t", values(5))
    consumer = bus.consumer("t", "g", "c1")
    got = poll_all(consumer, 5)
    assert bus.lag("t", "g") == 5
    consumer.commit(got)
    assert bus.lag("t", "g") == 0
    consumer.close()


# -- the SQL log only -------------------------------------------------------------------------

@pytest.fixture
def sql_bus(app):
    with app.app_context():
        yield runtime.bus()


def test_sql_log_one_consumer_of_a_group_reads_at_a_time(sql_bus):
    sql_bus.publish("t", values(2))
    c1, c2 = sql_bus.consumer("t", "g", "c1"), sql_bus.consumer("t", "g", "c2")
    assert len(c1.poll(10, 0.1)) == 2
    assert c2.poll(10, 0.1) == []  # c1 holds the lease
    c1.close()
    assert len(c2.poll(10, 0.1)) == 2


def test_sql_log_prune_drops_only_what_every_group_committed(sql_bus):
    sql_bus.publish("t", values(4))
    a, b = sql_bus.consumer("t", "a", "x"), sql_bus.consumer("t", "b", "y")
    a.commit(a.poll(4, 0.1))
    b.commit(b.poll(1, 0.1))
    assert sql_bus.prune("t") == 1
    assert [e.value["n"] for e in b.poll(10, 0.1)] == [1, 2, 3]
    assert sql_bus.lag("t", "b") == 3
