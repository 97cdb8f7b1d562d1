"""A bulk action over a filter is one statement, bounded on PostgreSQL like the mentions page's
search (SEARCH_TIMEOUT_SECONDS): one that runs past it is stopped with nothing changed, and says so
(the page: back to the list with the message; the API: 422 too_slow). Its answer's `matched` count
comes after the change is stored: a count past the bound is left out (null), not an error."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, insert, select, text

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.mentions import search
from webapp.mentions.inbox import service as inbox
from webapp.mentions.inbox.models import MentionTag, Tag
from webapp.monitors.models import Monitor

from tests.helpers import new_monitor

pytestmark = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)   # statement_timeout
NOW = datetime.now(timezone.utc)


@pytest.fixture
def monitor(app):
    monitor_id, source_id = new_monitor(app)
    with app.app_context():
        db.session.execute(insert(Mention), [{
            "monitor_id": monitor_id, "source_id": source_id, "external_id": f"m{i}", "text": f"acme rocket {i}",
            "published_at": NOW, "ingested_at": NOW, "compound": 0.5, "scored": True, "pos": 0.5, "neu": 0.5,
            "neg": 0.0, "label": "positive", "muted": False} for i in range(3)])
        db.session.commit()
        db.session.remove()
    app.config["SEARCH_TIMEOUT_SECONDS"] = 0.2
    yield monitor_id
    app.config["SEARCH_TIMEOUT_SECONDS"] = 0


@pytest.fixture
def slow_bulk(monkeypatch):
    """The bulk statement done, then 5 s more inside the same bound (PostgreSQL's pg_sleep)."""
    plain = inbox._run

    def slow(session, *args):
        changed = plain(session, *args)
        session.execute(text("SELECT pg_sleep(5)"))
        return changed

    monkeypatch.setattr(inbox, "_run", slow)


def _tagged(app, monitor_id: int) -> tuple[int, int]:
    """(tags of the monitor, tagged mentions)."""
    with app.app_context():
        tags = db.session.execute(select(func.count()).select_from(Tag).where(Tag.monitor_id == monitor_id)).scalar()
        rows = db.session.execute(select(func.count()).select_from(MentionTag)).scalar()
        db.session.remove()
    return tags, rows


def test_a_slow_bulk_action_is_stopped_and_changes_nothing(app, monitor, slow_bulk):
    with app.app_context():
        spec, _ = search.parse_filters({"q": "acme"})
        with pytest.raises(inbox.BulkTooSlow, match="took more than 0.2 s and was stopped; nothing changed"):
            inbox.bulk(db.session, db.session.get(Monitor, monitor), spec, "tag", user_id=1, tag="slow",
                       seconds=0.2)
        assert db.session.execute(text("SELECT 1")).scalar() == 1   # the session goes on
        db.session.remove()
    assert _tagged(app, monitor) == (0, 0)   # neither the tag nor its rows were kept


def test_the_bulk_form_goes_back_to_the_list_saying_why(app, logged_in, monitor, slow_bulk):
    page = f"/monitors/{monitor}/mentions"
    token = re.search(r'name="csrf_token" value="([^"]+)"', logged_in.get(page).get_data(as_text=True)).group(1)
    answer = logged_in.post(f"{page}/bulk", data={"csrf_token": token, "back": f"{page}?q=acme", "q": "acme",
                                                   "action": "tag", "bulk_tag": "slow"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith("?q=acme")
    shown = logged_in.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Tag: the action took more than 0.2 s and was stopped; nothing changed" in shown
    assert _tagged(app, monitor) == (0, 0)


def test_the_bulk_api_answers_422_too_slow_and_changes_nothing(app, client, auth, monitor, slow_bulk):
    answer = client.post(f"/api/v1/monitors/{monitor}/mentions/bulk", headers=auth,
                         json={"filter": {"q": "acme"}, "action": "tag", "tag": "slow"})
    assert answer.status_code == 422 and answer.get_json()["error"] == "too_slow", answer.get_json()
    assert "nothing changed" in answer.get_json()["detail"]
    assert _tagged(app, monitor) == (0, 0)


def test_a_slow_matched_count_is_left_out_and_the_change_kept(app, client, auth, monitor, monkeypatch):
    plain = search.count

    def slow(session, *args):
        session.execute(text("SELECT pg_sleep(5)"))
        return plain(session, *args)

    monkeypatch.setattr(search, "count", slow)
    answer = client.post(f"/api/v1/monitors/{monitor}/mentions/bulk", headers=auth,
                         json={"filter": {"q": "acme"}, "action": "tag", "tag": "kept"})
    assert answer.status_code == 200 and answer.get_json() == {"action": "tag", "changed": 3, "matched": None}
    assert _tagged(app, monitor) == (1, 3)
