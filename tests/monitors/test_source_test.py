"""“Test source”: one fetch now through the egress guard, the first items or a human explanation,
nothing saved; the same check refuses a source that cannot work on save. Against local fakes
(tests/fake_news.py's loopback server) for every kind of error."""
from __future__ import annotations

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from tests.fake_news import FakeServer
from webapp.core.egress import EgressPolicy
from webapp.core.extensions import db
from webapp.monitors.models import Monitor, Source
from webapp.monitors.services.probe import LASTING, explain, probe

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><guid>a1</guid><title>Acme ships the new widget</title><link>https://example.com/a1</link></item>
<item><guid>a2</guid><title>Widgets are great</title><link>https://example.com/a2</link></item>
</channel></rss>"""
HTML_PAGE = "<!doctype html><html><head><title>Home</title></head><body><h1>Welcome</h1></body></html>"
OPEN = EgressPolicy.from_setting("127.0.0.1", deadline=2.0)
CLOSED = EgressPolicy.from_setting("")


@pytest.fixture
def fake():
    server = FakeServer()
    server.routes["/feed.xml"] = lambda req: (200, {"Content-Type": "application/rss+xml"}, FEED)
    server.routes["/page"] = lambda req: (200, {"Content-Type": "text/html"}, HTML_PAGE)
    server.routes["/gone"] = lambda req: (404, {"Content-Type": "text/html"}, "<html><body>Not Found</body></html>")
    server.routes["/busy"] = lambda req: (429, {"Retry-After": "600"}, "slow down")
    server.routes["/locked"] = lambda req: (401, {}, '{"message": "Bad credentials"}')
    server.routes["/broken"] = lambda req: (503, {}, "<html>maintenance</html>")
    yield server
    server.close()


def rss(url):
    return {"kind": "rss", "url": url}


def test_a_working_feed_shows_its_first_items(fake):
    result = probe(rss(f"{fake.base}/feed.xml"), OPEN)
    assert result.ok and result.count == 2 and result.items[0].text.startswith("Acme ships")
    assert result.as_dict()["items"][1]["url"] == "https://example.com/a2"


@pytest.mark.parametrize("path, code, words, lasting, setting", [
    ("/page", "parse", "not with an RSS or Atom feed", True, "url"),
    ("/gone", "http_404", "Nothing was found at this address (HTTP 404)", True, "url"),
    ("/busy", "rate_limited", "Try again in 10 minutes", False, None),
    ("/locked", "http_401", "refused the credentials (HTTP 401)", True, None),
    ("/broken", "http_503", "had an error (HTTP 503)", False, None),
])
def test_each_error_is_explained_without_remote_html(fake, path, code, words, lasting, setting):
    result = probe(rss(f"{fake.base}{path}"), OPEN)
    assert not result.ok and result.problem.code == code
    assert words in result.problem.text and result.problem.lasting is lasting
    assert result.setting == setting
    assert "<" not in result.problem.text and "maintenance" not in result.problem.text


def test_a_refused_loopback_address_names_egress_allow(fake):
    result = probe(rss(f"{fake.base}/feed.xml"), CLOSED)
    assert not result.ok
    message = result.errors.get("sources[0].url") or result.problem.text
    assert "EGRESS_ALLOW" in message and "127.0.0.1" in message
    by_name = probe(rss(f"http://localhost:{fake.base.rsplit(':', 1)[1]}/feed.xml"), CLOSED)
    assert "EGRESS_ALLOW" in (by_name.problem.text if by_name.problem else str(by_name.errors))
    assert fake.hits("/feed.xml") == []   # refused before any request


def test_a_timeout_and_a_dead_host_are_explained(fake):
    import socket
    import threading

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)   # accepts the connection, never answers
    slow = probe(rss(f"http://127.0.0.1:{listener.getsockname()[1]}/feed"),
                 EgressPolicy.from_setting("127.0.0.1", deadline=0.5))
    listener.close()
    assert slow.problem.code == "timeout" and not slow.problem.lasting
    dead = probe(rss(f"http://127.0.0.1:{_closed_port()}/feed"), OPEN)
    assert dead.problem.code == "connect" and "No connection" in dead.problem.text
    del threading


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_settings_errors_come_back_keyed_like_the_api():
    result = probe({"kind": "rss", "url": "ftp://example.com/x"}, OPEN)
    assert not result.ok and "sources[0].url" in result.errors
    assert probe({"kind": "nope"}, OPEN).errors == {"sources[0].kind": "unknown source kind 'nope'"}
    assert probe({"kind": "github"}, OPEN).errors   # the token is required


def test_the_demo_works_offline():
    result = probe({"kind": "demo"}, CLOSED)
    assert result.ok and result.count > 0 and result.items


def test_explain_never_leaves_a_code_unexplained():
    for code in sorted(LASTING) + ["timeout", "connect", "protocol", "http_418", "http_502", "weird"]:
        found = explain(code, "x", kind="rss")
        assert found.text.endswith(".") and found.code == code


# -- the pages -----------------------------------------------------------------------------------

def _errors(html: str) -> list[str]:
    return [unescape(m) for m in re.findall(r'<p class="error[^"]*">(.*?)</p>', html, re.S)]


def _count(app, model) -> int:
    with app.app_context():
        found = db.session.execute(select(func.count()).select_from(model)).scalar()
        db.session.remove()
        return found


def test_the_button_fetches_once_and_saves_nothing(app, logged_in, fake):
    data = {"name": "Probe", "query": "", "rss_urls": f"{fake.base}/feed.xml\n{fake.base}/page",
            "test_source": "rss"}
    page = logged_in.post("/monitors/new", data=data)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, _errors(html)
    assert "Works: 2 items in one fetch" in html and "Acme ships the new widget" in html
    assert "not with an RSS or Atom feed" in html
    assert _count(app, Monitor) == 0 and _count(app, Source) == 0
    # other kinds: the section's box need not be ticked to test it
    hn = logged_in.post("/monitors/new", data={"name": "", "test_source": "json",
                                               "src-json-url": f"{fake.base}/gone",
                                               "src-json-fields": '{"id": "id", "text": "t"}'})
    assert "HTTP 404" in hn.get_data(as_text=True) and _count(app, Monitor) == 0
    hostile = logged_in.post("/monitors/new", data={"test_source": "<script>"})
    assert hostile.status_code == 400 and "no such source kind" in hostile.get_data(as_text=True)
    assert "<script>" not in hostile.get_data(as_text=True).split("<main>")[1]
    empty = logged_in.post("/monitors/new", data={"test_source": "rss"}).get_data(as_text=True)
    assert "Fill in the RSS / Atom feed settings" in empty


def test_save_refuses_a_source_that_cannot_work(app, logged_in, fake):
    app.config["SOURCE_CHECK_ON_SAVE"] = True
    for path, words in (("/page", "not with an RSS or Atom feed"), ("/gone", "HTTP 404")):
        page = logged_in.post("/monitors/new", data={"name": "Bad feed", "rss_urls": f"{fake.base}{path}"})
        html = page.get_data(as_text=True)
        assert page.status_code == 400 and any(words in e for e in _errors(html)), _errors(html)
        assert "<body>" not in "".join(_errors(html))
    assert _count(app, Monitor) == 0
    busy = logged_in.post("/monitors/new", data={"name": "Busy feed", "rss_urls": f"{fake.base}/busy"})
    assert busy.status_code == 302   # it may work later: saved, with a note
    assert "limiting requests" in logged_in.get(busy.headers["Location"]).get_data(as_text=True)
    good = logged_in.post("/monitors/new", data={"name": "Good feed", "rss_urls": f"{fake.base}/feed.xml"})
    assert good.status_code == 302
    monitor = int(good.headers["Location"].rsplit("/", 1)[1])
    added = logged_in.post(f"/monitors/{monitor}/edit", data={"name": "Good feed", "query": "",
                                                               "rss_urls": f"{fake.base}/gone"})
    assert added.status_code == 400 and "HTTP 404" in added.get_data(as_text=True)
    with app.app_context():
        assert len(db.session.get(Monitor, monitor).fetched_sources) == 1
        db.session.remove()


def test_first_fetch_message_only_with_sources(app, logged_in):
    bare = logged_in.post("/monitors/new", data={"name": "Bare"}, follow_redirects=True).get_data(as_text=True)
    assert "no source to fetch yet" in bare and "within a minute" not in bare
    demo = logged_in.post("/monitors/new", data={"name": "Demo", "demo": "y"},
                          follow_redirects=True).get_data(as_text=True)
    assert "fetched within a minute" in demo


def test_a_too_short_interval_is_reported_on_the_interval_field(app, logged_in):
    from tests.monitors.test_source_forms import field_errors

    page = logged_in.post("/monitors/new", data={"name": "Fast", "rss_urls": "https://example.com/feed.xml",
                                                 "every": "100"})
    assert page.status_code == 400
    errors = field_errors(page.get_data(as_text=True))
    assert errors["every"] and not errors.get("rss_urls")


def test_the_api_twin(app, client, auth, fake):
    answer = client.post("/api/v1/sources/test", headers=auth, json=rss(f"{fake.base}/feed.xml"))
    assert answer.status_code == 200 and answer.get_json()["ok"] and answer.get_json()["count"] == 2
    bad = client.post("/api/v1/sources/test", headers=auth, json=rss(f"{fake.base}/gone"))
    assert bad.status_code == 200 and bad.get_json()["problem"]["code"] == "http_404"
    assert bad.get_json()["problem"]["lasting"] is True
    for body in ({"kind": "rss", "url": 5}, {"kind": "nope"}, [], "x", {"kind": ["rss"]}, {}):
        refused = client.post("/api/v1/sources/test", headers=auth, json=body)
        assert refused.status_code == 422, (body, refused.get_data(as_text=True))
    assert client.post("/api/v1/sources/test", json=rss(f"{fake.base}/feed.xml")).status_code == 401
    assert _count(app, Source) == 0
    assert "/api/v1/sources/test" in client.get("/api/v1/openapi.json").get_json()["paths"]


def test_the_button_on_the_edit_page(app, logged_in, fake):
    from tests.helpers import new_monitor

    monitor_id, _ = new_monitor(app, "Edited")
    page = logged_in.post(f"/monitors/{monitor_id}/edit", data={
        "name": "Renamed", "query": "", "rss_urls": f"{fake.base}/feed.xml", "test_source": "rss"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Works: 2 items in one fetch:" in html
    assert f'formaction="/monitors/{monitor_id}/edit#source-rss"' in html
    with app.app_context():
        monitor = db.session.get(Monitor, monitor_id)
        assert monitor.name == "Edited" and monitor.fetched_sources == []
        db.session.remove()
