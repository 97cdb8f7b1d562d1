"""Dead letters in bulk (issue 18): choose the waiting ones by error text, topic and age, see how
many match, replay or delete them all; the pipeline page links there with the number waiting."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.admin import dead_letters
from webapp.core.extensions import db
from webapp.ingest.bus import MENTIONS_TOPIC
from webapp.ingest.bus.models import DeadLetter
from webapp.ingest.models import Mention
from tests.helpers import new_monitor

NOW = datetime.now(timezone.utc)


@pytest.fixture
def letters(app):
    """250 'bad date' letters of the mentions topic (half of them 2 days old), 5 of 'other'."""
    monitor_id, source_id = new_monitor(app, "Bulk")
    with app.app_context():
        for i in range(250):
            payload = {"monitor_id": monitor_id, "source_id": source_id, "external_id": f"d{i}",
                       "text": "fixed later", "published_at": "2026-05-01T00:00:00Z"}
            db.session.add(DeadLetter(topic=MENTIONS_TOPIC, key=str(monitor_id), payload=json.dumps(payload),
                                      error="published_at '2026-11-31' is not an ISO 8601 time",
                                      created_at=NOW - timedelta(days=2 if i % 2 else 0)))
        for i in range(5):
            db.session.add(DeadLetter(topic="other", key="k", payload="{}", error="Something ELSE broke"))
        db.session.commit()
    return monitor_id


def _waiting(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(DeadLetter)
                                  .where(DeadLetter.replayed_at.is_(None))).scalar()


def test_the_filter_counts_what_it_matches(app, letters):
    with app.app_context():
        count = lambda **f: dead_letters.count_matching(db.session, dead_letters.LetterFilter(**f), NOW)
        assert count() == 255
        assert count(contains="ISO 8601") == 250 and count(contains="something else") == 5
        assert count(topic="other") == 5 and count(age="24h") == 125
        assert count(contains="ISO", age="24h", topic=MENTIONS_TOPIC) == 125
        assert count(contains="100%_") == 0   # LIKE wildcards are text here


def test_pipeline_links_to_the_bulk_page_with_the_number_waiting(app, admin_client, letters):
    page = admin_client.get("/admin/pipeline").get_data(as_text=True)
    assert 'id="dead-letters-bulk">255 waiting' in page
    bulk = admin_client.get("/admin/dead-letters?contains=iso+8601&age=24h").get_data(as_text=True)
    assert 'id="matching-count">125<' in bulk and "Replay 125 matching" in bulk and "Delete 125 matching" in bulk


def test_bulk_replay_publishes_the_matching_ones_and_they_are_stored(app, admin_client, letters, drain):
    response = admin_client.post("/admin/dead-letters/bulk", data={"action": "replay", "contains": "ISO 8601"})
    assert response.status_code == 302 and "contains=ISO+8601" in response.location
    assert _waiting(app) == 5
    drain()
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Mention)).scalar() == 250


def test_bulk_discard_deletes_only_the_matching_ones(app, admin_client, letters):
    response = admin_client.post("/admin/dead-letters/bulk", data={"action": "discard", "topic": "other"})
    assert response.status_code == 302
    assert _waiting(app) == 250
    older = admin_client.post("/admin/dead-letters/bulk", data={"action": "discard", "age": "24h"},
                              follow_redirects=True)
    assert "Deleted 125 dead letters." in older.get_data(as_text=True)
    assert _waiting(app) == 125


@pytest.mark.parametrize("form", [
    {"action": "discard", "age": "forever"},
    {"action": "discard", "contains": "x" * 201},
    {"action": "explode"},
    {},
])
def test_a_refused_filter_or_action_acts_on_nothing(app, admin_client, letters, form):
    response = admin_client.post("/admin/dead-letters/bulk", data=form)
    assert response.status_code == 400 and 'class="error"' in response.get_data(as_text=True)
    assert _waiting(app) == 255
