"""Alerting pages: notifiers with "Send test", rules with "Backtest", history, silences, delivery log."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

from webapp.core.extensions import db
from webapp.alerting.models import Delivery
from webapp.alerting import evaluation

from tests.alert_fixtures import push, webhook_server  # noqa: F401  (fixture)
from tests.helpers import make_user
from tests.helpers import new_monitor

NEGATIVE = "This is terrible, awful and broken."


def test_alert_pages_need_login(client):
    for path in ("/alerts", "/monitors/1/rules", "/monitors/1/alerts", "/alerts/events/1"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path


def test_nav_and_monitor_page_link_to_alerts(app, logged_in):
    monitor_id, _ = new_monitor(app)
    script = logged_in.get("/static/js/localtime.js")
    assert script.status_code == 200 and b"Intl.DateTimeFormat" in script.data
    assert 'href="/alerts"' in logged_in.get("/").get_data(as_text=True)
    page = logged_in.get(f"/monitors/{monitor_id}").get_data(as_text=True)
    assert f'href="/monitors/{monitor_id}/rules"' in page


def test_create_notifiers_and_send_a_test(logged_in, webhook_server):
    bad = logged_in.post("/alerts/notifiers/webhook", data={"webhook-url": "file:///etc/passwd"})
    assert bad.status_code == 400 and "only http and https" in bad.get_data(as_text=True)
    good = logged_in.post("/alerts/notifiers/webhook", data={"webhook-url": webhook_server.url,
                                                             "webhook-name": "Ops <hook>"})
    assert good.status_code == 200
    text = good.get_data(as_text=True)
    secret = re.search(r'id="new-secret">(whsec_[^<]+)<', text).group(1)
    assert "Ops &lt;hook&gt;" in text and "<hook>" not in text
    assert secret not in logged_in.get("/alerts").get_data(as_text=True)   # shown once only
    bad_mail = logged_in.post("/alerts/notifiers/email", data={"email-to": "nobody"})
    assert bad_mail.status_code == 400 and "nobody" in bad_mail.get_data(as_text=True)
    two = logged_in.post("/alerts/notifiers/email", data={"email-to": "a@example.com, b@example.com"})
    assert two.status_code == 200

    sent = logged_in.post("/alerts/notifiers/1/test", follow_redirects=True)
    assert "Test sent to “Ops &lt;hook&gt;” (HTTP 200" in sent.get_data(as_text=True)
    assert json.loads(webhook_server.requests[0].body)["type"] == "alert.test"
    webhook_server.reply(500, b"down")
    failed = logged_in.post("/alerts/notifiers/1/test", follow_redirects=True).get_data(as_text=True)
    assert "failed: HTTP 500" in failed and "retried" in failed


def test_rule_form_errors_backtest_and_save(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app)
    base = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(days=3)
    push(logged_in, auth, drain, monitor_id,
         [{"external_id": f"n{h}", "text": NEGATIVE if h % 24 == 5 else "a fine and pleasant day",
           "published_at": (base + timedelta(hours=h, minutes=3)).isoformat()} for h in range(70)])
    url = f"/monitors/{monitor_id}/rules"
    assert logged_in.get(url).status_code == 200

    missing = logged_in.post(url, data={"kind": "avg_sentiment", "window": "1h", "action": "save"})
    assert missing.status_code == 400
    assert re.search(r'has-error">\s*<label for="threshold"', missing.get_data(as_text=True))
    bad_query = logged_in.post(url, data={"kind": "mention_match", "query": "acme AND (", "action": "backtest"})
    assert bad_query.status_code == 400 and "position" in bad_query.get_data(as_text=True)

    form = {"kind": "avg_sentiment", "window": "1h", "threshold": "-0.3", "min_mentions": "1",
            "name": "Mood <b>dips</b>", "z": "3"}   # z belongs to another kind: ignored
    tested = logged_in.post(url, data={**form, "action": "backtest"})
    assert tested.status_code == 200
    page = tested.get_data(as_text=True)
    assert 'data-figure="figure-backtest"' in page and 'id="backtest-fired">3<' in page
    figure = json.loads(re.search(r'id="figure-backtest">(.*?)</script>', page, re.S).group(1))
    assert {t["name"] for t in figure["data"]} >= {"value", "threshold", "would fire", "would resolve"}
    assert len(figure["layout"]["shapes"]) == 3                        # one shaded span per firing
    assert "/vendor/plotly" in page or "plotly" in page.lower()
    assert logged_in.get(url).get_data(as_text=True).count("Mood") == 0  # a backtest saves nothing

    saved = logged_in.post(url, data={**form, "action": "save", "for_minutes": "15"})
    assert saved.status_code == 302
    listing = logged_in.get(url).get_data(as_text=True)
    assert "Mood &lt;b&gt;dips&lt;/b&gt;" in listing and "for 15 min" in listing
    rule_id = logged_in.get(f"/api/v1/monitors/{monitor_id}/rules", headers=auth).json[0]["id"]
    again = logged_in.get(f"/monitors/{monitor_id}/rules/{rule_id}/backtest")
    assert again.status_code == 200 and 'id="backtest-fired">3<' in again.get_data(as_text=True)


def test_viewers_can_backtest_but_not_save(app, client, auth):
    monitor_id, _ = new_monitor(app)
    make_user(app, email="v@example.com", role="viewer", password="viewer password")
    client.post("/login", data={"email": "v@example.com", "password": "viewer password"})
    url = f"/monitors/{monitor_id}/rules"
    form = {"kind": "volume_spike", "window": "1h"}
    assert client.post(url, data={**form, "action": "backtest"}).status_code == 200
    assert client.post(url, data={**form, "action": "save"}).status_code == 403
    assert client.post(url, data={**form, "action": "anything"}).status_code == 403
    assert client.post("/alerts/notifiers/email", data={"email-to": "a@example.com"}).status_code == 403


def test_history_silences_and_delivery_log_with_redeliver(app, logged_in, auth, drain, webhook_server):
    from webapp.alerting.notifiers.tasks import deliver

    monitor_id, _ = new_monitor(app, name="Shop")
    hook = logged_in.post("/api/v1/notifiers", json={"kind": "webhook", "url": webhook_server.url}, headers=auth).json
    rule = logged_in.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth, json={
        "kind": "avg_sentiment", "window": "15m", "threshold": -0.3, "min_mentions": 1,
        "notifiers": [hook["id"]], "name": "Angry <customers>"}).json
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    push(logged_in, auth, drain, monitor_id, [{"external_id": "x", "text": "<img src=x onerror=alert(1)> awful",
                                               "published_at": (start + timedelta(minutes=2)).isoformat()}])
    with app.app_context():
        now = start + timedelta(minutes=15, seconds=150)
        report = evaluation.evaluate_rule(db.session, rule["id"], evaluation.slot_for("avg_sentiment", now), now=now)
        db.session.remove()
    webhook_server.reply(500, b"<b>oops</b>")
    assert deliver(report.deliveries[0])["outcome"] == "retry"

    history = logged_in.get(f"/monitors/{monitor_id}/alerts").get_data(as_text=True)
    assert "Angry &lt;customers&gt;" in history and "<customers>" not in history
    assert '<time datetime="' in history and "js/localtime.js" in history
    assert f'href="/alerts/events/{report.event_id}"' in history

    log = logged_in.get(f"/alerts/events/{report.event_id}").get_data(as_text=True)
    assert "failed" in log and "&lt;b&gt;oops&lt;/b&gt;" in log and "500" in log
    assert "&lt;img src=x onerror=alert(1)&gt; awful" in log and "<img src=x" not in log
    assert "Redeliver" in log
    redo = logged_in.post(f"/alerts/deliveries/{report.deliveries[0]}/redeliver", follow_redirects=True)
    assert "Redelivered: sent" in redo.get_data(as_text=True)
    ids = {r.headers["webhook-id"] for r in webhook_server.requests}
    assert len(webhook_server.requests) == 2 and len(ids) == 1       # the same message, again
    with app.app_context():
        statuses = [d.status for d in db.session.execute(db.select(Delivery).order_by(Delivery.id)).scalars()]
    assert statuses == ["permanent_failure", "sent"]                # the retrying one was superseded

    silenced = logged_in.post(f"/monitors/{monitor_id}/silences",
                              data={"rule_id": str(rule["id"]), "hours": "3", "reason": "deploy"},
                              follow_redirects=True).get_data(as_text=True)
    assert "Active silences" in silenced and "deploy" in silenced
    bad = logged_in.post(f"/monitors/{monitor_id}/silences", data={"rule_id": "0", "hours": "-1"})
    assert bad.status_code == 400
    silence_id = logged_in.get(f"/api/v1/monitors/{monitor_id}/silences", headers=auth).json[0]["id"]
    ended = logged_in.post(f"/monitors/{monitor_id}/silences/{silence_id}/end", follow_redirects=True)
    assert "Silence ended." in ended.get_data(as_text=True)
    assert "Active silences" not in ended.get_data(as_text=True)
