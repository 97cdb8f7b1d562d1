"""Teams: the service's rules (roles, last owner, default team), the team API, the team pages,
the current team, and `create-user --team --role`."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.people.auth import create_token
from webapp.people.models import Membership, Team, User
from webapp.people.services import teams

from tests.helpers import make_user, new_monitor

pytestmark = pytest.mark.both_databases


def _bearer(app, email: str) -> dict:
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == email)).scalar_one()
        return {"Authorization": f"Bearer {create_token(user)}"}


def _login(app, email: str, password: str = "correct horse"):
    browser = app.test_client()
    assert browser.post("/login", data={"email": email, "password": password}).status_code == 302
    return browser


def test_service_roles_last_owner_and_default_team(app):
    owner = make_user(app, email="o@example.com", team=None)
    other = make_user(app, email="x@example.com", team=None)
    admin = make_user(app, email="a@example.com", role="admin", team=None)
    with app.app_context():
        s = db.session
        team = teams.create_team(s, "  Brand   A ", s.get(User, owner))
        assert team.name == "Brand A"
        with pytest.raises(teams.TeamError):
            teams.create_team(s, "Brand A", s.get(User, other))
        with pytest.raises(teams.TeamError):
            teams.create_team(s, "\x00", s.get(User, other))
        assert teams.team_role(s, s.get(User, owner), team.id) == "owner"
        assert teams.team_role(s, s.get(User, other), team.id) is None
        assert teams.team_role(s, s.get(User, admin), team.id) == "owner"      # admins act as owners
        assert teams.visible_team_ids(s, s.get(User, admin)) is None
        assert teams.visible_team_ids(s, s.get(User, other)) == set()
        teams.add_member(s, team.id, "X@example.com", "viewer")
        assert teams.is_member(s, team.id, other) and [u.email for u in teams.members(s, team.id)] == [
            "o@example.com", "x@example.com"]
        with pytest.raises(teams.TeamError):
            teams.add_member(s, team.id, "nobody@example.com", "viewer")
        with pytest.raises(teams.TeamError):
            teams.add_member(s, team.id, "x@example.com", "admin")
        with pytest.raises(teams.TeamError):            # never the last owner
            teams.remove_member(s, team.id, owner)
        with pytest.raises(teams.TeamError):
            teams.change_role(s, team.id, owner, "editor")
        teams.change_role(s, team.id, other, "owner")
        assert teams.remove_member(s, team.id, owner) is True
        # default team: the only team, ambiguity refused, admins in no team get Default
        assert teams.default_team_for(s, s.get(User, other)) == team.id
        with pytest.raises(teams.TeamError):
            teams.default_team_for(s, s.get(User, owner))                     # in no team now
        default = s.execute(select(Team.id).where(Team.name == "Default")).scalar_one()
        assert teams.default_team_for(s, s.get(User, admin)) == default
        with pytest.raises(teams.TeamError):
            teams.default_team_for(s, s.get(User, other), default)            # not a member there
        with pytest.raises(teams.TeamError):
            teams.default_team_for(s, s.get(User, other), 2 ** 64)
        teams.create_team(s, "Brand B", s.get(User, other))
        with pytest.raises(teams.TeamError):
            teams.default_team_for(s, s.get(User, other))                     # two teams: say which


def test_team_api(app, client):
    make_user(app, email="lead@example.com", team=None)
    make_user(app, email="member@example.com", team=None)
    lead, member = _bearer(app, "lead@example.com"), _bearer(app, "member@example.com")
    assert client.get("/api/v1/teams", headers=lead).get_json() == []
    created = client.post("/api/v1/teams", headers=lead, json={"name": "Brand"})
    assert created.status_code == 201 and created.get_json()["name"] == "Brand"
    team_id = created.get_json()["id"]
    assert client.post("/api/v1/teams", headers=lead, json={"name": "Brand"}).status_code == 422
    assert client.post("/api/v1/teams", headers=lead, json={"name": ""}).status_code == 422
    assert client.post("/api/v1/teams", headers=lead, json={"name": ["x"]}).status_code == 422
    # outsiders: 404, whatever the team id
    for tid in (team_id, 999_999, 2 ** 63 + 5):
        answer = client.post(f"/api/v1/teams/{tid}/members", headers=member,
                             json={"email": "member@example.com", "role": "viewer"})
        assert answer.status_code == 404, (tid, answer.get_json())
        assert answer.get_json()["error"] == "not_found"
    added = client.post(f"/api/v1/teams/{team_id}/members", headers=lead,
                        json={"email": "member@example.com", "role": "viewer"})
    assert added.status_code == 201 and added.get_json()["role"] == "viewer"
    assert client.post(f"/api/v1/teams/{team_id}/members", headers=lead,
                       json={"email": "ghost@example.com", "role": "viewer"}).status_code == 422
    assert client.post(f"/api/v1/teams/{team_id}/members", headers=lead,
                       json={"email": "member@example.com", "role": "boss"}).status_code == 422
    assert client.get("/api/v1/teams", headers=member).get_json() == [
        {"id": team_id, "name": "Brand", "role": "viewer", "time_zone": "UTC"}]
    # a viewer sees the team but may not change its members: 403
    lead_id = added.get_json()["user_id"] - 1
    assert client.delete(f"/api/v1/teams/{team_id}/members/{lead_id}", headers=member).status_code == 403
    # the last owner stays
    with app.app_context():
        lead_id = db.session.execute(select(User.id).where(User.email == "lead@example.com")).scalar_one()
        member_id = db.session.execute(select(User.id).where(User.email == "member@example.com")).scalar_one()
    assert client.delete(f"/api/v1/teams/{team_id}/members/{lead_id}", headers=lead).status_code == 409
    assert client.delete(f"/api/v1/teams/{team_id}/members/{member_id}", headers=lead).status_code == 204
    assert client.delete(f"/api/v1/teams/{team_id}/members/{member_id}", headers=lead).status_code == 404
    assert client.delete(f"/api/v1/teams/{team_id}/members/{2 ** 64}", headers=lead).status_code == 404
    # a monitor goes to the caller's only team; with two teams, team_id is needed
    monitor = client.post("/api/v1/monitors", headers=lead, json={"name": "m", "query": "", "sources": []})
    assert monitor.status_code == 201 and monitor.get_json()["team_id"] == team_id
    second = client.post("/api/v1/teams", headers=lead, json={"name": "Second"}).get_json()["id"]
    assert client.post("/api/v1/monitors", headers=lead, json={"name": "m"}).status_code == 422
    placed = client.post("/api/v1/monitors", headers=lead, json={"name": "m", "team_id": second})
    assert placed.status_code == 201 and placed.get_json()["team_id"] == second
    assert client.post("/api/v1/notifiers", headers=lead, json={
        "kind": "email", "to": ["a@example.com"], "team_id": second}).get_json()["team_id"] == second
    # a team the caller is not an editor of is refused as team_id
    refused = client.post("/api/v1/monitors", headers=member, json={"name": "m", "team_id": second})
    assert refused.status_code == 422


def test_team_pages_switch_and_account(app):
    make_user(app, email="p@example.com", role="editor")                 # in Default
    browser = _login(app, "p@example.com")
    created = browser.post("/teams", data={"name": "Pages team"})
    assert created.status_code == 302
    with app.app_context():
        team_id = db.session.execute(select(Team.id).where(Team.name == "Pages team")).scalar_one()
    assert b"Pages team" in browser.get("/teams").data
    assert browser.post("/teams", data={"name": ""}).status_code == 400
    # the new team is current: a monitor created on the form goes there, and the list shows it
    made = browser.post("/monitors/new", data={"name": "In pages team", "query": ""})
    assert made.status_code == 302, made.data[-2000:]
    with app.app_context():
        assert db.session.execute(select(Monitor.team_id).where(Monitor.name == "In pages team")).scalar_one() == team_id
    new_monitor(app, "In Default")
    listing = browser.get("/").get_data(as_text=True)
    assert "In pages team" in listing and "In Default" not in listing
    with app.app_context():
        default = db.session.execute(select(Team.id).where(Team.name == "Default")).scalar_one()
    assert browser.post(f"/teams/{default}/switch").status_code == 302
    listing = browser.get("/").get_data(as_text=True)
    assert "In Default" in listing and "In pages team" not in listing
    assert "In pages team" in browser.get("/?team=all").get_data(as_text=True)
    assert browser.post("/monitors/new", data={"name": "x", "team_id": "999999"}).status_code == 400
    # members: add by email, change the role, remove
    make_user(app, email="q@example.com", team=None)
    assert browser.post(f"/teams/{team_id}/members", data={"email": "q@example.com", "role": "viewer"}).status_code == 302
    assert browser.post(f"/teams/{team_id}/members", data={"email": "none@example.com"}).status_code == 400
    with app.app_context():
        q = db.session.execute(select(User.id).where(User.email == "q@example.com")).scalar_one()
    assert browser.post(f"/teams/{team_id}/members/{q}/role", data={"role": "editor"}).status_code == 302
    outsider = _login(app, "q@example.com")
    assert outsider.get(f"/teams/{default}").status_code == 404            # not in Default
    assert outsider.post(f"/teams/{team_id}/members/{q}/remove").status_code == 403   # an editor
    assert browser.post(f"/teams/{team_id}/members/{q}/remove").status_code == 302
    assert outsider.get(f"/teams/{team_id}").status_code == 404
    # /account: the password change needs the current one
    page = browser.get("/account").get_data(as_text=True)
    assert "Pages team" in page and "/account/tokens" in page
    assert browser.post("/account/password", data={"current": "wrong", "new": "a new long password",
                                                   "again": "a new long password"}).status_code == 400
    assert browser.post("/account/password", data={"current": "correct horse", "new": "a new long password",
                                                   "again": "another"}).status_code == 400
    assert browser.post("/account/password", data={"current": "correct horse", "new": "a new long password",
                                                   "again": "a new long password"}).status_code == 302
    assert browser.get("/account").status_code == 200                    # this session goes on
    _login(app, "p@example.com", "a new long password")


def test_create_user_joins_a_team_with_a_role(app, runner):
    done = runner.invoke(args=["create-user", "t@example.com", "--team", "Agency", "--role", "owner",
                               "--password", "long enough"])
    assert done.exit_code == 0, done.output
    plain = runner.invoke(args=["create-user", "d@example.com", "--password", "long enough"])
    assert plain.exit_code == 0, plain.output
    viewer = runner.invoke(args=["create-user", "v@example.com", "--role", "viewer", "--password", "long enough"])
    assert viewer.exit_code == 0, viewer.output
    assert runner.invoke(args=["create-user", "z@example.com", "--role", "admin",
                               "--password", "long enough"]).exit_code != 0
    with app.app_context():
        rows = db.session.execute(select(User.email, User.role, Team.name, Membership.role)
                                  .join(Membership, Membership.user_id == User.id)
                                  .join(Team, Team.id == Membership.team_id).order_by(User.email)).all()
    assert [tuple(r) for r in rows] == [("d@example.com", "editor", "Default", "editor"),
                                        ("t@example.com", "editor", "Agency", "owner"),
                                        ("v@example.com", "viewer", "Default", "viewer")]


def test_hostile_input_gets_a_clear_4xx(app, client):
    make_user(app, email="h@example.com", team=None)
    bearer = _bearer(app, "h@example.com")
    team_id = client.post("/api/v1/teams", headers=bearer, json={"name": "H"}).get_json()["id"]
    deep = '{"name": ' * 1000 + "1" + "}" * 1000
    answer = client.post("/api/v1/teams", headers=bearer, data=deep, content_type="application/json")
    assert 400 <= answer.status_code < 500 and answer.get_json()["error"]
    for body in ({"name": "x" * 100_000}, {"name": "a\x00b"}, {"name": 12}, [], {"name": "ok", "extra": 1}):
        answer = client.post("/api/v1/teams", headers=bearer, json=body)
        assert 400 <= answer.status_code < 500 and answer.get_json()["error"], (str(body)[:40], answer.status_code)
    for body in ({"email": "x" * 100_000, "role": "viewer"}, {"email": "h@example.com", "role": None},
                 {"email": ["h@example.com"]}, {"email": "h@example.com\x00", "role": "viewer"}):
        answer = client.post(f"/api/v1/teams/{team_id}/members", headers=bearer, json=body)
        assert 400 <= answer.status_code < 500, (str(body)[:40], answer.status_code)
    for monitor in ({"name": "m", "team_id": 2 ** 64}, {"name": "m", "team_id": "1"}, {"name": "m", "team_id": -1},
                    {"name": "m", "team_id": True}):
        answer = client.post("/api/v1/monitors", headers=bearer, json=monitor)
        assert answer.status_code == 422, (monitor, answer.status_code)
    assert client.delete(f"/api/v1/teams/{2 ** 64}/members/1", headers=bearer).status_code == 404
    browser = _login(app, "h@example.com")
    for data in ({"name": "y" * 5000}, {"name": "   "}):
        assert browser.post("/teams", data=data).status_code == 400
    assert browser.post(f"/teams/{team_id}/members", data={"email": "z" * 5000, "role": "owner"}).status_code == 400
    assert browser.post(f"/teams/{team_id}/members", data={"email": "h@example.com", "role": "god"}).status_code == 400
    assert browser.post(f"/teams/{2 ** 64}/switch").status_code == 404
    assert browser.get(f"/teams/{2 ** 64}").status_code == 404


def test_notifier_form_takes_the_chosen_team(app):
    make_user(app, email="n@example.com", role="editor")                 # editor in Default
    browser = _login(app, "n@example.com")
    assert browser.post("/teams", data={"name": "Ops"}).status_code == 302   # owner, now current
    with app.app_context():
        ops = db.session.execute(select(Team.id).where(Team.name == "Ops")).scalar_one()
        default = db.session.execute(select(Team.id).where(Team.name == "Default")).scalar_one()
    page = browser.get("/alerts").get_data(as_text=True)
    assert 'name="team_id"' in page and f'value="{ops}" selected' in page
    made = browser.post("/alerts/notifiers/email", data={"email-name": "to default", "email-to": "a@example.com",
                                                         "team_id": str(default)})
    assert made.status_code == 200, made.get_data(as_text=True)[-1500:]
    refused = browser.post("/alerts/notifiers/email", data={"email-name": "nowhere", "email-to": "a@example.com",
                                                            "team_id": "987654"})
    assert refused.status_code == 400 and "Choose one of your teams" in refused.get_data(as_text=True)
    from webapp.alerting.models import Notifier
    with app.app_context():
        assert dict(db.session.execute(select(Notifier.name, Notifier.team_id)).all()) == {"to default": default}


def test_pages_show_edit_controls_by_team_role(app):
    make_user(app, email="tv@example.com", role="editor", team_role="viewer")      # viewer of Default
    make_user(app, email="te@example.com", role="editor")                          # editor of Default
    monitor_id, _ = new_monitor(app, "Shared")
    as_viewer, as_editor = _login(app, "tv@example.com"), _login(app, "te@example.com")
    assert 'id="edit-link"' not in as_viewer.get(f"/monitors/{monitor_id}").get_data(as_text=True)
    assert 'id="edit-link"' in as_editor.get(f"/monitors/{monitor_id}").get_data(as_text=True)
    assert 'value="save"' not in as_viewer.get(f"/monitors/{monitor_id}/rules").get_data(as_text=True)
    assert 'value="save"' in as_editor.get(f"/monitors/{monitor_id}/rules").get_data(as_text=True)
    assert as_viewer.get(f"/monitors/{monitor_id}/edit").status_code == 403   # sees it, may not change it
