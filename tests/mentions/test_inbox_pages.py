"""Inbox pages: filters and row fields on the mentions page, the bulk form over the whole filter,
the mention page (read on open, notes, assign, done), the tags page and the dashboard's Tags table."""
from __future__ import annotations

import re

import pytest

from webapp.core.extensions import db
from webapp.people.models import User

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases
TEXTS = ("phone broken", "need help", "nice day", "broken again")


def csrf(client, url) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', client.get(url).get_data(as_text=True)).group(1)


@pytest.fixture
def seeded(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app)
    items = [mention(i, TEXTS[i % 4]) for i in range(60)]
    assert logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()
    with app.app_context():
        me = db.session.execute(db.select(User.id).where(User.email == "page@example.com")).scalar_one()
    return monitor_id, me


def test_bulk_form_reaches_every_match_not_only_the_page(app, logged_in, seeded):
    monitor_id, me = seeded
    page = f"/monitors/{monitor_id}/mentions"
    token = csrf(logged_in, page)
    form = {"csrf_token": token, "back": f"{page}?q=broken&per_page=25", "q": "broken", "action": "tag",
            "bulk_tag": "hardware"}
    answer = logged_in.post(f"{page}/bulk", data=form)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("?q=broken&per_page=25")
    html = logged_in.get(f"{page}?tag=hardware").get_data(as_text=True)
    assert '<strong>30</strong> mentions' in html and 'class="chip"' in html
    assert logged_in.post(f"{page}/bulk", data={**form, "action": "assign", "bulk_assignee": str(me)}).status_code == 302
    assert '<strong>30</strong>' in logged_in.get(f"{page}?assignee=me").get_data(as_text=True)
    assert logged_in.post(f"{page}/bulk", data={**form, "action": "done"}).status_code == 302
    assert '<strong>30</strong>' in logged_in.get(f"{page}?status=done").get_data(as_text=True)
    assert logged_in.post(f"{page}/bulk", data={**form, "q": "", "action": "read"}).status_code == 302
    assert 'data-read="no"' not in logged_in.get(page).get_data(as_text=True)
    bad = logged_in.post(f"{page}/bulk", data={**form, "bulk_tag": "   "})
    assert bad.status_code == 400 and 'id="bulk-tag-error"' in bad.get_data(as_text=True)
    bad = logged_in.post(f"{page}/bulk", data={**form, "action": "assign", "bulk_assignee": "99999"})
    assert bad.status_code == 400 and 'id="bulk-assignee-error"' in bad.get_data(as_text=True)
    outside = logged_in.post(f"{page}/bulk", data={**form, "back": "https://evil.example/x"})
    assert outside.headers["Location"].endswith(page)


def test_the_mention_page_marks_read_and_takes_notes_tags_and_status(app, logged_in, seeded):
    monitor_id, me = seeded
    with app.app_context():
        from webapp.ingest.models import Mention
        mention_id = db.session.execute(db.select(Mention.id).where(Mention.monitor_id == monitor_id)).scalars().first()
    url = f"/monitors/{monitor_id}/mentions/{mention_id}"
    html = logged_in.get(url).get_data(as_text=True)
    assert "No notes yet" in html
    token = csrf(logged_in, url)
    assert logged_in.post(f"{url}/notes", data={"csrf_token": token, "body": "<b>call back</b>"}).status_code == 302
    bad = logged_in.post(f"{url}/notes", data={"csrf_token": token, "body": "  "})
    assert bad.status_code == 400 and 'id="note-error"' in bad.get_data(as_text=True)
    one = {"csrf_token": token, "back": url, "mention_id": str(mention_id)}
    bulk = f"/monitors/{monitor_id}/mentions/bulk"
    assert logged_in.post(bulk, data={**one, "action": "tag", "bulk_tag": "vip"}).status_code == 302
    assert logged_in.post(bulk, data={**one, "action": "assign", "bulk_assignee": str(me)}).status_code == 302
    assert logged_in.post(bulk, data={**one, "action": "done"}).status_code == 302
    html = logged_in.get(url).get_data(as_text=True)
    assert "&lt;b&gt;call back&lt;/b&gt;" in html and "page@example.com" in html and 'id="mention-status">done' in html
    listing = logged_in.get(f"/monitors/{monitor_id}/mentions?read=read").get_data(as_text=True)
    assert "<strong>1</strong> mention" in listing and "1 note" in listing
    assert logged_in.get(f"/monitors/{monitor_id}/mentions/{2**63 + 1}").status_code == 404
    assert logged_in.post(bulk, data={**one, "action": "done", "mention_id": "x1"}).status_code == 404


def test_tags_page_rules_and_dashboard_counts(app, logged_in, seeded):
    monitor_id, _ = seeded
    url = f"/monitors/{monitor_id}/tags"
    token = csrf(logged_in, url)
    bad = logged_in.post(url, data={"csrf_token": token, "tag": "support", "query": "help AND (broken"})
    assert bad.status_code == 400 and 'id="rule-query-error"' in bad.get_data(as_text=True)
    assert "position" in bad.get_data(as_text=True)
    assert logged_in.post(url, data={"csrf_token": token, "tag": "support", "query": "help OR broken"}).status_code == 302
    assert logged_in.post(f"{url}/apply", data={"csrf_token": token}).status_code == 302
    html = logged_in.get(url).get_data(as_text=True)
    assert re.search(r"support</a></td><td>45</td>", html), html
    dashboard = logged_in.get(f"/monitors/{monitor_id}").get_data(as_text=True)
    assert 'id="dashboard-tags"' in dashboard and "tag=support" in dashboard
    link = re.search(r'href="(/monitors/\d+/mentions\?tag=support[^"]*)"', dashboard).group(1).replace("&amp;", "&")
    assert "<strong>45</strong>" in logged_in.get(link).get_data(as_text=True)


def test_hostile_rule_and_note_input_on_pages_is_a_message_never_a_500(app, logged_in, seeded):
    monitor_id, _ = seeded
    url = f"/monitors/{monitor_id}/tags"
    token = csrf(logged_in, url)
    for form in ({"tag": "t", "query": "x" * 3000}, {"tag": "t" * 500, "query": "ok"}, {"tag": "t", "query": "a\x00b"},
                 {"tag": "", "query": ""}, {"query": "((((" * 300}):
        answer = logged_in.post(url, data={"csrf_token": token, **form})
        assert answer.status_code == 400, form
    mention_url = f"/monitors/{monitor_id}/mentions/{2**62}"
    assert logged_in.get(mention_url).status_code == 404
    assert logged_in.post(f"{mention_url}/notes", data={"csrf_token": token, "body": "x"}).status_code == 404
    answer = logged_in.post(f"/monitors/{monitor_id}/mentions/1/notes", data={"csrf_token": token, "body": "x" * 6000})
    assert answer.status_code == 400 and 'id="note-error"' in answer.get_data(as_text=True)
