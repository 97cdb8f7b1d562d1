"""What bounds a mentions-page search: how deep its pages go (MAX_DEPTH matches), which numbers
its parameters read (ASCII digits only: "²" and "١" are no page), and, on PostgreSQL, how long
one of its statements, or one of the mentions API listing's, may run (SEARCH_TIMEOUT_SECONDS: a
422 naming what to do, the request's transaction usable after it)."""
from __future__ import annotations

import time
from datetime import datetime, timezone

import pytest
from sqlalchemy import insert, text

from webapp.core.extensions import db
from webapp.core.numbers import digits_only, whole_number
from webapp.ingest.models import Mention
from webapp.mentions import search

from tests.helpers import new_monitor

ON_POSTGRES = pytest.mark.parametrize("db_kind", ["postgresql"], indirect=True)   # statement_timeout is PostgreSQL's
NOW = datetime.now(timezone.utc)


def _one_mention(app, monitor_id: int, source_id: int) -> None:
    with app.app_context():
        db.session.execute(insert(Mention), [{
            "monitor_id": monitor_id, "source_id": source_id, "external_id": "m1", "text": "acme rocket",
            "published_at": NOW, "ingested_at": NOW, "compound": 0.5, "scored": True, "pos": 0.5, "neu": 0.5,
            "neg": 0.0, "label": "positive", "muted": False}])
        db.session.commit()
        db.session.remove()


@pytest.mark.parametrize("value, digits, expected", [
    ("7", 18, 7), (" 42 ", 18, 42), ("007", 18, 7), ("9" * 18, 18, 10**18 - 1), ("9" * 19, 18, None),
    ("²", 18, None), ("١٢", 18, None), ("１", 18, None), ("-1", 18, None), ("+1", 18, None), ("1.0", 18, None),
    ("1e3", 18, None), ("", 18, None), ("  ", 18, None), (None, 18, None), (5, 18, None), ("9" * 5_000, 100, None),
    ("1\x00", 18, None)])
def test_whole_numbers_are_ascii_digits_of_a_bounded_length(value, digits, expected):
    assert whole_number(value, digits) == expected


def test_digits_only_refuses_what_int_cannot_read():
    assert digits_only("0123") and not digits_only("²") and not digits_only("") and not digits_only(None)


@pytest.mark.parametrize("per_page, last", [(None, 200), ("25", 400), ("50", 200), ("100", 100)])
def test_pages_reach_the_first_max_depth_matches(per_page, last):
    given = {"per_page": per_page} if per_page else {}
    spec, errors = search.parse_filters({**given, "page": str(last)})
    assert errors == {} and spec.page == last and spec.page * spec.per_page == search.MAX_DEPTH
    spec, errors = search.parse_filters({**given, "page": str(last + 1)})
    assert spec.page == 1 and errors["page"].startswith(f"page must be a whole number from 1 to {last}:")
    assert "export" in errors["page"]


@pytest.mark.parametrize("name, value", [("page", "²"), ("page", "9" * 5_000), ("page", "0"), ("per_page", "²"),
                                         ("per_page", "1" * 5_000), ("source", "²"), ("source", "9" * 5_000),
                                         ("assignee", "٣"), ("assignee", "9" * 5_000)])
def test_unreadable_numbers_are_named_not_raised(name, value):
    _, errors = search.parse_filters({name: value}, viewer_id=1)
    assert name in errors


@pytest.fixture
def slow_search(monkeypatch):
    """search.search made to run a statement of 5 s (PostgreSQL's pg_sleep) before its answer."""
    plain = search.search

    def slow(session, monitor_id, spec):
        session.execute(text("SELECT pg_sleep(5)"))
        return plain(session, monitor_id, spec)

    monkeypatch.setattr(search, "search", slow)


@ON_POSTGRES
def test_a_slow_search_is_stopped_and_the_transaction_goes_on(app, slow_search):
    monitor_id, source_id = new_monitor(app)
    _one_mention(app, monitor_id, source_id)
    with app.app_context():
        spec, _ = search.parse_filters({"q": "acme"})
        before = db.session.execute(text("SHOW statement_timeout")).scalar()
        with pytest.raises(search.SearchTooSlow, match="took more than 0.2 s and was stopped: narrow it"):
            search.bounded_search(db.session, monitor_id, spec, 0.2)
        # the savepoint undid the timeout; the transaction reads on
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == before
        assert db.session.execute(text("SELECT 1")).scalar() == 1
        db.session.rollback()


@ON_POSTGRES
def test_a_search_in_time_leaves_the_timeout_as_it_was(app):
    monitor_id, source_id = new_monitor(app)
    _one_mention(app, monitor_id, source_id)
    with app.app_context():
        spec, _ = search.parse_filters({"q": "acme"})
        before = db.session.execute(text("SHOW statement_timeout")).scalar()
        found = search.bounded_search(db.session, monitor_id, spec, 5)
        assert found.total == 1 and db.session.execute(text("SHOW statement_timeout")).scalar() == before
        assert search.bounded_search(db.session, monitor_id, spec, 0).total == 1   # 0: unbounded


@ON_POSTGRES
def test_the_mentions_page_answers_a_slow_search_with_422_and_keeps_the_form(app, logged_in, slow_search):
    monitor_id, source_id = new_monitor(app)
    _one_mention(app, monitor_id, source_id)
    app.config["SEARCH_TIMEOUT_SECONDS"] = 0.2
    response = logged_in.get(f"/monitors/{monitor_id}/mentions", query_string={"q": "acme", "label": "positive"})
    page = response.get_data(as_text=True)
    assert response.status_code == 422, page[:500]
    assert "took more than 0.2 s and was stopped" in page and 'value="acme"' in page
    app.config["SEARCH_TIMEOUT_SECONDS"] = 0
    assert logged_in.get(f"/monitors/{monitor_id}/mentions", query_string={"q": "acme"}).status_code == 200


def test_sqlite_searches_are_not_bounded(app, logged_in):
    """SQLite's full-text table reads a match at a time: the setting changes nothing there."""
    monitor_id, source_id = new_monitor(app)
    _one_mention(app, monitor_id, source_id)
    app.config["SEARCH_TIMEOUT_SECONDS"] = 0.2
    page = logged_in.get(f"/monitors/{monitor_id}/mentions", query_string={"q": "acme"})
    assert page.status_code == 200 and "<strong>1</strong> mention<" in page.get_data(as_text=True)


@ON_POSTGRES
def test_the_mentions_api_answers_a_slow_listing_with_422_too_slow(app, client, auth, monkeypatch):
    """A deep OFFSET reads every row it skips (at 10 M mentions, offset 1,000,000 took 49 s cold, 8.5 s warm)."""
    monitor_id, source_id = new_monitor(app)
    _one_mention(app, monitor_id, source_id)
    plain = search.window

    def slow(session, *args):
        session.execute(text("SELECT pg_sleep(5)"))
        return plain(session, *args)

    monkeypatch.setattr(search, "window", slow)
    app.config["SEARCH_TIMEOUT_SECONDS"] = 0.2
    answer = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string={"offset": "0"}, headers=auth)
    assert answer.status_code == 422 and answer.get_json()["error"] == "too_slow"
    assert "took more than 0.2 s" in answer.get_json()["detail"] and "before" in answer.get_json()["detail"]
    monkeypatch.setattr(search, "window", plain)
    answer = client.get(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth)
    assert answer.status_code == 200 and answer.get_json()["total"] == 1


@ON_POSTGRES
def test_the_bound_is_for_all_the_statements_together(app):
    """Two statements of 0.3 s each under a bound of 0.5 s: the second is stopped when the bound
    runs out (each alone is within it); a statement due after the end is not sent at all."""
    from webapp.core import sql

    with app.app_context():
        before = db.session.execute(text("SHOW statement_timeout")).scalar()
        started = time.monotonic()
        with pytest.raises(sql.TimedOut, match="more than 0.5 s"):
            with sql.time_bound(db.session, 0.5):
                db.session.execute(text("SELECT pg_sleep(0.3)"))
                db.session.execute(text("SELECT pg_sleep(0.3)"))
        assert 0.45 < time.monotonic() - started < 3
        sent = []
        with pytest.raises(sql.TimedOut):
            with sql.time_bound(db.session, 0.2):
                time.sleep(0.3)          # the time runs out in Python, between statements
                sent.append(db.session.execute(text("SELECT 1")).scalar())
        assert sent == []
        with sql.time_bound(db.session, 0.5):    # within the bound: every statement runs
            assert [db.session.execute(text("SELECT 2")).scalar() for _ in range(3)] == [2, 2, 2]
        assert db.session.execute(text("SHOW statement_timeout")).scalar() == before
        db.session.rollback()


@ON_POSTGRES
def test_a_search_of_slow_statements_ends_within_its_bound(app, monkeypatch):
    """A page's search runs several statements: made to run three of 0.4 s before its answer,
    with a bound of 1 s it is stopped (each statement alone is within the bound)."""
    monitor_id, source_id = new_monitor(app)
    _one_mention(app, monitor_id, source_id)
    plain = search.search

    def slow(session, monitor_id, spec):
        for _ in range(3):
            session.execute(text("SELECT pg_sleep(0.4)"))
        return plain(session, monitor_id, spec)

    monkeypatch.setattr(search, "search", slow)
    with app.app_context():
        spec, _ = search.parse_filters({"q": "acme"})
        started = time.monotonic()
        with pytest.raises(search.SearchTooSlow, match="more than 1 s"):
            search.bounded_search(db.session, monitor_id, spec, 1)
        assert time.monotonic() - started < 5    # stopped, not after every statement ran (generous: a loaded machine)
        db.session.rollback()
