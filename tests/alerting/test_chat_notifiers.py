"""Chat notifiers (Slack, Mattermost, Discord, Teams, Google Chat) against local fakes shaped like
each service: their message formats and limits, 429 waits (Retry-After or Discord's body),
permanent errors not retried, a gone webhook disabling the notifier, the delivery log, the API
and the notifier page."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from webapp.core.extensions import db
from webapp.alerting.models import Notifier
from webapp.alerting.notifiers import CHANNELS, Context, Outbound, Target, delivery
from webapp.alerting.notifiers.chat import send_chat_text, summary_payload
from webapp.alerting.notifiers.chat_view import units

from tests.alerting.test_alerts_delivery import T0, attempt, queue_test, row
from tests.fake_chat import KINDS, chat_fake  # noqa: F401  (fixture)
from tests.fake_http import LOOPBACK

HOSTILE = "@everyone @channel <!channel> <users/all> *bold* & <b>x</b> [x](javascript:alert(1)) 🙂"


def make(client, auth, kind, url, **extra) -> dict:
    response = client.post("/api/v1/notifiers", json={"kind": kind, "url": url, **extra}, headers=auth)
    assert response.status_code == 201, response.json
    return response.json


def big_payload(kind="alert.firing", status="firing") -> dict:
    """An alert at every limit: long names, five long samples with hostile text, an attribution."""
    samples = [{"id": i, "text": f"{HOSTILE} {'word ' * 200}", "author": "@here", "label": "negative",
                "compound": -0.8, "url": f"https://example.com/m/{i}?a=1&b=<2>", "published_at": T0.isoformat()}
               for i in range(5)]
    return {"type": kind, "timestamp": T0.isoformat(), "data": {
        "rule": {"id": 1, "name": "R" * 400 + " <rule>", "kind": "volume_spike"},
        "monitor": {"id": 7, "name": "Acme & <Co>"}, "status": status, "value": 123.0, "threshold": 40.5,
        "op": ">=", "window": "1h", "sample_mentions": samples, "more_mentions": 12,
        "link": "http://127.0.0.1:5000/monitors/7/alerts", "event_id": 3, "reminder": False,
        "attribution": {"summary": "Most of the rise came from two terms " * 50,
                        "terms": [{"term": "outage", "share": 0.41}, {"term": "refund", "share": 0.2}],
                        "sources": ["rss"]}}}


def failing(app, client, auth, fake, what: str, **script) -> int:
    """A chat notifier on `fake`, whose next answer is the failure `what`; returns a queued test delivery."""
    notifier = make(client, auth, fake.kind, fake.url)
    fake.script(what, **script)
    return queue_test(app, notifier["id"])


def send_direct(fake, payload) -> tuple:
    target = Target(1, fake.kind, "n", {"url": fake.url})
    result = CHANNELS[fake.kind].send(target, Outbound(1, "msg_x", payload), Context(policy=LOOPBACK))
    return result, fake.posts[-1].json


# -- formats and limits -------------------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_a_full_alert_fits_each_service_and_escapes_mentions(chat_fake, kind):
    fake = chat_fake(kind)
    result, body = send_direct(fake, big_payload())
    assert result.ok, (result.status, result.excerpt)    # the fake refuses what the service refuses
    text = json.dumps(body, ensure_ascii=False)
    assert "outage (0.41)" in text or "outage \\\\(0.41\\\\)" in text   # the attribution is shown
    assert "monitors/7/alerts" in text                                    # the link survives truncation
    if kind == "slack":
        assert body["text"].count("<!channel>") == 0 and "&lt;!channel&gt;" in body["text"]
        assert "Acme &amp; &lt;Co&gt;" in body["text"] and body["blocks"][0]["type"] == "header"
        assert units(body["blocks"][0]["text"]["text"]) <= 150 and body["blocks"][0]["text"]["text"].endswith("…")
        assert units(body["text"]) <= 3000
    elif kind == "discord":
        assert body["allowed_mentions"] == {"parse": []} and len(body["embeds"]) == 1
        embed = body["embeds"][0]
        assert units(embed["title"]) <= 256 and embed["title"].endswith("…") and units(body["content"]) <= 2000
        assert {f["name"] for f in embed["fields"]} >= {"Monitor", "Value", "Threshold", "Window"}
        assert embed["url"] == "http://127.0.0.1:5000/monitors/7/alerts"
    elif kind == "mattermost":
        assert "@channel" not in body["text"] and "@\u200dchannel" in body["text"]
        assert body["text"].startswith("#### FIRING")
    elif kind == "google_chat":
        assert "<users/all>" not in body["text"] and units(body["text"]) <= 4096
        assert "<http://127.0.0.1:5000/monitors/7/alerts|Open in Sentimon>" in body["text"]
    else:
        card = body["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert card["content"]["type"] == "AdaptiveCard" and card["content"]["version"] == "1.4"
        assert card["content"]["actions"][0]["url"] == "http://127.0.0.1:5000/monitors/7/alerts"
        facts = {f["title"]: f["value"] for f in card["content"]["body"][1]["facts"]}
        assert facts["Threshold"] == ">= 40.5" and facts["Value"] == "123"


@pytest.mark.parametrize("kind", KINDS)
def test_long_texts_are_cut_with_an_ellipsis_within_the_limit(chat_fake, kind):
    fake = chat_fake(kind)
    payload = summary_payload("Weekly report: Acme", "line of the report " * 2000, "http://127.0.0.1:5000/r/1")
    result, body = send_direct(fake, payload)
    assert result.ok, result.excerpt
    text = json.dumps(body, ensure_ascii=False)
    assert "…" in text and "Weekly report: Acme" in text and "/r/1" in text


@pytest.mark.parametrize("kind", ["slack", "discord"])
def test_send_chat_text_sends_a_report_summary_now(app, chat_fake, kind):
    fake = chat_fake(kind)
    result = send_chat_text(Target(1, kind, "n", {"url": fake.url}), "Daily report · Shop",
                            "42 mentions (+10%)", "http://127.0.0.1:5000/reports/1", Context(policy=LOOPBACK))
    assert result.ok and "42 mentions" in json.dumps(fake.posts[0].json)


def test_resolved_and_test_messages_have_their_status(chat_fake):
    fake = chat_fake("slack")
    send_direct(fake, big_payload("alert.resolved", "resolved"))
    assert fake.posts[-1].json["blocks"][0]["text"]["text"].startswith("RESOLVED: ")
    odd = {"type": "alert.test", "timestamp": "x", "data": {"rule": None, "monitor": 5, "status": "test",
                                                            "sample_mentions": "nope", "link": "javascript:x"}}
    result, body = send_direct(fake, odd)
    assert result.ok and body["blocks"][0]["text"]["text"] == "TEST: Test alert · Sentimon"
    assert "javascript" not in json.dumps(body)


# -- errors, retries, delivery log ------------------------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
def test_429_waits_as_the_service_says_then_sends(app, client, auth, chat_fake, kind):
    fake = chat_fake(kind)
    delivery_id = failing(app, client, auth, fake, "rate_limited", retry_after=1.5)
    first = attempt(app, delivery_id, T0)
    wait = 1.5 if kind == "discord" else 2.0      # Discord's body is exact; headers are whole seconds
    assert (first.outcome, first.retry_in) == ("retry", wait)
    logged = row(app, delivery_id)
    assert logged["status"] == "failed" and logged["last_http_status"] == 429 and "rate limiting" in logged["last_error"]
    assert attempt(app, delivery_id, T0 + timedelta(seconds=1)).outcome == "not_due"
    assert attempt(app, delivery_id, T0 + timedelta(seconds=wait)).outcome == "sent"
    final = row(app, delivery_id)
    assert (final["status"], final["attempts"]) == ("sent", 2) and len(fake.posts) == 2
    assert fake.posts[0].json == fake.posts[1].json


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_error_is_retried_with_backoff(app, client, auth, chat_fake, kind):
    fake = chat_fake(kind)
    delivery_id = failing(app, client, auth, fake, "server")
    assert (lambda r: (r.outcome, r.retry_in))(attempt(app, delivery_id, T0)) == ("retry", 22.5)
    assert "server error" in row(app, delivery_id)["last_error"]
    assert attempt(app, delivery_id, T0 + timedelta(seconds=23)).outcome == "sent"


@pytest.mark.parametrize("kind, reason", [
    ("slack", "not in a format Slack accepts (invalid_payload)"), ("discord", "Invalid Form Body (code 50035)"),
    ("google_chat", "Invalid JSON payload received."), ("teams", "The request content is not valid."),
    ("mattermost", "Unable to parse incoming data."),
])
def test_a_permanent_error_is_not_retried_and_says_why(app, client, auth, chat_fake, kind, reason):
    fake = chat_fake(kind)
    delivery_id = failing(app, client, auth, fake, "invalid_payload")
    report = attempt(app, delivery_id, T0)
    assert (report.outcome, report.retry_in, report.notifier_disabled) == ("failed", None, False)
    final = row(app, delivery_id)
    assert final["status"] == "permanent_failure" and reason in final["last_error"] and final["notifier_enabled"]
    assert attempt(app, delivery_id, T0 + timedelta(hours=1)).outcome == "skipped" and len(fake.posts) == 1


def test_slack_action_prohibited_is_permanent_with_a_human_reason(app, client, auth, chat_fake):
    fake = chat_fake("slack")
    delivery_id = failing(app, client, auth, fake, "action_prohibited")
    assert attempt(app, delivery_id, T0).outcome == "failed"
    assert "a Slack admin restricted posting" in row(app, delivery_id)["last_error"]


@pytest.mark.parametrize("kind", KINDS)
def test_a_gone_webhook_disables_the_notifier(app, client, auth, chat_fake, kind):
    fake = chat_fake(kind)
    delivery_id = failing(app, client, auth, fake, "gone")
    report = attempt(app, delivery_id, T0)
    assert (report.outcome, report.notifier_disabled) == ("failed", True)
    final = row(app, delivery_id)
    assert not final["notifier_enabled"] and "no longer exists" in final["disabled_reason"]


def test_send_test_through_the_api_then_redeliver(app, client, auth, chat_fake):
    fake = chat_fake("discord")
    notifier = make(client, auth, "discord", fake.url, name="Ops room")
    fake.script("invalid_payload")
    failed = client.post(f"/api/v1/notifiers/{notifier['id']}/test", headers=auth).json
    assert failed["outcome"] == "failed" and failed["delivery"]["last_http_status"] == 400
    with app.app_context():
        copy = delivery.redeliver(db.session, failed["delivery"]["id"], T0).id
        db.session.remove()
    assert attempt(app, copy, T0).outcome == "sent"
    final = row(app, copy)
    assert (final["last_http_status"], final["webhook_id"]) == (204, failed["delivery"]["webhook_id"])
    assert len(fake.posts) == 2 and fake.posts[0].json == fake.posts[1].json


# -- the API ------------------------------------------------------------------------------------

def test_create_get_list_and_delete_chat_notifiers(app, client, auth, chat_fake):
    made = {kind: make(client, auth, kind, chat_fake(kind).url) for kind in KINDS}
    for kind, answer in made.items():
        assert answer["kind"] == kind and "secret" not in answer
        assert answer["url"].endswith("/…") and "tokentoken" not in answer["url"] and "XXXXXXXX" not in answer["url"]
        assert client.get(f"/api/v1/notifiers/{answer['id']}", headers=auth).json == answer
    assert made["slack"]["name"].startswith("Slack 127.0.0.1")
    listed = client.get("/api/v1/notifiers", headers=auth).json
    assert {n["kind"] for n in listed} == set(KINDS)
    gone = made["teams"]["id"]
    assert client.delete(f"/api/v1/notifiers/{gone}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/notifiers/{gone}", headers=auth).status_code == 404
    assert client.delete(f"/api/v1/notifiers/{gone}", headers=auth).status_code == 404
    with app.app_context():
        assert db.session.get(Notifier, gone) is None


@pytest.mark.parametrize("body, field", [
    ({"kind": "slack"}, "url"),
    ({"kind": "slack", "url": "https://example.com/services/T/B/X"}, "url"),          # not Slack's host
    ({"kind": "slack", "url": "http://hooks.slack.com/services/T/B/X"}, "url"),       # not https
    ({"kind": "discord", "url": "https://discord.com.evil.example/api/webhooks/1/x"}, "url"),
    ({"kind": "google_chat", "url": "https://chat.googleapis.com@169.254.169.254/v1"}, "url"),
    ({"kind": "teams", "url": "https://10.0.0.5/workflows/x"}, "url"),
    ({"kind": "mattermost", "url": "ftp://chat.example.com/hooks/x"}, "url"),
    ({"kind": "mattermost", "url": "http://chat.example.com/hooks/x"}, "url"),
    ({"kind": "slack", "url": ["x"]}, "url"),
    ({"kind": "slack", "url": "https://hooks.slack.com/services/T/B/X", "secret": "whsec_x"}, ""),
    ({"kind": "discord", "url": "https://discord.com/api/webhooks/1/x", "to": ["a@example.com"]}, ""),
    ({"kind": "Slack", "url": "https://hooks.slack.com/services/T/B/X"}, "kind"),
    ({"kind": ["slack"], "url": "https://hooks.slack.com/services/T/B/X"}, "kind"),
    ({"kind": "slack", "url": "https://hooks.slack.com/" + "x" * 3000}, "url"),
])
def test_bad_chat_notifiers_are_refused(client, auth, body, field):
    response = client.post("/api/v1/notifiers", json=body, headers=auth)
    assert response.status_code == 422, response.json
    assert any(d["loc"].startswith(field) for d in response.json["detail"]), response.json


@pytest.mark.parametrize("kind, url", [
    ("slack", "https://hooks.slack.com/services/T0/B0/abc"),
    ("discord", "https://discord.com/api/webhooks/1/abc"),
    ("teams", "https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=x"),
    ("teams", "https://default0a1b.fb.environment.api.powerplatform.com/powerautomate/automations/direct/x"),
    ("google_chat", "https://chat.googleapis.com/v1/spaces/AAAA/messages?key=k&token=t"),
    ("mattermost", "https://chat.example.com/hooks/abc"),
])
def test_real_service_urls_are_accepted(client, auth, kind, url):
    made = make(client, auth, kind, url)
    assert made["url"].startswith("https://") and made["url"].endswith("/…")


def test_the_openapi_document_lists_the_chat_kinds(client):
    spec = client.get("/api/v1/openapi.json").json
    assert set(KINDS) <= set(spec["components"]["schemas"]["NotifierIn"]["properties"]["kind"]["enum"])
    assert "delete" in spec["paths"]["/api/v1/notifiers/{notifier_id}"]


# -- the page ----------------------------------------------------------------------------------

def test_the_page_creates_a_chat_notifier_and_sends_a_test(logged_in, chat_fake):
    fake = chat_fake("slack")
    page = logged_in.get("/alerts").get_data(as_text=True)
    assert "New chat notifier" in page and "hooks.slack.com/services" in page and "Google Chat" in page
    bad = logged_in.post("/alerts/notifiers/chat", data={"chat-kind": "slack", "chat-url": "https://example.com/x"})
    assert bad.status_code == 400 and "not a Slack webhook URL" in bad.get_data(as_text=True)
    odd = logged_in.post("/alerts/notifiers/chat", data={"chat-kind": "pager", "chat-url": fake.url})
    assert odd.status_code == 400
    good = logged_in.post("/alerts/notifiers/chat", data={"chat-kind": "slack", "chat-url": fake.url,
                                                          "chat-name": "Team <room>"})
    assert good.status_code == 200 and "Team &lt;room&gt;" in good.get_data(as_text=True)
    assert "XXXXXXXX" not in good.get_data(as_text=True)                  # the URL's token is not shown
    sent = logged_in.post("/alerts/notifiers/1/test", follow_redirects=True).get_data(as_text=True)
    assert "Test message posted to Slack through “Team &lt;room&gt;” (HTTP 200" in sent
    fake.script("channel_not_found")
    failed = logged_in.post("/alerts/notifiers/1/test", follow_redirects=True).get_data(as_text=True)
    assert "the webhook&#39;s channel no longer exists (channel_not_found)" in failed
