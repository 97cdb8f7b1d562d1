"""Scheduled reports: the API (and its 400s), the HTML email over a real SMTP server (cid images,
inline styles, plain-text part), the PDF, summaries to webhooks, and exactly one run per period."""
from __future__ import annotations

import base64
import io
import threading
from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.reports.models import Report, ReportRun
from webapp.reports.services import runs
from webapp.reports.tasks import context

from tests.fake_chat import chat_fake  # noqa: F401  (fixture)
from tests.helpers import new_monitor
from tests.reports.conftest import END, NOW


def _report(client, auth, monitor_id, notifiers, **fields):
    body = {"every": "daily", "notifiers": notifiers, "hour": END.hour, **fields}
    answer = client.post(f"/api/v1/monitors/{monitor_id}/reports", json=body, headers=auth)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()


def _backdate(app, report_id, days=3):
    with app.app_context():
        db.session.get(Report, report_id).created_at = NOW - timedelta(days=days)
        db.session.commit()


def _run_due(app, now=NOW):
    with app.app_context():
        ctx = context()
        return [runs.execute(db.session, run_id, ctx, None) for run_id in runs.send_due(db.session, now)]


def _parts(message):
    return [(part.get_content_type(), part) for part in message.walk()]


def test_the_html_email_has_cid_images_inline_styles_and_a_text_part(app, client, auth, reported, smtp_server):
    monitor_id, notifier_id = reported
    report = _report(client, auth, monitor_id, [notifier_id])
    assert report["time_zone"] == "UTC" and report["next_send_at"]
    _backdate(app, report["id"])
    assert _run_due(app) == ["sent"]
    assert len(smtp_server.messages) == 1
    _, recipients, message = smtp_server.messages[0]
    assert recipients == ["team@example.com"]
    assert message["Subject"] == "[Sentimon] Daily report: Acme <Launch> & Co"
    kinds = [kind for kind, _ in _parts(message)]
    assert kinds[:3] == ["multipart/alternative", "text/plain", "multipart/related"]
    text = message.get_body(("plain",)).get_content()
    assert "Mentions:" in text and "Most negative mentions" in text and "http://sentimon.example/monitors/" in text
    html = message.get_body(("html",)).get_content()
    images = {part["Content-ID"].strip().strip("<>"): part for kind, part in _parts(message) if kind == "image/png"}
    assert len(images) == 2
    for cid, part in images.items():
        assert f'src="cid:{cid}"' in html
        assert part.get_content()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<style" not in html and "class=" not in html       # inline styles, no stylesheet
    assert html.count('style="') > 40 and 'role="presentation"' in html
    assert "Acme &lt;Launch&gt; &amp; Co" in html                # escaped
    assert "Most positive mentions" in html and "wonderful" in html and "awful" in html
    # The change against the previous period is there, for each figure.
    assert "Previous" in html and ("%" in html or "new" in html)


def test_the_pdf_report_opens_has_pages_and_names_the_monitor(app, client, auth, reported, smtp_server):
    from pypdf import PdfReader

    monitor_id, notifier_id = reported
    report = _report(client, auth, monitor_id, [notifier_id], format="pdf", every="weekly",
                     weekday=END.weekday())
    _backdate(app, report["id"], days=10)
    assert _run_due(app) == ["sent"]
    message = smtp_server.messages[0][2]
    attachments = [part for part in message.iter_attachments() if part.get_content_type() == "application/pdf"]
    assert len(attachments) == 1 and attachments[0].get_filename().endswith(".pdf")
    pdf = PdfReader(io.BytesIO(attachments[0].get_content()))
    assert len(pdf.pages) >= 1
    text = " ".join(page.extract_text() for page in pdf.pages)
    assert "Acme <Launch> & Co" in text and "Weekly report" in text and "Most negative mentions" in text


def test_send_now_answers_202_and_sends_once(app, client, auth, reported, smtp_server):
    monitor_id, notifier_id = reported
    report = _report(client, auth, monitor_id, [notifier_id])
    answer = client.post(f"/api/v1/reports/{report['id']}/send", headers=auth)
    assert answer.status_code == 202
    run_id = answer.get_json()["run_id"]
    with app.app_context():
        ctx = context()
        assert runs.execute(db.session, run_id, ctx) == "sent"
        assert runs.execute(db.session, run_id, ctx) == "skipped"   # a duplicate task sends nothing
    assert len(smtp_server.messages) == 1
    got = client.get(f"/api/v1/reports/{report['id']}", headers=auth).get_json()
    assert got["runs"][0]["status"] == "sent" and got["runs"][0]["manual"] is True


def test_webhook_notifiers_get_a_signed_report_ready_summary(app, client, auth, reported, webhook_server):
    from standardwebhooks import Webhook

    monitor_id, _ = reported
    created = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": webhook_server.url},
                          headers=auth).get_json()
    report = _report(client, auth, monitor_id, [created["id"]])
    _backdate(app, report["id"])
    assert _run_due(app) == ["sent"]
    with app.app_context():
        from webapp.alerting.models import Delivery
        from webapp.alerting.notifiers import delivery

        queued = db.session.execute(db.select(Delivery)).scalars().all()
        assert [d.type for d in queued] == ["report.ready"]
        assert delivery.attempt(db.session, queued[0].id, context()).outcome == "sent"
    request = webhook_server.requests[0]
    payload = Webhook(created["secret"]).verify(request.body, request.headers)
    assert payload["type"] == "report.ready"
    assert payload["data"]["monitor"]["name"] == "Acme <Launch> & Co"
    assert payload["data"]["link"].endswith(f"/monitors/{monitor_id}")
    assert [row["name"] for row in payload["data"]["headline"]][:2] == ["Mentions", "Average sentiment"]


def test_chat_notifiers_get_the_report_as_their_own_message(app, client, auth, reported, chat_fake):
    """A report's summary reaches Slack (or any chat kind) as a message in that service's format."""
    monitor_id, _ = reported
    fake = chat_fake("slack")
    created = client.post("/api/v1/notifiers", json={"kind": "slack", "url": fake.url}, headers=auth)
    assert created.status_code == 201, created.get_json()
    report = _report(client, auth, monitor_id, [created.get_json()["id"]])
    _backdate(app, report["id"])
    assert _run_due(app) == ["sent"]
    with app.app_context():
        from webapp.alerting.models import Delivery
        from webapp.alerting.notifiers import delivery

        queued = db.session.execute(db.select(Delivery)).scalars().all()
        assert delivery.attempt(db.session, queued[0].id, context()).outcome == "sent"
    posted = fake.posts[-1].json
    text = posted["text"]
    assert "Report: Acme &lt;Launch&gt; &amp; Co" in text or "Report: Acme" in text, text
    assert "report for Acme" in str(posted["blocks"]) and f"/monitors/{monitor_id}" in str(posted)


def test_a_period_is_sent_once_when_the_task_runs_twice(app, client, auth, reported, smtp_server):
    monitor_id, notifier_id = reported
    report = _report(client, auth, monitor_id, [notifier_id])
    _backdate(app, report["id"])
    assert _run_due(app) == ["sent"]
    assert _run_due(app) == []
    assert _run_due(app, END + timedelta(hours=23, minutes=59)) == []   # still the same period
    assert len(smtp_server.messages) == 1


def test_a_report_made_after_the_send_time_waits_for_the_next_period(app, client, auth, reported, smtp_server):
    monitor_id, notifier_id = reported
    _report(client, auth, monitor_id, [notifier_id])   # created now, after today's send time
    assert _run_due(app) == []
    assert _run_due(app, END + timedelta(days=1, minutes=1)) == ["sent"]


HOSTILE = [
    None, [], "daily", 7, {"every": "hourly", "notifiers": [1]}, {"every": "daily"},
    {"every": "daily", "notifiers": []}, {"every": "daily", "notifiers": ["1"]},
    {"every": "daily", "notifiers": [1.5]}, {"every": "daily", "notifiers": [True]},
    {"every": "daily", "notifiers": [2**70]}, {"every": "daily", "notifiers": [-1]},
    {"every": "daily", "notifiers": list(range(1, 30))},
    {"every": "daily", "notifiers": "1"}, {"every": "daily", "notifiers": [{"id": 1}]},
    {"every": "weekly", "notifiers": [1], "hour": 24}, {"every": "weekly", "notifiers": [1], "hour": -1},
    {"every": "weekly", "notifiers": [1], "hour": "8"}, {"every": "weekly", "notifiers": [1], "weekday": 7},
    {"every": "weekly", "notifiers": [1], "format": "docx"}, {"every": "daily", "notifiers": [1], "extra": 1},
    {"every": ["daily"], "notifiers": [1]}, {"every": "daily\x00", "notifiers": [1]},
    {"every": "daily", "notifiers": [999999]},
]


@pytest.mark.parametrize("body", HOSTILE)
def test_hostile_report_bodies_are_400(app, client, auth, body):
    monitor_id, _ = new_monitor(app)
    answer = client.post(f"/api/v1/monitors/{monitor_id}/reports", json=body, headers=auth)
    assert 400 <= answer.status_code < 500 and answer.status_code != 404, (body, answer.get_json())
    assert answer.get_json()["error"]
    with app.app_context():
        assert db.session.query(Report).count() == 0


def test_bad_json_and_unknown_ids(app, client, auth):
    monitor_id, _ = new_monitor(app)
    answer = client.post(f"/api/v1/monitors/{monitor_id}/reports", data=b"{not json",
                         headers={**auth, "Content-Type": "application/json"})
    assert answer.status_code == 400
    assert client.post("/api/v1/monitors/999999/reports", json={}, headers=auth).status_code == 404
    for method, path in (("get", "/api/v1/reports/999999"), ("delete", "/api/v1/reports/999999"),
                         ("post", "/api/v1/reports/999999/send"), ("get", f"/api/v1/reports/{2**64}")):
        assert getattr(client, method)(path, headers=auth).status_code == 404


def test_list_get_delete(app, client, auth, reported):
    monitor_id, notifier_id = reported
    report = _report(client, auth, monitor_id, [notifier_id, notifier_id], every="weekly", weekday=4, hour=9)
    assert report["notifiers"] == [notifier_id] and (report["weekday"], report["hour"]) == (4, 9)
    assert datetime.fromisoformat(report["next_send_at"]).weekday() == 4
    listed = client.get(f"/api/v1/monitors/{monitor_id}/reports", headers=auth).get_json()
    assert [r["id"] for r in listed] == [report["id"]]
    assert client.delete(f"/api/v1/reports/{report['id']}", headers=auth).status_code == 204
    assert client.get(f"/api/v1/reports/{report['id']}", headers=auth).status_code == 404
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/monitors/{monitor_id}/reports" in spec["paths"] and "ReportIn" in spec["components"]["schemas"]


def test_failed_notifiers_are_retried_alone(app, client, auth, reported, smtp_server, webhook_server):
    from tests.helpers import free_port
    from webapp.alerting.models import Delivery

    monitor_id, email_id = reported
    hook = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": webhook_server.url}, headers=auth)
    report = _report(client, auth, monitor_id, [email_id, hook.get_json()["id"]])
    _backdate(app, report["id"])
    working = app.config["SMTP_URL"]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"      # nobody listens: refused
    assert _run_due(app) == ["retry"]
    with app.app_context():
        run = db.session.query(ReportRun).one()
        assert run.attempts == 1 and "ConnectionRefused" in run.error and len(run.sent_to) == 1
        assert db.session.query(Delivery).count() == 1              # the webhook's summary
        assert runs.stale_runs(db.session, NOW) == []                # not before the delay
        due = runs.stale_runs(db.session, run.next_attempt_at)
        assert due == [run.id]
        app.config["SMTP_URL"] = working
        assert runs.execute(db.session, run.id, context(), now=run.next_attempt_at) == "sent"
        assert db.session.query(Delivery).count() == 1              # not sent to the webhook again
    assert len(smtp_server.messages) == 1
    got = client.get(f"/api/v1/reports/{report['id']}", headers=auth).get_json()
    assert got["runs"][0]["status"] == "sent"


def test_a_run_fails_after_its_last_attempt(app, client, auth, reported):
    from tests.helpers import free_port

    monitor_id, email_id = reported
    report = _report(client, auth, monitor_id, [email_id])
    _backdate(app, report["id"])
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{free_port()}"
    assert _run_due(app) == ["retry"]
    with app.app_context():
        run_id = db.session.query(ReportRun.id).scalar()
        for expected in ("retry", "failed"):
            when = db.session.get(ReportRun, run_id).next_attempt_at
            assert runs.execute(db.session, run_id, context(), now=when) == expected
        assert runs.stale_runs(db.session, NOW + timedelta(days=1)) == []


def test_registered_sections_appear_and_a_failing_one_is_left_out(app, client, auth, reported, smtp_server,
                                                                   monkeypatch):
    from webapp.reports.services import content

    def rising(session, monitor_id, period):
        return {"title": "Top rising terms", "columns": ["term", "count"], "rows": [["<outage>", 12]]}

    def broken(session, monitor_id, period):
        raise RuntimeError("terms service down")

    monkeypatch.setattr(content, "SECTIONS", {})
    content.register_section("terms", rising)
    content.register_section("authors", broken)
    content.register_section("empty", lambda *args: None)
    monitor_id, notifier_id = reported
    report = _report(client, auth, monitor_id, [notifier_id])
    _backdate(app, report["id"])
    assert _run_due(app) == ["sent"]
    message = smtp_server.messages[0][2]
    html = message.get_body(("html",)).get_content()
    assert "Top rising terms" in html and "&lt;outage&gt;" in html and "terms service down" not in html
    assert "Top rising terms:" in message.get_body(("plain",)).get_content()


def test_top_rising_terms_appear_when_the_terms_feature_is_installed(app, client, auth, drain, reported,
                                                                    smtp_server):
    from tests.alert_fixtures import push
    from tests.reports.conftest import END

    pytest.importorskip("webapp.insights.terms.service")
    monitor_id, notifier_id = reported
    items = [{"external_id": f"z{i}", "text": f"zebracorn recall announced today {i}",
              "published_at": (END - timedelta(hours=2, minutes=i)).isoformat()} for i in range(12)]
    push(client, auth, drain, monitor_id, items)
    report = _report(client, auth, monitor_id, [notifier_id])
    _backdate(app, report["id"])
    assert _run_due(app) == ["sent"]
    html = smtp_server.messages[0][2].get_body(("html",)).get_content()
    assert "Top rising terms" in html and "zebracorn" in html


def test_a_run_keeps_the_fold_it_did_to_read_even_when_its_send_fails(app, client, auth, drain, reported):
    """Gathering a report reads the terms table, which folds the monitor's pending term deltas:
    the run commits that before it sends, so a failed send (rolled back) does not undo it."""
    from sqlalchemy import func, select

    from webapp.ingest.models import TermDeltas

    monitor_id, notifier_id = reported
    with app.app_context():
        waiting = select(func.count()).where(TermDeltas.monitor_id == monitor_id)
        assert db.session.execute(waiting).scalar() > 0
        db.session.rollback()
    report = _report(client, auth, monitor_id, [notifier_id])
    _backdate(app, report["id"])
    app.config["SMTP_URL"] = "smtp://127.0.0.1:9"          # nothing listens: the send fails
    assert _run_due(app) == ["retry"]
    with app.app_context():
        assert db.session.execute(waiting).scalar() == 0
