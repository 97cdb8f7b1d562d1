"""Delivery against real receivers on loopback: signed webhooks with retries, permanent failures,
410 disabling the notifier, no second send after a worker is killed, and email over SMTP."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.alerting.models import Delivery, Notifier
from webapp.alerting.notifiers import Context, delivery

from tests.alert_fixtures import smtp_server, webhook_server  # noqa: F401  (fixtures)
from tests.helpers import app_config
from tests.helpers import new_monitor, wait_for

pytestmark = pytest.mark.both_databases

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def make_webhook(client, auth, url, secret=None) -> tuple[int, str]:
    body = {"kind": "webhook", "url": url, **({"secret": secret} if secret else {})}
    response = client.post("/api/v1/notifiers", json=body, headers=auth)
    assert response.status_code == 201, response.json
    return response.json["id"], response.json.get("secret") or secret


def queue_test(app, notifier_id: int, now=T0) -> int:
    with app.app_context():
        created = delivery.create_test(db.session, db.session.get(Notifier, notifier_id), context(app), now).id
        db.session.remove()
        return created


def context(app, **changes) -> Context:
    ctx = Context.from_config(app.config, runtime.egress_policy(app))
    return Context(**{**ctx.__dict__, **changes})


def attempt(app, delivery_id, now, **kw):
    with app.app_context():
        report = delivery.attempt(db.session, delivery_id, context(app), now, rand=lambda: 0.5, **kw)
        db.session.remove()
        return report


def row(app, delivery_id) -> dict:
    with app.app_context():
        d = db.session.get(Delivery, delivery_id)
        found = {**delivery.delivery_dict(d), "notifier_enabled": d.notifier.enabled,
                 "failing_since": d.notifier.failing_since, "disabled_reason": d.notifier.disabled_reason}
        db.session.remove()
        return found


def verify_by_hand(secret: str, request) -> dict:
    """An independent receiver: HMAC-SHA256 over "{id}.{timestamp}.{body}" with the decoded secret."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    msg_id, ts = request.headers["webhook-id"], request.headers["webhook-timestamp"]
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{ts}.".encode() + request.body, hashlib.sha256).digest())
    signatures = [s.split(",", 1)[1] for s in request.headers["webhook-signature"].split(" ") if s.startswith("v1,")]
    assert any(hmac.compare_digest(expected.decode(), s) for s in signatures)
    return json.loads(request.body)


def test_retry_then_success_keeps_one_webhook_id(app, client, auth, webhook_server):
    notifier_id, secret = make_webhook(client, auth, webhook_server.url)
    webhook_server.reply(500, b"boom")
    webhook_server.reply(503, b"busy")
    delivery_id = queue_test(app, notifier_id)

    first = attempt(app, delivery_id, T0)
    assert (first.outcome, first.retry_in) == ("retry", 22.5)          # 30 s with jitter 0.5
    assert attempt(app, delivery_id, T0 + timedelta(seconds=10)).outcome == "not_due"
    assert len(webhook_server.requests) == 1
    second = attempt(app, delivery_id, T0 + timedelta(seconds=23))
    assert (second.outcome, second.retry_in) == ("retry", 45.0)
    assert row(app, delivery_id)["failing_since"] == T0
    third = attempt(app, delivery_id, T0 + timedelta(seconds=23 + 46))
    assert third.outcome == "sent"

    got = webhook_server.requests
    assert len(got) == 3
    assert len({r.headers["webhook-id"] for r in got}) == 1 and len({r.body for r in got}) == 1
    payloads = [verify_by_hand(secret, r) for r in got]
    assert payloads[0]["type"] == "alert.test" and payloads[0]["data"]["status"] == "test"
    final = row(app, delivery_id)
    assert (final["status"], final["attempts"], final["last_http_status"], final["response_excerpt"]) == (
        "sent", 3, 200, "ok")
    assert final["latency_ms"] is not None and final["failing_since"] is None
    assert attempt(app, delivery_id, T0 + timedelta(hours=1)).outcome == "skipped"   # never twice
    assert len(webhook_server.requests) == 3


def test_signatures_verify_with_standard_webhooks_and_by_hand(app, client, auth, webhook_server):
    standardwebhooks = pytest.importorskip("standardwebhooks")
    generated_id, generated = make_webhook(client, auth, webhook_server.url)
    assert generated.startswith("whsec_") and 24 <= len(base64.b64decode(generated[6:])) <= 32
    given_id, _ = make_webhook(client, auth, webhook_server.url, SECRET)
    for notifier_id, secret in ((generated_id, generated), (given_id, SECRET)):
        now = datetime.now(timezone.utc)   # the library rejects timestamps five minutes off
        assert attempt(app, queue_test(app, notifier_id, now), now).outcome == "sent"
        request = webhook_server.requests[-1]
        assert verify_by_hand(secret, request)["type"] == "alert.test"
        payload = standardwebhooks.Webhook(secret).verify(request.body, request.headers)
        assert payload["data"]["notifier"]["id"] == notifier_id
        assert abs(int(request.headers["webhook-timestamp"]) - now.timestamp()) < 60
        with pytest.raises(standardwebhooks.webhooks.WebhookVerificationError):
            standardwebhooks.Webhook(SECRET if secret != SECRET else generated).verify(request.body, request.headers)
    listed = client.get("/api/v1/notifiers", headers=auth).json
    assert all("secret" not in n for n in listed)


def test_429_waits_for_retry_after(app, client, auth, webhook_server):
    notifier_id, _ = make_webhook(client, auth, webhook_server.url)
    webhook_server.reply(429, b"slow down", Retry_After="7")
    delivery_id = queue_test(app, notifier_id)
    report = attempt(app, delivery_id, T0)
    assert (report.outcome, report.retry_in) == ("retry", 7.0)
    assert row(app, delivery_id)["next_attempt_at"] == (T0 + timedelta(seconds=7)).isoformat()


def test_a_permanent_4xx_is_not_retried(app, client, auth, webhook_server):
    notifier_id, _ = make_webhook(client, auth, webhook_server.url)
    webhook_server.reply(400, b"bad payload")
    delivery_id = queue_test(app, notifier_id)
    report = attempt(app, delivery_id, T0)
    assert (report.outcome, report.retry_in, report.notifier_disabled) == ("failed", None, False)
    final = row(app, delivery_id)
    assert (final["status"], final["attempts"], final["last_http_status"], final["response_excerpt"]) == (
        "permanent_failure", 1, 400, "bad payload")
    assert final["notifier_enabled"] is True
    assert attempt(app, delivery_id, T0 + timedelta(hours=2)).outcome == "skipped"
    assert len(webhook_server.requests) == 1


def test_410_disables_the_notifier_and_tells_its_owner(app, client, auth, webhook_server, smtp_server, logged_in):
    app.config["SMTP_URL"] = smtp_server.url
    notifier_id, _ = make_webhook(client, auth, webhook_server.url)
    webhook_server.reply(410, b"gone")
    delivery_id = queue_test(app, notifier_id)
    waiting = queue_test(app, notifier_id)
    report = attempt(app, delivery_id, T0)
    assert (report.outcome, report.notifier_disabled) == ("failed", True)
    final = row(app, delivery_id)
    assert final["notifier_enabled"] is False and "410" in final["disabled_reason"]
    assert row(app, waiting)["status"] == "permanent_failure"          # nothing else goes out
    assert attempt(app, waiting, T0).outcome == "skipped" and len(webhook_server.requests) == 1

    wait_for(lambda: smtp_server.messages, 10, message="the owner's email")
    sender, recipients, message = smtp_server.messages[0]
    assert recipients == ["token@example.com"] and "disabled" in message["Subject"]
    assert "410" in message.get_body(("plain",)).get_content()

    page = logged_in.get("/alerts").get_data(as_text=True)
    assert 'class="banner"' in page and "410 Gone" in page
    assert client.post(f"/api/v1/notifiers/{notifier_id}/test", headers=auth).status_code == 409
    assert client.post(f"/api/v1/notifiers/{notifier_id}/enable", headers=auth).json["enabled"] is True


def test_a_day_of_failures_disables_the_notifier(app, client, auth, webhook_server):
    notifier_id, _ = make_webhook(client, auth, webhook_server.url)
    for _ in range(3):
        webhook_server.reply(503)
    first = queue_test(app, notifier_id, T0)
    assert attempt(app, first, T0).outcome == "retry"
    later = queue_test(app, notifier_id, T0 + timedelta(hours=23))
    assert attempt(app, later, T0 + timedelta(hours=23)).outcome == "retry"
    last = queue_test(app, notifier_id, T0 + timedelta(days=1))
    report = attempt(app, last, T0 + timedelta(days=1))
    assert (report.outcome, report.notifier_disabled) == ("failed", True)
    assert "for a day" in row(app, last)["disabled_reason"]
    assert row(app, first)["status"] == "permanent_failure"


KILLED_WORKER = """
import json, os, sys
from webapp import create_app
app = create_app(json.loads(os.environ["SENTIMON_TEST_CONFIG"]))
from webapp.alerting.notifiers.tasks import deliver
deliver(int(sys.argv[1]))
"""


@pytest.mark.system  # kills a worker process of its own
def test_a_duplicate_task_after_a_worker_kill_sends_nothing(app, client, auth, webhook_server, tmp_path):
    from webapp.alerting.notifiers.tasks import deliver

    notifier_id, _ = make_webhook(client, auth, webhook_server.url)
    delivery_id = queue_test(app, notifier_id, datetime.now(timezone.utc))
    webhook_server.hold = threading.Event()                 # the receiver takes its time...
    config = {**app_config(tmp_path), "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"]}
    env = {**os.environ, "SENTIMON_TEST_CONFIG": json.dumps(config), "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen([sys.executable, "-c", KILLED_WORKER, str(delivery_id)], cwd=ROOT, env=env,
                              start_new_session=True)
    try:
        assert webhook_server.arrived.wait(60), "the worker never sent"
        os.killpg(worker.pid, signal.SIGKILL)                 # ...and the worker dies mid-send
        worker.wait(30)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        webhook_server.hold.set()
    assert row(app, delivery_id)["status"] == "sending"

    again = deliver(delivery_id)                               # the broker redelivers the task
    assert again["outcome"] == "skipped"
    assert len(webhook_server.requests) == 1
    with app.app_context():
        now = datetime.now(timezone.utc)
        assert delivery_id not in delivery.due_for_dispatch(db.session, now)
        # only a claim older than the lease is taken over (at-least-once, same webhook-id)
        assert delivery_id in delivery.due_for_dispatch(db.session, now + delivery.LEASE + timedelta(seconds=1))


def test_deliver_task_in_process_sends_once(app, client, auth, webhook_server):
    from webapp.alerting.notifiers.tasks import deliver

    notifier_id, _ = make_webhook(client, auth, webhook_server.url)
    delivery_id = queue_test(app, notifier_id, datetime.now(timezone.utc))
    assert deliver(delivery_id)["outcome"] == "sent"
    assert deliver(delivery_id)["outcome"] == "skipped"
    assert len(webhook_server.requests) == 1
    webhook_server.reply(502)
    retrying = queue_test(app, notifier_id, datetime.now(timezone.utc))
    report = deliver(retrying)
    assert report["outcome"] == "retry" and 15 <= report["retry_in"] <= 30


def test_email_content_over_a_real_smtp_server(app, client, auth, drain, smtp_server):
    from webapp.alerting.notifiers.tasks import deliver
    from webapp.alerting import evaluation

    app.config.update(SMTP_URL=smtp_server.url, SMTP_FROM="alerts@sentimon.example",
                      PUBLIC_URL="https://sentimon.example")
    monitor_id, _ = new_monitor(app, name="Acme <Rockets>")
    email = client.post("/api/v1/notifiers", json={"kind": "email", "to": ["Ops@Example.com", "b@example.com"]},
                        headers=auth)
    assert email.status_code == 201 and "secret" not in email.json and email.json["to"][0] == "Ops@example.com"
    rule = client.post(f"/api/v1/monitors/{monitor_id}/rules", json={
        "kind": "avg_sentiment", "window": "1h", "threshold": -0.2, "min_mentions": 2,
        "notifiers": [email.json["id"]], "name": "Sentiment <dropped>"}, headers=auth).json
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    texts = ["<script>alert(1)</script> awful, terrible service", "I hate this broken rocket"]
    client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=[
        {"external_id": f"e{i}", "text": t, "url": "https://example.com/post/%d" % i,
         "published_at": (start + timedelta(minutes=10)).isoformat()} for i, t in enumerate(texts)])
    drain()
    with app.app_context():
        now = start + timedelta(hours=1, minutes=3)
        report = evaluation.evaluate_rule(db.session, rule["id"], evaluation.slot_for("avg_sentiment", now),
                                          now=now, public_url="https://sentimon.example")
        webhook_id = db.session.get(Delivery, report.deliveries[0]).webhook_id
        db.session.remove()
    assert deliver(report.deliveries[0])["outcome"] == "sent"

    assert len(smtp_server.messages) == 1
    sender, recipients, message = smtp_server.messages[0]
    assert sender == "alerts@sentimon.example" and recipients == ["Ops@example.com", "b@example.com"]
    assert message["Message-ID"] == f"<{webhook_id}@sentimon.example>"
    assert message["Subject"] == "[Sentimon] FIRING: Sentiment <dropped> · Acme <Rockets>"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    link = f"https://sentimon.example/monitors/{monitor_id}/alerts"
    assert link in text and f'href="{link}"' in html
    assert "Threshold: < -0.2" in text and "Window: 1h" in text
    assert "<script>alert(1)</script> awful" in text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Sentiment &lt;dropped&gt;" in html and "Acme &lt;Rockets&gt;" in html

    with app.app_context():   # a redelivery is the same message to mail clients
        copy = delivery.redeliver(db.session, report.deliveries[0])
        copy_id = copy.id
        db.session.remove()
    assert deliver(copy_id)["outcome"] == "sent"
    assert smtp_server.messages[1][2]["Message-ID"] == message["Message-ID"]


def test_email_to_a_dead_smtp_server_is_retried(app, client, auth):
    from tests.helpers import free_port

    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    email = client.post("/api/v1/notifiers", json={"kind": "email", "to": ["ops@example.com"]}, headers=auth)
    delivery_id = queue_test(app, email.json["id"])
    report = attempt(app, delivery_id, T0)
    assert report.outcome == "retry" and "Connection" in (row(app, delivery_id)["last_error"] or "")


def test_outbox_rows_list_only_enabled_notifiers(app, client, auth, webhook_server):
    on, _ = make_webhook(client, auth, webhook_server.url)
    off, _ = make_webhook(client, auth, webhook_server.url)
    with app.app_context():
        notifiers = db.session.execute(select(Notifier).order_by(Notifier.id)).scalars().all()
        notifiers[1].enabled = False
        rows = delivery.outbox(db.session, notifiers, {"type": "alert.test", "data": {}}, None, T0)
        db.session.commit()
        assert [r.notifier_id for r in rows] == [on] and off != on
