"""The monitor's reports page: add (hostile values give the form back with a 400), send now,
remove; viewers see it without the controls; other teams' monitors are 404."""
from __future__ import annotations

import pytest

from webapp.core.extensions import db
from webapp.reports.models import Report

from tests.helpers import make_user, new_monitor


def _count(app):
    with app.app_context():
        return db.session.query(Report).count()


def test_add_send_now_and_remove(app, logged_in, reported, smtp_server):
    monitor_id, notifier_id = reported
    page = logged_in.get(f"/monitors/{monitor_id}/reports")
    assert page.status_code == 200 and b"No reports yet" in page.data and b'id="report-form"' in page.data
    answer = logged_in.post(f"/monitors/{monitor_id}/reports", data={
        "every": "weekly", "weekday": "2", "hour": "7", "format": "pdf", "notifiers": [str(notifier_id)]})
    assert answer.status_code == 302
    page = logged_in.get(f"/monitors/{monitor_id}/reports").data.decode()
    assert "weekly, Wednesday at 07:00" in page and "HTML + PDF" in page
    with app.app_context():
        report_id = db.session.query(Report.id).scalar()
    answer = logged_in.post(f"/monitors/{monitor_id}/reports/{report_id}/send", follow_redirects=True)
    assert answer.status_code == 200 and b"Report sent." in answer.data
    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0][2]
    assert any(p.get_content_type() == "application/pdf" for p in message.iter_attachments())
    assert b"run-sent" in answer.data
    answer = logged_in.post(f"/monitors/{monitor_id}/reports/{report_id}/delete", follow_redirects=True)
    assert answer.status_code == 200 and b"Report removed." in answer.data and _count(app) == 0


GOOD = {"every": "daily", "hour": "8", "weekday": "0", "format": "html", "notifiers": "N"}


@pytest.mark.parametrize("changes", [
    {"every": "hourly"}, {"hour": "24"}, {"hour": "x"}, {"hour": "-1"}, {"weekday": "9"}, {"format": "docx"},
    {"notifiers": ["999999"]}, {"notifiers": ["abc"]}, {"notifiers": None},
])
def test_hostile_form_values_give_the_form_back(app, logged_in, reported, changes):
    monitor_id, notifier_id = reported
    data = {**GOOD, **changes}
    data = {k: ([str(notifier_id)] if v == "N" else v) for k, v in data.items() if v is not None}
    answer = logged_in.post(f"/monitors/{monitor_id}/reports", data=data)
    assert answer.status_code == 400 and b'class="error"' in answer.data
    assert _count(app) == 0


def test_viewers_see_no_controls_and_other_teams_get_404(app, client, reported):
    monitor_id, _ = reported
    make_user(app, email="viewer@example.com", role="viewer", password="viewer password")
    assert client.post("/login", data={"email": "viewer@example.com", "password": "viewer password"}).status_code == 302
    page = client.get(f"/monitors/{monitor_id}/reports")
    assert page.status_code == 200 and b'id="report-form"' not in page.data
    assert client.post(f"/monitors/{monitor_id}/reports", data={"every": "daily"}).status_code == 403
    make_user(app, email="other@example.com", role="editor", password="other password", team="Other")
    client.get("/logout")
    client.post("/login", data={"email": "other@example.com", "password": "other password"})
    assert client.get(f"/monitors/{monitor_id}/reports").status_code == 404
    assert client.get("/monitors/999999/reports").status_code == 404
