"""The inbox through the API: list filters and fields, one mention, notes, bulk actions, tags,
auto-tag rules at ingest and on demand, and hostile input answered with 4xx."""
from __future__ import annotations

import pytest

from webapp.core.extensions import db
from webapp.people.auth import create_token
from webapp.people.models import Membership, User

from tests.helpers import make_user, mention, new_monitor

pytestmark = pytest.mark.both_databases
TEXTS = ("my phone is broken, help", "love the new support team", "nice weather", "help me please")


def push(client, auth, drain, monitor_id, texts=TEXTS):
    items = [mention(i, t) for i, t in enumerate(texts)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()


def listing(client, auth, monitor_id, **args):
    answer = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string=args, headers=auth)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_rules_tag_at_ingest_and_the_list_filters_by_tag(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    rules = f"/api/v1/monitors/{monitor_id}/autotag-rules"
    made = client.post(rules, json={"tag": "Support", "query": "support OR help OR broken"}, headers=auth)
    assert made.status_code == 201 and made.get_json()["tag"] == "support"
    bad = client.post(rules, json={"tag": "x", "query": "help AND (broken"}, headers=auth)
    assert bad.status_code == 422 and "position" in bad.get_json()["detail"]["query"]
    push(client, auth, drain, monitor_id)
    tagged = listing(client, auth, monitor_id, tag="support")
    assert tagged["total"] == 3 and all(i["tags"] == ["support"] for i in tagged["items"])
    assert listing(client, auth, monitor_id, tag="nope")["total"] == 0
    item = listing(client, auth, monitor_id)["items"][0]
    assert {k: item[k] for k in ("status", "assignee_id", "read", "notes")} == {
        "status": "open", "assignee_id": None, "read": False, "notes": 0}
    # a rule added later tags stored mentions on demand
    assert client.post(rules, json={"tag": "weather", "query": "weather"}, headers=auth).status_code == 201
    assert client.post(rules + "/apply", headers=auth).get_json() == {"tagged": 1}   # support tags were there
    assert client.post(rules + "/apply", headers=auth).get_json() == {"tagged": 0}
    tags = client.get(f"/api/v1/monitors/{monitor_id}/tags", headers=auth).get_json()["tags"]
    assert tags == [{"name": "support", "count": 3}, {"name": "weather", "count": 1}]
    rule_id = client.get(rules, headers=auth).get_json()["items"][0]["id"]
    assert client.delete(f"{rules}/{rule_id}", headers=auth).status_code == 204
    assert client.delete(f"{rules}/{rule_id}", headers=auth).status_code == 404
    assert client.delete(f"{rules}/{2**64}", headers=auth).status_code == 404


def test_bulk_assign_done_read_and_notes(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    push(client, auth, drain, monitor_id)
    with app.app_context():
        me = db.session.execute(db.select(User.id).where(User.email == "token@example.com")).scalar_one()
    bulk = f"/api/v1/monitors/{monitor_id}/mentions/bulk"
    answer = client.post(bulk, json={"filter": {"q": "help"}, "action": "assign", "assignee": me}, headers=auth)
    assert answer.get_json() == {"action": "assign", "changed": 2, "matched": 2}
    assert listing(client, auth, monitor_id, assignee="me")["total"] == 2
    assert listing(client, auth, monitor_id, assignee="nobody")["total"] == 2
    assert client.post(bulk, json={"filter": {"assignee": "me"}, "action": "done"}, headers=auth).get_json()["changed"] == 2
    assert listing(client, auth, monitor_id, status="done")["total"] == 2
    assert client.post(bulk, json={"action": "read"}, headers=auth).get_json()["changed"] == 4
    assert listing(client, auth, monitor_id, read="unread")["total"] == 0
    first = listing(client, auth, monitor_id, status="done")["items"][0]
    assert first["assignee"] == "token@example.com" and first["read"] is True
    notes = f"/api/v1/monitors/{monitor_id}/mentions/{first['id']}/notes"
    assert client.post(notes, json={"body": "called them back"}, headers=auth).status_code == 201
    one = client.get(f"/api/v1/monitors/{monitor_id}/mentions/{first['id']}", headers=auth).get_json()
    assert one["notes"][0]["body"] == "called them back" and one["notes"][0]["author"] == "token@example.com"
    ids = client.post(bulk, json={"filter": {"ids": [first["id"]]}, "action": "open"}, headers=auth).get_json()
    assert ids["changed"] == 1
    stranger = make_user(app, email="stranger@example.com")
    with app.app_context():   # make_user puts everyone in the team Default: take the stranger out
        db.session.execute(db.delete(Membership).where(Membership.user_id == stranger))
        db.session.commit()
    refused = client.post(bulk, json={"action": "assign", "assignee": stranger}, headers=auth)
    assert refused.status_code == 422 and "assignee" in refused.get_json()["detail"]


def test_a_viewer_marks_read_but_changes_nothing_shared(app, client, drain, auth):
    monitor_id, _ = new_monitor(app)
    push(client, auth, drain, monitor_id)
    viewer = make_user(app, email="viewer@example.com", role="viewer")
    with app.app_context():
        headers = {"Authorization": f"Bearer {create_token(db.session.get(User, viewer))}"}
    bulk = f"/api/v1/monitors/{monitor_id}/mentions/bulk"
    assert client.post(bulk, json={"action": "read"}, headers=headers).get_json()["changed"] == 4
    assert client.post(bulk, json={"action": "tag", "tag": "x"}, headers=headers).status_code == 403
    assert listing(client, auth, monitor_id, read="unread")["total"] == 4   # the editor's own marks


@pytest.mark.parametrize("body", [
    {"action": "explode"}, {"action": "tag"}, {"action": "tag", "tag": "a" * 41}, {"action": "tag", "tag": "x\u0001"},
    {"action": "assign"}, {"action": "assign", "assignee": 2**64}, {"action": "assign", "assignee": "me"},
    {"action": "read", "filter": {"since": "0001-01-01", "until": "9999-12-31"}},
    {"action": "read", "filter": {"status": "closed"}}, {"action": "read", "filter": {"ids": [2**64]}},
    {"action": "read", "filter": {"nope": 1}}, {"action": "read", "filter": {"ids": list(range(1001))}},
    {"action": "read", "extra": True}, [], "read", {"action": "read", "filter": {"q": "x" * 100_000}},
])
def test_hostile_bulk_bodies_get_a_4xx(app, client, auth, body):
    monitor_id, _ = new_monitor(app)
    answer = client.post(f"/api/v1/monitors/{monitor_id}/mentions/bulk", json=body, headers=auth)
    if body == {"action": "read", "filter": {"since": "0001-01-01", "until": "9999-12-31"}}:
        assert answer.status_code in (200, 400), answer.get_json()   # a real range or a clear refusal
    else:
        assert 400 <= answer.status_code < 500, (body, answer.status_code)
    assert "error" in answer.get_json()


def test_hostile_list_filters_and_ids_get_a_4xx(app, client, auth):
    monitor_id, _ = new_monitor(app)
    for args in ({"status": "x"}, {"assignee": "9" * 30}, {"read": "x"}, {"tag": "\x00"}, {"tag": "t" * 500}):
        answer = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string=args, headers=auth)
        assert answer.status_code == 400, args
    for url in (f"/api/v1/monitors/{monitor_id}/mentions/{2**63 + 5}", f"/api/v1/monitors/{monitor_id}/mentions/9",
                f"/api/v1/monitors/{2**70}/mentions/bulk"):
        assert client.get(url, headers=auth).status_code in (404, 405)
    nested = '{"body": ' * 1000 + '"x"' + "}" * 1000
    for url in (f"/api/v1/monitors/{monitor_id}/mentions/1/notes", f"/api/v1/monitors/{monitor_id}/mentions/bulk"):
        answer = client.post(url, data=nested, content_type="application/json", headers=auth)
        assert 400 <= answer.status_code < 500 and "error" in answer.get_json()
