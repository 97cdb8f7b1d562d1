"""Deleting monitors and notifiers (API and pages), on SQLite and PostgreSQL.

A monitor of team A is seeded with one of everything (tests/people/test_team_access.py's seed:
mentions, rollups, a rule, an alert event with a delivery, a silence, a backfill, lexicon, an
override, inbox and noise rows); after DELETE no row of any table refers to it, directly or
through a deleted parent, and team B's monitor keeps every row of its own.
"""
from __future__ import annotations

import pytest
from sqlalchemy import inspect, text

from webapp.core.extensions import db
from webapp.people.auth import create_token
from webapp.people.models import User

from tests.helpers import make_user
from tests.people.test_team_access import seed

pytestmark = pytest.mark.both_databases


def _headers(app, user_id: int) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {create_token(db.session.get(User, user_id))}"}


def _rows_of_monitor(app, monitor_id: int) -> dict[str, int]:
    """Rows per table with a monitor_id column that name `monitor_id`."""
    out = {}
    with app.app_context():
        inspector = inspect(db.engine)
        for table in inspector.get_table_names():
            if any(c["name"] == "monitor_id" for c in inspector.get_columns(table)):
                out[table] = db.session.execute(
                    text(f'SELECT count(*) FROM "{table}" WHERE monitor_id = :m'), {"m": monitor_id}).scalar()
        db.session.remove()
    return out


def _dangling(app) -> list:
    """Rows whose parent is gone (SQLite checks it; PostgreSQL enforces it on every write)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return []
        found = db.session.execute(text("PRAGMA foreign_key_check")).all()
        db.session.remove()
        return found


def test_delete_monitor_api_takes_everything_of_it(app, client):
    seeded = seed(app, client)
    monitor = seeded["values"]["monitor_id"]
    owner = _headers(app, seeded["values"]["user_id"])
    before = _rows_of_monitor(app, monitor)
    assert before["mentions"] == 3 and before["rollups"] > 0 and before["alert_rules"] == 1
    assert before["alert_events"] == 1 and before["backfills"] == 1 and before["sources"] >= 2
    b_before = _rows_of_monitor(app, seeded["monitor_b"])

    answer = client.delete(f"/api/v1/monitors/{monitor}", headers=owner)
    assert answer.status_code == 204 and answer.get_data() == b""
    assert set(_rows_of_monitor(app, monitor).values()) == {0}
    assert _dangling(app) == []
    with app.app_context():
        for table in ("alert_deliveries", "alert_states", "mention_tags", "mention_notes", "backfill_slices"):
            if table in inspect(db.engine).get_table_names():
                # every such row of the seed belonged to monitor A
                assert db.session.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() == 0, table
        db.session.remove()
    assert _rows_of_monitor(app, seeded["monitor_b"]) == b_before

    assert client.get(f"/api/v1/monitors/{monitor}", headers=owner).status_code == 404
    again = client.delete(f"/api/v1/monitors/{monitor}", headers=owner)
    assert again.status_code == 404 and again.get_json()["error"]
    # the notifier belongs to the team and stays
    notifier = seeded["values"]["notifier_id"]
    assert client.get("/api/v1/notifiers", headers=owner).get_json()[0]["id"] == notifier


def test_delete_follows_team_roles(app, client):
    seeded = seed(app, client)
    monitor, b_users = seeded["values"]["monitor_id"], seeded["b_users"]
    for role in ("viewer", "editor", "owner"):  # team B's members: A's monitor does not exist for them
        assert client.delete(f"/api/v1/monitors/{monitor}", headers=_headers(app, b_users[role])).status_code == 404
        assert client.delete(f"/api/v1/notifiers/{seeded['values']['notifier_id']}",
                             headers=_headers(app, b_users[role])).status_code == 404
    viewer = _headers(app, b_users["viewer"])   # a viewer of B's own monitor may not delete it
    answer = client.delete(f"/api/v1/monitors/{seeded['monitor_b']}", headers=viewer)
    assert answer.status_code == 403 and answer.get_json()["error"]
    assert client.get(f"/api/v1/monitors/{seeded['monitor_b']}", headers=viewer).status_code == 200
    assert client.delete("/api/v1/monitors/99999999999999999999", headers=viewer).status_code == 404
    assert client.delete(f"/api/v1/monitors/{monitor}").status_code == 401


def test_delete_notifier_api(app, client):
    seeded = seed(app, client)
    owner = _headers(app, seeded["values"]["user_id"])
    notifier, rule = seeded["values"]["notifier_id"], seeded["values"]["rule_id"]
    assert client.delete(f"/api/v1/notifiers/{notifier}", headers=owner).status_code == 204
    assert client.delete(f"/api/v1/notifiers/{notifier}", headers=owner).status_code == 404
    assert client.get("/api/v1/notifiers", headers=owner).get_json() == []
    rule_now = client.get(f"/api/v1/rules/{rule}", headers=owner).get_json()
    assert rule_now["notifiers"] == []   # the rule stays, without the notifier
    assert _dangling(app) == []


def test_delete_monitor_page_confirms_then_deletes(app, client):
    make_user(app, email="page@example.com", role="editor", password="page password")
    client.post("/login", data={"email": "page@example.com", "password": "page password"})
    created = client.post("/monitors/new", data={"name": "Doomed <b>x</b>", "query": ""})
    monitor = int(created.headers["Location"].rsplit("/", 1)[1])
    page = client.get(f"/monitors/{monitor}/delete")
    body = page.get_data(as_text=True)
    assert page.status_code == 200 and "Delete Doomed &lt;b&gt;x&lt;/b&gt;?" in body and "0 mentions" in body
    assert f'href="/monitors/{monitor}/delete"' in client.get(f"/monitors/{monitor}/edit").get_data(as_text=True)
    done = client.post(f"/monitors/{monitor}/delete")
    assert done.status_code == 302 and done.headers["Location"].endswith("/")
    assert "deleted" in client.get("/").get_data(as_text=True)
    assert client.get(f"/monitors/{monitor}").status_code == 404
    assert client.post(f"/monitors/{monitor}/delete").status_code == 404


def test_delete_monitor_page_needs_csrf_and_editor(app, client):
    app.config["WTF_CSRF_ENABLED"] = True
    make_user(app, email="viewer@example.com", role="viewer", password="viewer password")
    make_user(app, email="ed@example.com", role="editor", password="editor password")
    with app.app_context():
        from webapp.monitors.services.manage import create_monitor
        from webapp.people.services import teams
        monitor = create_monitor(db.session, "Kept", "", [], team_id=teams.ensure_team(db.session, "Default").id).id
        db.session.remove()
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/login", data={"email": "ed@example.com", "password": "editor password"})
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/monitors/{monitor}/delete").status_code == 400   # no CSRF token
    assert client.get(f"/monitors/{monitor}").status_code == 200
    app.config["WTF_CSRF_ENABLED"] = False
    client.post("/logout")
    client.post("/login", data={"email": "viewer@example.com", "password": "viewer password"})
    assert client.get(f"/monitors/{monitor}/delete").status_code == 403
    assert client.post(f"/monitors/{monitor}/delete").status_code == 403


def test_delete_notifier_page(app, client):
    make_user(app, email="page@example.com", role="editor", password="page password")
    client.post("/login", data={"email": "page@example.com", "password": "page password"})
    client.post("/alerts/notifiers/email", data={"email-name": "Ops list", "email-to": "ops@example.com"})
    page = client.get("/alerts").get_data(as_text=True)
    assert "Ops list" in page and "/alerts/notifiers/1/delete" in page
    done = client.post("/alerts/notifiers/1/delete")
    assert done.status_code == 302
    after = client.get("/alerts").get_data(as_text=True)
    assert "Notifier “Ops list” deleted" in after and "/alerts/notifiers/1/delete" not in after
    assert client.post("/alerts/notifiers/1/delete").status_code == 404
