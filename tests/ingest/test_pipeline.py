"""Consumer batches: poison records go to the dead letters and the log moves on."""
from __future__ import annotations

import pytest

from sqlalchemy import func, select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest.bus.models import DeadLetter
from webapp.ingest.models import Mention
from webapp.ingest import pipeline
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC
from webapp.ingest.store import store_batch
from webapp.ingest.publish import publish_mentions

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases


def test_bad_record_is_dead_lettered_and_the_rest_stored(app, drain):
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        publish_mentions(runtime.bus(), monitor_id, source_id,
                         [mention(1), {"external_id": "bad", "text": ""}, mention(2)])
    outcome = drain()
    assert (outcome.inserted, outcome.dead) == (2, 1)
    with app.app_context():
        letter = db.session.execute(select(DeadLetter)).scalar_one()
        assert "text" in letter.error
        assert runtime.bus().lag(MENTIONS_TOPIC, MENTIONS_GROUP) == 0


def test_a_record_that_keeps_failing_goes_to_dead_letters_after_retries(app, drain):
    monitor_id, source_id = new_monitor(app)
    calls = []

    def flaky_store(session, values):
        calls.append(len(values))
        if any(v.get("external_id") == "m2" for v in values):
            raise RuntimeError("scorer exploded")
        return store_batch(session, values)

    with app.app_context():
        bus = runtime.bus()
        publish_mentions(bus, monitor_id, source_id, [mention(1), mention(2), mention(3)])
        consumer = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "t")
        outcome = pipeline.handle_batch(db.session, consumer, consumer.poll(10, 0.1), flaky_store)
        assert (outcome.inserted, outcome.dead) == (2, 1)
        assert calls == [3, 1] + [1] * pipeline.MAX_ATTEMPTS + [1]
        letter = db.session.execute(select(DeadLetter)).scalar_one()
        assert letter.attempts == pipeline.MAX_ATTEMPTS and "scorer exploded" in letter.error
        assert consumer.poll(10, 0.05) == []  # offsets moved past the whole batch
        assert db.session.execute(select(func.count()).select_from(Mention)).scalar() == 2


def test_replaying_a_batch_after_a_crash_counts_nothing_twice(app):
    """The SQL commit happened, the offset commit did not: the batch comes again and adds nothing."""
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        bus = runtime.bus()
        publish_mentions(bus, monitor_id, source_id, [mention(i) for i in range(20)])
        consumer = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "t")
        batch = consumer.poll(100, 0.1)
        store_batch(db.session, [e.value for e in batch])
        db.session.commit()  # ...and the process dies before consumer.commit
        consumer.close()
        replacement = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "t2")
        outcome = pipeline.handle_batch(db.session, replacement, replacement.poll(100, 0.1))
        assert (outcome.inserted, outcome.duplicates) == (0, 20)
