"""Pushes through the Kafka bus, whose records pack many mentions each: a 202 push is stored
whole and exactly once; hostile bodies still get a 4xx and nothing of them reaches the bus."""
from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import func, select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest import pipeline
from webapp.ingest.bus import MENTIONS_GROUP, MENTIONS_TOPIC
from webapp.ingest.models import Mention
from webapp.ingest.schemas import MAX_PUSH
from webapp.core.limits import MAX_TEXT

from tests.helpers import app_config, mention, migrated_app, new_monitor, wait_for


@pytest.fixture
def app(tmp_path, service_urls):
    config = app_config(tmp_path)
    config["BUS_URL"] = f"{service_urls['BUS_URL']}?partitions=2&prefix=push-{uuid.uuid4().hex[:8]}."
    with migrated_app(config) as app:
        yield app
        with app.app_context():
            runtime.bus().close()


def consume_until(app, expected: int) -> int:
    """Run a consumer (as a worker does) until `expected` mentions are stored; returns the count."""
    with app.app_context():
        bus = runtime.bus()
        consumer = bus.consumer(MENTIONS_TOPIC, MENTIONS_GROUP, "test")

        def stored():
            batch = consumer.poll(2000, 0.5)
            if batch:
                pipeline.handle_batch(db.session, consumer, batch)
            return db.session.execute(select(func.count()).select_from(Mention)).scalar() >= expected

        try:
            wait_for(stored, 60, 0, "the push to be stored")
            assert consumer.poll(2000, 0.5) == []   # nothing more: no mention twice
            return db.session.execute(select(func.count()).select_from(Mention)).scalar()
        finally:
            consumer.close()


def test_a_full_push_is_stored_whole_and_once(app, client, auth):
    monitor_id, _ = new_monitor(app)
    items = [mention(i, published_at="2026-05-01T10:00:00+02:00" if i % 2 else None) for i in range(MAX_PUSH)]
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    assert response.status_code == 202 and response.json == {"accepted": MAX_PUSH}
    again = client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items[:100], headers=auth)
    assert again.status_code == 202   # pushed twice: stored once
    with app.app_context():
        assert runtime.bus().lag(MENTIONS_TOPIC, MENTIONS_GROUP) < 20   # packed: a few records
    assert consume_until(app, MAX_PUSH) == MAX_PUSH
    with app.app_context():
        assert db.session.execute(select(func.count(Mention.external_id.distinct()))).scalar() == MAX_PUSH


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


@pytest.mark.parametrize("body, status", [
    (nested(1000), 400),
    (json.dumps([{"external_id": "1", "text": "x" * (MAX_TEXT + 1)}]).encode(), 422),
    (json.dumps([{"external_id": "1", "text": "a\u0000b"}]).encode(), 422),
    (json.dumps([{"external_id": "1", "text": " \u2028\t\u3000 "}]).encode(), 422),
    (json.dumps([{"external_id": "1", "text": "bad time", "published_at": "2026-13-45T99:00:00"}]).encode(), 422),
    (json.dumps([{"external_id": "1", "text": "year 0", "published_at": "0000-01-01"}]).encode(), 422),
    (json.dumps([{"external_id": "1", "text": "huge author", "author": "a" * 100_000}]).encode(), 422),
    (json.dumps([mention(i) for i in range(MAX_PUSH + 1)]).encode(), 422),
    (b"[" + b'{"external_id": "1", "text": "' + b"y" * (17 * 1024 * 1024) + b'"}]', 413),
    (b'[{"external_id": "1", "text": "cut', 400),
])
def test_hostile_pushes_get_a_4xx_and_publish_nothing(app, client, auth, body, status):
    monitor_id, _ = new_monitor(app)
    response = client.post(f"/api/v1/monitors/{monitor_id}/mentions", data=body, headers=auth,
                           content_type="application/json")
    assert response.status_code == status, response.get_data(as_text=True)[:300]
    with app.app_context():
        assert runtime.bus().lag(MENTIONS_TOPIC, MENTIONS_GROUP) == 0
