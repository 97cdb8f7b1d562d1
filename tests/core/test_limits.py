"""One set of mention limits (webapp/core/limits.py) at every way in: what the edge accepts is stored."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from webapp.core import limits
from webapp.core.extensions import db
from webapp.ingest.schemas import MentionIn
from webapp.ingest import importer
from webapp.ingest.models import Mention
from webapp.ingest.store import BadRecord, normalize
from webapp.monitors.sources.items import make_item

from tests.helpers import new_monitor

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
URL = "https://example.com/"


def at_limit(external_id: str = "e") -> dict:
    return {"external_id": external_id.ljust(limits.MAX_EXTERNAL_ID, "e"), "text": "t" * limits.MAX_TEXT,
            "author": "a" * limits.MAX_AUTHOR, "url": URL + "p" * (limits.MAX_URL - len(URL))}


def test_the_limits_fit_the_columns_and_adapters_stay_below_the_stored_text():
    columns = Mention.__table__.c
    assert columns.external_id.type.length == limits.MAX_EXTERNAL_ID
    assert columns.author.type.length == limits.MAX_AUTHOR
    assert columns.url.type.length == limits.MAX_URL
    assert getattr(columns.text.type, "length", None) is None  # Text: holds MAX_TEXT
    assert limits.FETCHED_TEXT <= limits.MAX_TEXT


def test_fields_at_the_limit_pushed_through_the_api_are_stored_whole(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    item = at_limit()
    answer = client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=[item])
    assert answer.status_code == 202 and answer.get_json() == {"accepted": 1}
    assert drain().inserted == 1
    with app.app_context():
        stored = db.session.execute(select(Mention)).scalar_one()
        assert (stored.external_id, stored.text, stored.author, stored.url) == \
            (item["external_id"], item["text"], item["author"], item["url"])


@pytest.mark.parametrize("field", ["external_id", "text", "author", "url"])
def test_one_character_over_is_refused_at_the_edge(app, client, auth, field):
    monitor_id, _ = new_monitor(app)
    item = at_limit()
    item[field] += "x"
    answer = client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=[item])
    assert answer.status_code == 422 and field in answer.get_data(as_text=True)


@pytest.mark.parametrize("item", [
    {"external_id": " ", "text": "fine"},
    {"external_id": "ok", "text": "   "},
    {"external_id": int("9" * (limits.MAX_EXTERNAL_ID + 1)), "text": "fine"},
])
def test_what_the_worker_would_refuse_is_refused_at_the_edge(app, client, auth, item):
    monitor_id, _ = new_monitor(app)
    answer = client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=[item])
    assert answer.status_code == 422


def test_what_the_edge_accepts_the_worker_stores_unchanged():
    item = MentionIn.model_validate(at_limit())
    record = {**item.model_dump(), "monitor_id": 1, "source_id": 1}
    row = normalize(record, NOW)
    assert (row["external_id"], row["text"], row["author"], row["url"]) == \
        (item.external_id, item.text, item.author, item.url)
    with pytest.raises(BadRecord, match="longer"):
        normalize({**record, "external_id": record["external_id"] + "x"}, NOW)


def test_the_importer_refuses_at_once_what_the_worker_would_refuse():
    with pytest.raises(ValueError, match="longer"):
        importer.to_mention({"id": "e" * (limits.MAX_EXTERNAL_ID + 1), "text": "t"})
    with pytest.raises(ValueError, match="ISO 8601"):
        importer.to_mention({"id": "1", "text": "t", "published_at": "last tuesday"})
    with pytest.raises(ValueError, match="url"):
        importer.to_mention({"id": "1", "text": "t", "url": 5})
    row = importer.to_mention({"id": "e" * limits.MAX_EXTERNAL_ID, "text": "t" * (limits.MAX_TEXT + 5),
                               "author": "a" * 300, "published_at": 1_777_636_800})
    assert len(row["text"]) == limits.MAX_TEXT and len(row["author"]) == limits.MAX_AUTHOR
    stored = normalize({**row, "monitor_id": 1, "source_id": 1}, NOW)  # epoch seconds read as such
    assert stored["published_at"] == datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_adapters_cut_fetched_text_to_the_fetched_limit():
    item = make_item("x", "word " * limits.FETCHED_TEXT, now=NOW)
    assert len(item.text) <= limits.FETCHED_TEXT and item.text.endswith("…")
