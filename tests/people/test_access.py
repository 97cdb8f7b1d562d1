"""Deny by default: every route has an explicit access rule here, and every route answers each role
as that rule says (anonymous, viewer, editor, admin); CSRF on every page POST; the API takes bearer
tokens only, never the session cookie."""
from __future__ import annotations

import re

import pytest

from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.people.models import Team, User

from tests.helpers import app_config, make_user, migrated_app
from tests.helpers import mention, new_monitor, seed_alert_history

ROLES = ("viewer", "editor", "admin")
# endpoint -> the least role that may use it ("public": everyone; "login": any signed-in user;
# "loopback": the metrics rule, see webapp/admin/views.py), or a {method: rule} mapping.
# A new route without an entry here fails test_every_route_has_an_access_rule.
RULES: dict[str, str | dict[str, str]] = {
    # public
    "static": "public", "vendor.plotly_js": "public", "health.healthz": "public",
    "vendor.swagger_asset": "public", "api_docs.page": "public",
    "api.openapi_json": "public", "auth.login": "public", "auth.logout": "login",
    "metrics.metrics_page": "loopback",
    # pages
    "monitors.index": "viewer", "monitors.new": "editor", "monitors.detail": "viewer",
    "monitors.mentions": "viewer", "admin.sources": "admin",
    "admin.index": "admin", "people.users": "admin", "people.create_user": "admin",
    "people.change_role": "admin", "people.set_active": "admin", "people.user_tokens": "admin",
    "people.create_user_token": "admin", "people.revoke": "admin", "people.all_tokens": "admin",
    "admin.pipeline": "admin", "admin.dead_letter": "admin", "admin.replay": "admin",
    "admin.dead_letters_page": "admin", "admin.bulk_dead_letters": "admin",
    "admin.replay_all": "admin", "admin.discard": "admin", "admin.deliveries": "admin",
    "account.my_tokens": "viewer", "account.create_my_token": "viewer", "account.revoke_mine": "viewer",
    "alerts.index": "viewer", "alerts.new_notifier": "editor", "alerts.test_notifier": "editor",
    "alerts.enable_notifier": "editor", "alerts.rules_page": {"GET": "viewer", "POST": "editor"},
    "alerts.backtest_rule": "viewer", "alerts.delete_rule": "editor", "alerts.history": "viewer",
    "alerts.new_silence": "editor", "alerts.end_silence": "editor", "alerts.event": "viewer",
    "alerts.redeliver": "editor",
    "backfill.index": {"GET": "viewer", "POST": "editor"}, "backfill.show": "viewer",
    "backfill.progress_json": "viewer", "backfill.resume": "editor", "backfill.cancel": "editor",
    "classify.classify": "viewer", "compare.index": "viewer",
    "mention_tools.set_label": "editor", "mention_tools.lexicon_page": {"GET": "viewer", "POST": "editor"},
    "mention_tools.lexicon_remove": "editor", "mention_tools.export_mentions": "viewer",
    "mention_tools.export_series": "viewer",
    "monitor_edit.edit": "editor", "monitor_edit.preview": "editor",
    "scorers.index": "viewer", "scorers.evaluate": "viewer", "scorers.train": "editor",
    "scorers.explain": "viewer", "scorers.monitor_scorer": {"GET": "viewer", "POST": "editor"},
    "scorers.rescore_progress": "viewer",
    # API
    "api.scoring.score": "viewer", "api.monitors.list_monitors": "viewer", "api.monitors.new_monitor": "editor",
    "api.monitors.get_monitor": "viewer", "api.monitors.patch_monitor": "editor", "api.alerting.list_alerts": "viewer",
    "api.mentions.get_lexicon": "viewer", "api.mentions.post_lexicon": "editor", "api.mentions.delete_lexicon": "editor",
    "api.ingest.push_mentions": "editor", "api.mentions.list_mentions": "viewer", "api.mentions.patch_mention": "editor",
    "api.mentions.export_mentions": "viewer", "api.monitors.preview_query": "viewer", "api.alerting.list_rules": "viewer",
    "api.alerting.new_rule": "editor", "api.alerting.backtest_unsaved_rule": "viewer", "api.insights.series": "viewer",
    "api.mentions.export_series": "viewer", "api.alerting.list_silences": "viewer", "api.alerting.new_silence": "editor",
    "api.alerting.list_notifiers": "viewer", "api.alerting.new_notifier": "editor", "api.alerting.enable_notifier": "editor",
    "api.alerting.test_notifier": "editor", "api.alerting.get_notifier": "viewer",
    "api.alerting.delete_notifier": "editor", "api.alerting.get_rule": "viewer", "api.alerting.delete_rule": "editor",
    "api.alerting.backtest_rule": "viewer", "api.scoring.list_scorers": "viewer", "api.alerting.end_silence": "editor",
    "api.alerting.event_deliveries": "viewer", "api.alerting.redeliver": "editor",
    "api.people.list_tokens": "viewer", "api.people.revoke_token": "viewer",
    # teams (webapp/people/teams/views.py, api.py): members are changed by the team's owners;
    # the seeded users are in Default as viewer, editor and (the admin) owner
    "teams.index": "viewer", "teams.create": "viewer", "teams.switch": "viewer", "teams.members": "viewer",
    "teams.add_member": "admin", "teams.change_role": "admin", "teams.remove_member": "admin",
    "teams.account": "viewer", "teams.change_password": "viewer",
    "api.teams.list_teams": "viewer", "api.teams.new_team": "viewer", "api.teams.add_member": "admin",
    "api.teams.remove_member": "admin",
    # the mention inbox (webapp/mentions/inbox/views.py, api.py): read marks are anyone's own,
    # the bulk routes ask for editor only for the other actions
    "inbox_pages.mention": "viewer", "inbox_pages.add_note": "editor", "inbox_pages.bulk": "viewer",
    "inbox_pages.tags_page": {"GET": "viewer", "POST": "editor"}, "inbox_pages.delete_rule": "editor",
    "inbox_pages.apply_rules": "editor",
    "api.inbox.get_mention": "viewer", "api.inbox.add_note": "editor", "api.inbox.bulk": "viewer",
    "api.inbox.list_tags": "viewer", "api.inbox.list_rules": "viewer", "api.inbox.new_rule": "editor",
    "api.inbox.delete_rule": "editor", "api.inbox.apply_rules": "editor",
    # noise control (webapp/mentions/noise/)
    "noise.noise_page": {"GET": "viewer", "POST": "editor"}, "noise.relevance_action": "editor",
    "noise.mark_relevance": "editor", "noise.apply_suggestion": "editor",
    "api.noise.get_mutes": "viewer", "api.noise.put_mutes": "editor", "api.noise.put_relevance_mark": "editor",
    "api.noise.get_relevance": "viewer", "api.noise.train_relevance": "editor", "api.noise.put_relevance": "editor",
    "api.noise.get_suggestions": "viewer", "api.noise.apply_suggestion": "editor",
    # scheduled reports (webapp/reports/)
    "reports.index": "viewer", "reports.create": "editor", "reports.delete": "editor", "reports.send": "editor",
    "api.reports_api.list_reports": "viewer", "api.reports_api.create": "editor", "api.reports_api.get": "viewer",
    "api.reports_api.delete": "editor", "api.reports_api.send": "editor",
    # terms and spike attribution (webapp/insights/terms/, attribution/): reads
    "api.terms.terms": "viewer", "api.attribution.attribution": "viewer",
    # deleting monitors and notifiers, testing a source (webapp/monitors/, webapp/alerting/)
    "monitor_edit.delete": "editor", "alerts.delete_notifier": "editor", "api.monitors.remove_monitor": "editor",
    "api.monitors.test_source": "editor",
    # authors, languages and per-language scorers (webapp/insights/, webapp/scoring/)
    "api.insights.authors": "viewer", "api.insights.languages": "viewer", "api.scoring.set_language_scorers": "editor",
}
# Requests that delete the seeded monitor or notifier: walked last, so the others still find them.
DELETING = {("monitor_edit.delete", "POST"), ("api.monitors.remove_monitor", "DELETE"),
            ("alerts.delete_notifier", "POST"), ("api.alerting.delete_notifier", "DELETE")}
IGNORED_METHODS = {"HEAD", "OPTIONS"}
OUTSIDE = {"REMOTE_ADDR": "198.51.100.7"}   # not loopback: the metrics page stays closed


def rule_for(endpoint: str, method: str) -> str:
    rule = RULES[endpoint]
    return rule[method] if isinstance(rule, dict) else rule


def routes(app):
    pairs = [(rule, method) for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint))
             for method in sorted(rule.methods - IGNORED_METHODS)]
    return sorted(pairs, key=lambda pair: (pair[0].endpoint, pair[1]) in DELETING)   # stable


def test_every_route_has_an_access_rule(app):
    missing = [f"{method} {rule.rule} ({rule.endpoint})" for rule, method in routes(app)
               if rule.endpoint not in RULES
               or (isinstance(RULES[rule.endpoint], dict) and method not in RULES[rule.endpoint])]
    assert not missing, "routes without an access rule in tests/test_security_access.py: " + ", ".join(missing)
    stale = set(RULES) - {rule.endpoint for rule in app.url_map.iter_rules()}
    assert not stale, f"access rules for routes that no longer exist: {sorted(stale)}"


# -- the matrix ----------------------------------------------------------------------------------

def seed(app, client) -> dict:
    """One of everything a URL can name, created through the API where it can be."""
    ids = {uid: make_user(app, email=f"{uid}@example.com", role=uid, password=f"{uid} password")
           for uid in ROLES}
    with app.app_context():
        tokens = {role: create_token(db.session.get(User, ids[role])) for role in ROLES}
    admin = {"Authorization": f"Bearer {tokens['admin']}"}
    monitor_id, _ = new_monitor(app, "Seeded", "acme")
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=admin,
                       json=[mention(1, "acme is great")]).status_code == 202
    notifier = client.post("/api/v1/notifiers", headers=admin, json={"kind": "email", "to": ["ops@example.com"]})
    rule = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=admin, json={
        "kind": "avg_sentiment", "window": "1h", "op": "<", "threshold": -0.2,
        "notifiers": [notifier.get_json()["id"]]})
    silence = client.post(f"/api/v1/monitors/{monitor_id}/silences", headers=admin,
                          json={"duration_minutes": 60, "reason": "seed"})
    lexicon = client.post(f"/api/v1/monitors/{monitor_id}/lexicon", headers=admin,
                          json={"word": "acmeword", "valence": 1.0})
    assert notifier.status_code == rule.status_code == 201, (notifier.get_json(), rule.get_json())
    report = client.post(f"/api/v1/monitors/{monitor_id}/reports", headers=admin,
                         json={"every": "daily", "notifiers": [notifier.get_json()["id"]]})
    assert report.status_code == 201, report.get_json()
    with app.app_context():
        from webapp.core.runtime import bus
        from webapp.ingest import pipeline

        pipeline.drain(bus(), db.session)
        mention_id = db.session.execute(db.select(Mention.id)).scalars().first()
        event_id, delivery_id, backfill_id = seed_alert_history(
            db.session, monitor_id, rule.get_json()["id"], notifier.get_json()["id"])
        values = {"monitor_id": monitor_id, "rule_id": rule.get_json()["id"],
                  "notifier_id": notifier.get_json()["id"], "event_id": event_id, "delivery_id": delivery_id,
                  "backfill_id": backfill_id, "mention_id": mention_id,
                  "silence_id": (silence.get_json() or {}).get("id", 1), "word": "acmeword",
                  "kind": "email", "ext": "csv", "filename": "css/app.css",
                  "token_id": 10_000, "user_id": make_user(app, email="target@example.com", role="viewer"), "letter_id": 1,
                  "team_id": db.session.execute(db.select(Team.id).where(Team.name == "Default")).scalar_one(),
                  "autotag_rule_id": 1, "report_id": report.get_json()["id"]}
        # (token_id: someone else's token: nobody below admin sees it)
        db.session.remove()
    assert lexicon.status_code in (200, 201), lexicon.get_json()
    return {"tokens": tokens, "values": values}


def url_for_rule(rule, values: dict) -> str:
    url = rule.rule
    for name in rule.arguments:
        url = re.sub(r"<(?:[^:<>]+(?:\([^)]*\))?:)?" + name + ">", str(values[name]), url)
    assert "<" not in url, url
    return url


def to_login(response) -> bool:
    """Flask-Login's answer to an anonymous request: a redirect to the login page with ?next=."""
    return response.status_code == 302 and "/login?next=" in response.headers.get("Location", "")


def call(client, method: str, url: str, headers=None):
    kwargs = {"headers": headers or {}, "environ_base": OUTSIDE}
    if method in ("POST", "PATCH", "PUT") and url.startswith("/api/"):
        kwargs["json"] = {}
    elif method == "POST":
        kwargs["data"] = {}
    response = client.open(url, method=method, **kwargs)
    response.get_data()       # streamed answers (exports) run to the end inside their context
    response.close()
    return response


def signed_in(app, role: str):
    client = app.test_client()
    answer = client.post("/login", data={"email": f"{role}@example.com", "password": f"{role} password"})
    assert answer.status_code == 302, role
    return client


def test_every_route_answers_each_role_as_its_rule_says(app, client):
    seeded = seed(app, client)
    clients = {None: app.test_client(), **{role: signed_in(app, role) for role in ROLES}}
    failures = []
    for rule, method in routes(app):
        if rule.endpoint == "auth.logout":
            continue   # ends the session: tested below
        url, needed = url_for_rule(rule, seeded["values"]), rule_for(rule.endpoint, method)
        is_api = rule.rule.startswith("/api/")
        for role in (None, *ROLES):
            headers = {"Authorization": f"Bearer {seeded['tokens'][role]}"} if is_api and role else None
            response = call(clients[role], method, url, headers)
            status = response.status_code
            if needed == "public":
                ok = status < 500 and status not in (401, 403) and not to_login(response)
            elif needed == "loopback":
                ok = status == 403
            elif role is None:
                ok = status == 401 if is_api else to_login(response)
            elif ROLES.index(role) < ROLES.index("viewer" if needed == "login" else needed):
                ok = status == 403
            else:
                ok = status < 500 and status not in (401, 403) and not to_login(response)
            if not ok:
                failures.append(f"{method} {url} as {role or 'anonymous'} (needs {needed}): {status}")
    assert not failures, "\n".join(failures)


def test_logout_needs_a_session_and_ends_it(app, client):
    make_user(app, email="viewer@example.com", role="viewer", password="viewer password")
    assert to_login(client.post("/logout"))
    signed = signed_in(app, "viewer")
    assert signed.get("/").status_code == 200
    out = signed.post("/logout")
    assert out.status_code == 302 and out.headers["Location"].endswith("/login")
    assert to_login(signed.get("/"))


# -- CSRF and the API's credentials -------------------------------------------------------------

@pytest.fixture
def csrf_app(tmp_path):
    with migrated_app({**app_config(tmp_path), "WTF_CSRF_ENABLED": True}) as app:
        yield app


def csrf_token(page: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_page_posts_without_a_csrf_token_are_refused(csrf_app):
    make_user(csrf_app, email="admin@example.com", role="admin", password="admin password")
    monitor_id, _ = new_monitor(csrf_app, "Seeded", "acme")
    browser = csrf_app.test_client()
    # The login form itself needs its token.
    assert browser.post("/login", data={"email": "admin@example.com", "password": "admin password"}).status_code == 400
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    assert browser.post("/login", data={"email": "admin@example.com", "password": "admin password",
                                        "csrf_token": token}).status_code == 302
    values = {"monitor_id": monitor_id, "rule_id": 1, "notifier_id": 1, "event_id": 1, "delivery_id": 1,
              "backfill_id": 1, "mention_id": 1, "silence_id": 1, "word": "w", "kind": "email", "ext": "csv",
              "filename": "x", "token_id": 1, "user_id": 1, "letter_id": 1, "team_id": 1, "autotag_rule_id": 1,
              "report_id": 1}
    refused = []
    for rule, method in routes(csrf_app):
        if rule.rule.startswith("/api/") or method not in ("POST", "PUT", "PATCH", "DELETE"):
            continue
        url = url_for_rule(rule, values)
        response = browser.open(url, method=method, data={"anything": "1"})
        if response.status_code != 400 or b"CSRF" not in response.data:
            refused.append(f"{method} {url}: {response.status_code}")
    assert not refused, "page POSTs accepted without a CSRF token:\n" + "\n".join(refused)
    # With the token the same kind of request goes through (the refusal was the token's doing).
    token = csrf_token(browser.get("/classify").get_data(as_text=True))
    assert browser.post("/classify", data={"text": "lovely", "csrf_token": token}).status_code == 200
    assert browser.get("/").status_code == 200   # still signed in


def test_the_api_needs_no_csrf_token_and_never_takes_the_session_cookie(csrf_app):
    make_user(csrf_app, email="admin@example.com", role="admin", password="admin password")
    browser = csrf_app.test_client()
    token = csrf_token(browser.get("/login").get_data(as_text=True))
    assert browser.post("/login", data={"email": "admin@example.com", "password": "admin password",
                                        "csrf_token": token}).status_code == 302
    assert browser.get("/").status_code == 200                      # the session works for pages
    for method, url, body in (("GET", "/api/v1/monitors", None), ("POST", "/api/v1/score", {"text": "hi"}),
                              ("POST", "/api/v1/monitors", {"name": "x", "query": "", "sources": []})):
        answer = browser.open(url, method=method, json=body)
        assert answer.status_code == 401, (url, answer.status_code)  # the cookie is not API auth
    with csrf_app.app_context():
        bearer = create_token(db.session.execute(db.select(User)).scalar_one())
    answer = csrf_app.test_client().post("/api/v1/score", json={"text": "I love it"},
                                         headers={"Authorization": f"Bearer {bearer}"})
    assert answer.status_code == 200 and answer.get_json()["label"] == "positive"   # no CSRF token needed
