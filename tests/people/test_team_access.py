"""The team access matrix: for EVERY route of app.url_map whose URL names an object, a member of
team B (viewer, editor and owner) pointing at team A's object gets 404, and nothing changes.

Team A is seeded with one of everything (a monitor with mentions and rollups, an alert rule, an
alert event with a delivery, a silence, a notifier, a backfill, lexicon entries, a label
override, inbox and noise rows where those features are installed). Every table's rows are
checksummed before and after the requests. A URL argument this test does not know how to fill
fails the test: a route added later must say here which object it names (and so be scoped by
webapp/people/access.py). Lists (monitors, notifiers, teams, compare, alerts, the monitor list
page, exports and search of B's own monitor) never show A's objects.
"""
from __future__ import annotations

import hashlib
import json
import re
import pytest
from sqlalchemy import inspect, select, text

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.people.auth import create_token
from webapp.people.models import ApiToken, User
from webapp.people.services import teams

from tests.helpers import make_user, mention, seed_alert_history

TEAM_ROLES = ("viewer", "editor", "owner")
pytestmark = pytest.mark.both_databases
# URL arguments that name no object (a kind of notifier, an export format, a static file).
NOT_OBJECTS = {"kind", "ext", "filename"}
# Installation-admin pages: every non-admin gets 403 for any id (they exist for admins only).
ADMIN_ONLY = re.compile(r"^(people|admin)\.")
# Tables whose rows change on any authenticated request (a token's last use, sign-in throttling).
VOLATILE = {"api_tokens", "login_throttle", "alembic_version"}
SECRET = "Alpha-secret"     # in every name and text of team A: never in B's answers
IGNORED_METHODS = {"HEAD", "OPTIONS"}
MISSING_ID = 987_654_321     # an id no seeded object has


def _user(app, email: str, role: str = "editor") -> int:
    return make_user(app, email=email, role=role, password=f"{email} password", team=None)


def _token(app, user_id: int) -> dict:
    with app.app_context():
        return {"Authorization": f"Bearer {create_token(db.session.get(User, user_id))}"}


def _ok(response, what: str):
    assert response.status_code < 300, (what, response.status_code, response.get_data(as_text=True)[:500])
    return response.get_json(silent=True) or {}


def seed(app, client) -> dict:
    """Teams A and B; A with one of everything; B with viewer, editor and owner members."""
    a_owner, b_owner = _user(app, "a-owner@example.com"), _user(app, "b-owner@example.com")
    b_users = {"owner": b_owner, "viewer": _user(app, "b-viewer@example.com"),
               "editor": _user(app, "b-editor@example.com")}
    with app.app_context():
        team_a = teams.create_team(db.session, "Team A", db.session.get(User, a_owner)).id
        team_b = teams.create_team(db.session, "Team B", db.session.get(User, b_owner)).id
        teams.add_member(db.session, team_b, "b-viewer@example.com", "viewer")
        teams.add_member(db.session, team_b, "b-editor@example.com", "editor")
    a = _token(app, a_owner)
    monitor = _ok(client.post("/api/v1/monitors", headers=a, json={
        "name": f"{SECRET} monitor", "query": "", "sources": []}), "monitor A")["id"]
    _ok(client.post(f"/api/v1/monitors/{monitor}/mentions", headers=a, json=[
        mention(i, f"{SECRET} mention {i} is great", author=f"{SECRET}-author") for i in range(3)]), "push")
    notifier = _ok(client.post("/api/v1/notifiers", headers=a, json={
        "kind": "email", "to": ["alpha@example.com"], "name": f"{SECRET} notifier"}), "notifier")["id"]
    rule = _ok(client.post(f"/api/v1/monitors/{monitor}/rules", headers=a, json={
        "kind": "avg_sentiment", "window": "1h", "op": "<", "threshold": -0.2, "notifiers": [notifier],
        "name": f"{SECRET} rule"}), "rule")["id"]
    report = _ok(client.post(f"/api/v1/monitors/{monitor}/reports", headers=a,
                             json={"every": "daily", "notifiers": [notifier]}), "report")["id"]
    silence = _ok(client.post(f"/api/v1/monitors/{monitor}/silences", headers=a,
                              json={"duration_minutes": 60, "reason": SECRET}), "silence")["id"]
    _ok(client.post(f"/api/v1/monitors/{monitor}/lexicon", headers=a, json={"word": "alphaword", "valence": 1.0}),
        "lexicon")
    b = _token(app, b_owner)
    monitor_b = _ok(client.post("/api/v1/monitors", headers=b, json={"name": "Bravo monitor", "query": ""}),
                    "monitor B")["id"]
    _ok(client.post(f"/api/v1/monitors/{monitor_b}/mentions", headers=b, json=[mention(9, "bravo text")]), "push B")
    with app.app_context():
        from webapp.core.runtime import bus
        from webapp.ingest import pipeline

        pipeline.drain(bus(), db.session)
        mention_id = db.session.execute(select(Mention.id).where(Mention.monitor_id == monitor)).scalars().first()
        event_id, delivery_id, backfill_id = seed_alert_history(db.session, monitor, rule, notifier)
        values = {"monitor_id": monitor, "rule_id": rule, "notifier_id": notifier, "event_id": event_id,
                  "delivery_id": delivery_id, "backfill_id": backfill_id, "mention_id": mention_id,
                  "silence_id": silence, "word": "alphaword", "team_id": team_a, "user_id": a_owner,
                  "token_id": db.session.execute(select(ApiToken.id).where(ApiToken.user_id == a_owner)).scalar(),
                  "letter_id": 1, "kind": "email", "ext": "csv", "filename": "css/app.css", "report_id": report}
        db.session.remove()
    _ok(client.patch(f"/api/v1/monitors/{monitor}/mentions/{mention_id}", headers=a, json={"label": "negative"}),
        "override")
    _extras(client, a, monitor, mention_id, values)
    return {"values": values, "b_users": b_users, "monitor_b": monitor_b, "team_b": team_b}


def _extras(client, a, monitor: int, mention_id: int, values: dict) -> None:
    """Inbox and noise rows of team A, through their APIs when those features are installed."""
    for method, url, body in (
            ("POST", f"/api/v1/monitors/{monitor}/mentions/{mention_id}/notes", {"body": f"{SECRET} note"}),
            ("POST", f"/api/v1/monitors/{monitor}/mentions/bulk",
             {"action": "tag", "tag": "alpha-tag", "filter": {}}),
            ("POST", f"/api/v1/monitors/{monitor}/autotag-rules", {"tag": "support", "query": "great"}),
            ("PUT", f"/api/v1/monitors/{monitor}/mutes", {"authors": ["spammer"], "domains": [], "query": ""}),
            ("PUT", f"/api/v1/monitors/{monitor}/mentions/{mention_id}/relevance", {"irrelevant": True})):
        answer = client.open(url, method=method, headers=a, json=body)
        if answer.status_code == 404 and answer.get_json().get("error") == "not_found" and "no " not in str(
                answer.get_json().get("detail")):
            continue   # that feature's route is not installed
        _ok(answer, url)
        if "autotag" in url:
            values["autotag_rule_id"] = answer.get_json()["id"]


def fingerprint(app) -> dict[str, str]:
    """Every table's row count and a hash of its rows (VOLATILE tables: the count only)."""
    out = {}
    with app.app_context():
        for table in sorted(inspect(db.engine).get_table_names()):
            rows = db.session.execute(text(f'SELECT * FROM "{table}"')).all()
            if table in VOLATILE:
                out[table] = str(len(rows))
                continue
            digest = hashlib.sha256("\n".join(sorted(repr(tuple(r)) for r in rows)).encode()).hexdigest()
            out[table] = f"{len(rows)}:{digest}"
        db.session.remove()
    return out


def object_routes(app):
    """(rule, method) of every route whose URL names an object, in a stable order."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if not set(rule.arguments) - NOT_OBJECTS:
            continue
        for method in sorted(rule.methods - IGNORED_METHODS):
            yield rule, method


def fill(rule, values: dict) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(r"<(?:[^:<>]+(?:\([^)]*\))?:)?" + name + ">", str(values[name]), url)
    return url


def call(client, method: str, url: str, headers=None):
    kwargs = {"headers": headers or {}}
    if method in ("POST", "PATCH", "PUT") and url.startswith("/api/"):
        kwargs["json"] = {}
    elif method in ("POST", "PATCH", "PUT"):
        kwargs["data"] = {}
    response = client.open(url, method=method, **kwargs)
    body = response.get_data(as_text=True)     # streamed exports run to their end
    response.close()
    return response.status_code, body


def signed_in(app, email: str):
    client = app.test_client()
    assert client.post("/login", data={"email": email, "password": f"{email} password"}).status_code == 302
    return client


def test_no_route_reveals_or_changes_another_teams_objects(app, client):
    seeded = seed(app, client)
    values = seeded["values"]
    unknown = sorted({f"{rule.rule} ({rule.endpoint}): <{name}>" for rule, _ in object_routes(app)
                      for name in rule.arguments if name not in values})
    assert not unknown, ("routes whose URL names an object this matrix cannot fill; add the object "
                         "to seed() and scope the route through webapp/people/access.py:\n" + "\n".join(unknown))
    members = {role: (signed_in(app, f"b-{role}@example.com"), _token(app, seeded["b_users"][role]))
               for role in TEAM_ROLES}
    before = fingerprint(app)
    failures, cells = [], 0
    # B's own monitor with A's other object: the answer must be the one for an id that does not
    # exist at all (a 404, or the same 403/4xx whatever the id): no oracle for A's ids.
    crossed = {**values, "monitor_id": seeded["monitor_b"]}
    missing = {**crossed, **{k: MISSING_ID for k in values if k not in ("monitor_id", "word", *NOT_OBJECTS)}}
    for rule, method in object_routes(app):
        is_api = rule.rule.startswith("/api/")
        variants = [("A's object", fill(rule, values), 403 if ADMIN_ONLY.match(rule.endpoint) else 404)]
        others = set(rule.arguments) - NOT_OBJECTS - {"monitor_id", "word"}
        if "monitor_id" in rule.arguments and others and not ADMIN_ONLY.match(rule.endpoint):
            variants.append(("B's monitor with A's " + "/".join(sorted(others)), fill(rule, crossed),
                             fill(rule, missing)))
        for what, url, wanted in variants:
            for role in TEAM_ROLES:
                browser, bearer = members[role]
                who = client if is_api else browser
                status, body = call(who, method, url, bearer if is_api else None)
                expected = wanted   # or the answer for a missing id, as the same member:
                if isinstance(wanted, str):
                    expected = call(who, method, wanted, bearer if is_api else None)[0]
                cells += 1
                if status != expected:
                    failures.append(f"{method} {url} [{rule.endpoint}] as B {role} ({what}): {status}, "
                                    f"expected {expected}: {body[:160]!r}")
                elif SECRET in body:
                    failures.append(f"{method} {url} as B {role}: the answer shows team A's data")
    after = fingerprint(app)
    changed = sorted(t for t in before if before[t] != after.get(t))
    print(f"access matrix: {cells} requests over {len(list(object_routes(app)))} (route, method) pairs "
          f"x {len(TEAM_ROLES)} team roles")
    assert not failures, f"{len(failures)} of {cells} cells leak:\n" + "\n".join(failures)
    assert not changed, f"tables changed by refused requests: {changed}"


def test_lists_never_show_another_teams_objects(app, client):
    seeded = seed(app, client)
    values, monitor_b = seeded["values"], seeded["monitor_b"]
    for role in TEAM_ROLES:
        browser, bearer = signed_in(app, f"b-{role}@example.com"), _token(app, seeded["b_users"][role])
        answers = {name: call(who, "GET", url, headers) for name, who, url, headers in (
            ("api monitors", client, "/api/v1/monitors", bearer),
            ("api notifiers", client, "/api/v1/notifiers", bearer),
            ("api teams", client, "/api/v1/teams", bearer),
            ("api mentions of B", client, f"/api/v1/monitors/{monitor_b}/mentions?q=alpha", bearer),
            ("api export of B", client, f"/api/v1/monitors/{monitor_b}/mentions/export", bearer),
            ("monitor list", browser, "/", None),
            ("monitor list, all teams", browser, "/?team=all", None),
            ("compare", browser, f"/compare?monitor={values['monitor_id']}&monitor={monitor_b}", None),
            ("alerts", browser, "/alerts", None),
            ("teams", browser, "/teams", None),
            ("account", browser, "/account", None),
            ("mentions page of B", browser, f"/monitors/{monitor_b}/mentions?q=alpha", None),
            ("csv export of B", browser, f"/monitors/{monitor_b}/mentions.csv", None))}
        for name, (status, body) in answers.items():
            assert status == 200, (role, name, status)
            assert SECRET not in body and "Team A" not in body, (role, name)
        assert [m["id"] for m in json.loads(answers["api monitors"][1])] == [monitor_b]
        assert "Bravo monitor" in answers["monitor list"][1]
        assert [t["name"] for t in json.loads(answers["api teams"][1])] == ["Team B"]
