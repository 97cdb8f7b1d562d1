"""The contract every bus implementation passes (the SQL log here; Kafka plugs into `bus`)."""
from __future__ import annotations

import pytest

from webapp import runtime
from webapp.extensions import db
from webapp.models import DeadLetter


@pytest.fixture
def bus(app):
    with app.app_context():
        yield runtime.bus()


def values(n, start=0):
    return [(str(i % 3), {"n": i}) for i in range(start, start + n)]


def test_publish_then_poll_in_order(bus):
    assert bus.publish("t", values(5)) == 5
    consumer = bus.consumer("t", "g", "c1")
    batch = consumer.poll(10, 0.1)
    assert [e.value["n"] for e in batch] == [0, 1, 2, 3, 4]
    assert [e.key for e in batch] == ["0", "1", "2", "0", "1"]


def test_uncommitted_records_are_delivered_again(bus):
    bus.publish("t", values(3))
    consumer = bus.consumer("t", "g", "c1")
    first = consumer.poll(10, 0.1)
    again = consumer.poll(10, 0.1)
    assert [e.offset for e in first] == [e.offset for e in again]
    consumer.commit(first[:2])
    assert [e.value["n"] for e in consumer.poll(10, 0.1)] == [2]


def test_commit_survives_a_new_consumer(bus):
    bus.publish("t", values(4))
    c1 = bus.consumer("t", "g", "c1")
    c1.commit(c1.poll(2, 0.1))
    c1.close()
    c2 = bus.consumer("t", "g", "c2")
    assert [e.value["n"] for e in c2.poll(10, 0.1)] == [2, 3]


def test_groups_are_independent(bus):
    bus.publish("t", values(2))
    a, b = bus.consumer("t", "a", "x"), bus.consumer("t", "b", "y")
    a.commit(a.poll(10, 0.1))
    assert len(b.poll(10, 0.1)) == 2
    assert a.poll(10, 0.05) == []


def test_poll_waits_at_most_timeout(bus):
    import time

    consumer = bus.consumer("t", "g", "c1")
    started = time.monotonic()
    assert consumer.poll(10, 0.3) == []
    assert time.monotonic() - started < 3


def test_only_one_consumer_of_a_group_reads_at_a_time(bus):
    bus.publish("t", values(2))
    c1, c2 = bus.consumer("t", "g", "c1"), bus.consumer("t", "g", "c2")
    assert len(c1.poll(10, 0.1)) == 2
    assert c2.poll(10, 0.1) == []  # c1 holds the lease
    c1.close()
    assert len(c2.poll(10, 0.1)) == 2


def test_dead_letter_keeps_record_and_error(app, bus):
    bus.publish("t", values(1))
    consumer = bus.consumer("t", "g", "c1")
    [envelope] = consumer.poll(1, 0.1)
    consumer.dead_letter(envelope, "ValueError: boom", 3)
    letter = db.session.execute(db.select(DeadLetter)).scalar_one()
    assert (letter.error, letter.attempts, letter.topic) == ("ValueError: boom", 3, "t")
    assert '"n":0' in letter.payload


def test_prune_drops_only_what_every_group_committed(bus):
    bus.publish("t", values(4))
    a, b = bus.consumer("t", "a", "x"), bus.consumer("t", "b", "y")
    a.commit(a.poll(4, 0.1))
    b.commit(b.poll(1, 0.1))
    assert bus.prune("t") == 1
    assert [e.value["n"] for e in b.poll(10, 0.1)] == [1, 2, 3]
    assert bus.lag("t", "b") == 3
