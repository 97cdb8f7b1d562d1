"""Pipeline health (queues, lag, dead letters with replay) and the deliveries log, on the SQL log and Kafka."""
from __future__ import annotations

import json
import time
import uuid

import pytest
from flask_migrate import upgrade

from tests.helpers import app_config
from tests.helpers import new_monitor, wait_for
from webapp import create_app
from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest.bus.models import DeadLetter
from webapp.alerting.models import Delivery
from webapp.ingest.models import Mention
from webapp.admin import dead_letters, pipeline_health
from webapp.ingest import pipeline
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC


def poison(monitor_id, source_id, external_id="p1"):
    return {"monitor_id": monitor_id, "source_id": source_id, "external_id": external_id,
            "text": "what a lovely launch", "published_at": "last tuesday"}


def stored(app, external_id):
    with app.app_context():
        return db.session.execute(db.select(Mention).where(Mention.external_id == external_id)).scalar_one_or_none()


def test_sql_bus_poison_is_dead_lettered_then_fixed_replayed_and_stored(app, admin_client, drain):
    monitor_id, source_id = new_monitor(app, "Launch")
    with app.app_context():
        runtime.bus().publish(MENTIONS_TOPIC, [(str(monitor_id), poison(monitor_id, source_id))])
    page = admin_client.get("/admin/pipeline").get_data(as_text=True)
    assert 'id="total-lag">1<' in page and "Celery queues" in page and 'id="queues"' in page

    assert drain().dead == 1
    assert stored(app, "p1") is None
    page = admin_client.get("/admin/pipeline").get_data(as_text=True)
    assert 'id="total-lag">0<' in page and 'id="dead-letters-pending">1<' in page
    assert "last tuesday" in page and "is not an ISO 8601 time" in page  # the error, escaped text
    with app.app_context():
        letter_id = db.session.execute(db.select(DeadLetter.id)).scalar_one()
    letter_page = admin_client.get(f"/admin/dead-letters/{letter_id}").get_data(as_text=True)
    assert "&#34;published_at&#34;: &#34;last tuesday&#34;" in letter_page

    bad = admin_client.post(f"/admin/dead-letters/{letter_id}/replay", data={"payload": "[1, 2"})
    assert bad.status_code == 400 and "must be a JSON object" in bad.get_data(as_text=True)
    fixed = poison(monitor_id, source_id) | {"published_at": "2026-01-02T10:00:00Z"}
    assert admin_client.post(f"/admin/dead-letters/{letter_id}/replay",
                             data={"payload": json.dumps(fixed)}).status_code == 302
    again = admin_client.post(f"/admin/dead-letters/{letter_id}/replay", follow_redirects=True)
    assert "replayed already" in again.get_data(as_text=True)

    assert drain().inserted == 1
    mention = stored(app, "p1")
    assert mention is not None and mention.published_at.isoformat().startswith("2026-01-02T10:00")
    page = admin_client.get("/admin/pipeline").get_data(as_text=True)
    assert 'id="dead-letters-pending">0<' in page
    assert f"#{letter_id}" in admin_client.get("/admin/pipeline?show=replayed").get_data(as_text=True)


def test_replay_all_and_discard(app, admin_client, drain):
    monitor_id, source_id = new_monitor(app, "Launch")
    with app.app_context():
        runtime.bus().publish(MENTIONS_TOPIC, [(str(monitor_id), poison(monitor_id, source_id, f"p{i}"))
                                               for i in range(3)])
    assert drain().dead == 3
    assert admin_client.post("/admin/dead-letters/replay-all").status_code == 302
    assert drain().dead == 3                       # replayed as they were: dead-lettered again
    with app.app_context():
        waiting, total = dead_letters.list_letters(db.session)
        assert total == 3 and all(letter.replayed_at is None for letter in waiting)
        first = waiting[0].id
    assert admin_client.post(f"/admin/dead-letters/{first}/discard").status_code == 302
    assert admin_client.post(f"/admin/dead-letters/{first}/discard").status_code == 404
    with app.app_context():
        assert dead_letters.list_letters(db.session)[1] == 2


def test_queue_names_cover_defaults_and_routes(app):
    names = pipeline_health.queue_names(app.extensions["celery"].conf)
    assert {"celery", "fetch", "alerts", "notify"} <= set(names)


def test_deliveries_log_lists_every_monitor_s_deliveries(app, admin_client, auth, client):
    created = client.post("/api/v1/notifiers", json={"kind": "email", "to": ["ops@example.com"]}, headers=auth)
    assert created.status_code == 201
    client.post(f"/api/v1/notifiers/{created.get_json()['id']}/test", headers=auth)
    page = admin_client.get("/admin/deliveries").get_data(as_text=True)
    assert "alert.test" in page and "1 deliveries" in page
    with app.app_context():
        status = db.session.execute(db.select(Delivery.status)).scalar_one()
    assert "alert.test" in admin_client.get(f"/admin/deliveries?status={status}").get_data(as_text=True)
    if status in ("sent", "failed", "permanent_failure"):  # attempted: counted by outcome for /metrics
        from tests.admin.test_metrics import sample
        assert sample(client.get("/metrics").get_data(as_text=True), "sentimon_alert_deliveries_total",
                      outcome=status) == 1
    other = "sent" if status != "sent" else "pending"
    empty = admin_client.get(f"/admin/deliveries?status={other}").get_data(as_text=True)
    assert "alert.test" not in empty and f"No deliveries with status {other}" in empty


# -- Kafka ---------------------------------------------------------------------------------------

@pytest.fixture
def kafka_app(tmp_path, service_urls):
    config = app_config(tmp_path)
    config["BUS_URL"] = f"{service_urls['BUS_URL']}?partitions=2&prefix=adm-{uuid.uuid4().hex[:8]}."
    app = create_app(config)
    with app.app_context():
        upgrade(revision="heads")
    yield app
    with app.app_context():
        runtime.bus().close()
        db.session.remove()
        db.engine.dispose()


def consume_until(app, predicate, timeout=60.0):
    """Consume the mentions topic as a worker does until `predicate()` holds (bounded)."""
    with app.app_context():
        consumer = runtime.bus().consumer(MENTIONS_TOPIC, MENTIONS_GROUP, f"test-{uuid.uuid4().hex[:6]}")
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                batch = consumer.poll(100, 0.5)
                if batch:
                    pipeline.handle_batch(db.session, consumer, batch)
                    db.session.remove()
                if predicate():
                    return
            raise AssertionError("consuming did not reach the expected state in time")
        finally:
            consumer.close()


def test_kafka_lag_per_partition_dead_letter_topic_and_replay(kafka_app):
    app = kafka_app
    monitor_id, source_id = new_monitor(app, "Launch")
    good = {"monitor_id": monitor_id, "source_id": source_id, "external_id": "ok1", "text": "fine"}
    with app.app_context():
        bus = runtime.bus()
        bus.publish(MENTIONS_TOPIC, [(str(monitor_id), poison(monitor_id, source_id)), ("other", good)])
        lag = pipeline_health.kafka_lag(bus)
        assert [p.partition for p in lag] == [0, 1] and sum(p.lag for p in lag) == 2
        assert all(p.committed is None for p in lag)

    def pending():
        with app.app_context():
            return pipeline_health.pending_dead_letters(db.engine)
    consume_until(app, lambda: pending() == 1 and stored(app, "ok1") is not None)

    with app.app_context():
        health = pipeline_health.snapshot(runtime.bus(), db.engine, app.extensions["celery"], queues=False)
        assert health.errors == [] and health.bus_kind == "kafka"
        assert health.total_lag == 0 and health.dead_letter_topic_records == 1
        assert health.group.endswith(MENTIONS_GROUP) and health.group != MENTIONS_GROUP
        letter = db.session.execute(db.select(DeadLetter)).scalar_one()
        assert "ISO 8601" in letter.error
        fixed = dead_letters.parse_payload(letter.payload) | {"published_at": "2026-01-02T10:00:00+00:00"}
        dead_letters.replay(db.session, runtime.bus(), letter.id, fixed)
        assert sum(p.lag for p in pipeline_health.kafka_lag(runtime.bus())) == 1

    consume_until(app, lambda: stored(app, "p1") is not None)
    with app.app_context():
        assert pipeline_health.pending_dead_letters(db.engine) == 0
        wait_for(lambda: sum(p.lag for p in pipeline_health.kafka_lag(runtime.bus())) == 0, 30,
                 message="the group's commit")
