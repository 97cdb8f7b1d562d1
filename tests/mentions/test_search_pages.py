"""The mentions page's search (search.search) gives the rows of the plain query (every match
sorted in SQL, LIMIT/OFFSET) whichever way it reads them: the page sliced from the ids of every
match, or the monitor walked in the page's order when more match than it counts; ties in time,
unscored mentions and pages past the end included, on both databases."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, insert, select, update

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.mentions import search
from webapp.monitors.models import Source

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
WORDS = ("acme rocket", "acme", "rocket launch", "nothing here", "ACME support", "rocket")


@pytest.fixture
def pages(app):
    monitor_id, push_id = new_monitor(app, name="Pages")
    other_id, other_push = new_monitor(app, name="Other")
    with app.app_context():
        for mid, sid in ((monitor_id, push_id), (other_id, other_push)):
            db.session.execute(insert(Mention), [{
                "monitor_id": mid, "source_id": sid, "external_id": f"p{i}", "text": f"{WORDS[i % len(WORDS)]} {i}",
                "author": "acme fan" if i % 7 == 0 else f"user{i}",
                "published_at": T0 - timedelta(hours=i // 3),  # three mentions at each time: ties
                "ingested_at": T0, "compound": None if i % 5 == 0 else ((i * 37) % 21 - 10) / 10,
                "scored": i % 5 != 0, "pos": 0.1,
                "neu": 0.8, "neg": 0.1, "label": "neutral", "muted": i % 11 == 0} for i in range(60)])
        db.session.commit()
        db.session.remove()
    return monitor_id


def _plain(monitor_id: int, spec) -> list[int]:
    """Every match in the page's order (the reference: one query, sorted in SQL)."""
    return list(db.session.execute(
        select(Mention.id).join(Source, Source.id == Mention.source_id)
        .where(*search.conditions(monitor_id, spec)).order_by(*search.ordering(spec))).scalars())


@pytest.mark.parametrize("cap, budget, limit", [(4, 5_000, 50_000), (10_000, 5_000, 50_000),
                                                (4, 8, 40), (4, 8, 8), (4, 1, 1)])
def test_search_pages_are_the_plain_querys_slices(app, pages, monkeypatch, cap, budget, limit):
    """Whichever way the page is read: gathered, walked within the first budget, walked again
    longer, or gathered after a walk that found too few."""
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    monkeypatch.setattr(search, "WALK_BUDGET", budget)
    monkeypatch.setattr(search, "WALK_LIMIT", limit)
    with app.app_context():
        for q in ("", "acme", "rocket", "ACME rocket", "zzz", "acme fan"):
            for sort in search.SORTS:
                for per_page in (25, 50):
                    for page in (1, 2, 3, 9):
                        args = {"q": q, "sort": sort, "per_page": str(per_page), "page": str(page), "muted": "all"}
                        spec, errors = search.parse_filters(args)
                        assert not errors
                        every = _plain(pages, spec)
                        found = search.search(db.session, pages, spec)
                        bound = max(cap, page * per_page)
                        assert found.more == (len(every) > bound), args
                        assert found.total == min(len(every), bound), args
                        start = (found.page - 1) * per_page
                        assert [m.id for m, _ in found.rows] == every[start:start + per_page], args
                        assert all(kind == "push" for _, kind in found.rows)


@pytest.mark.parametrize("cap, budget, limit, scan", [(4, 5_000, 50_000, 100_000), (4, 8, 40, 100_000), (4, 8, 40, 0),
                                                      (4, 2, 2, 0), (10_000, 4, 40, 0), (10_000, 30, 60, 100_000)])
def test_filtered_searches_read_the_plain_rows_every_way(app, pages, monkeypatch, cap, budget, limit, scan):
    """The other filters applied beside the words whichever way they are read: walked, counted by
    a scan or through the word index (PostgreSQL's `scan` and `index` reads), or gathered."""
    monkeypatch.setattr(search, "COUNT_CAP", cap)
    monkeypatch.setattr(search, "WALK_BUDGET", budget)
    monkeypatch.setattr(search, "WALK_LIMIT", limit)
    monkeypatch.setattr(search, "SCAN_LIMIT", scan)
    with app.app_context():
        for extra in ({"label": "neutral"}, {"min": "0"}, {"max": "0.3", "sort": "positive"}, {"source": "push"},
                      {"since": "2026-03-01T12:00:00Z", "sort": "oldest"}, {"until": "2026-03-02"}, {"label": "negative"},
                      {"muted": "only"}, {"status": "open", "sort": "negative"}):
            for q in ("acme", "rocket 1", "acme fan"):
                for page in (1, 2):
                    args = {"q": q, "per_page": "25", "page": str(page), **extra}
                    spec, errors = search.parse_filters(args)
                    assert not errors
                    every = _plain(pages, spec)
                    found = search.search(db.session, pages, spec)
                    bound = max(cap, page * 25)
                    assert (found.total, found.more) == (min(len(every), bound), len(every) > bound), args
                    start = (found.page - 1) * 25
                    assert [m.id for m, _ in found.rows] == every[start:start + 25], args
                    if db.engine.dialect.name == "postgresql":
                        for words in ("index", "scan", "either"):
                            assert search.count(db.session, pages, spec, words=words) == len(every), (args, words)


def test_words_without_a_trigram_are_never_forced_through_the_index():
    """A term the trigram indexes cannot narrow (`ok`, `:-)`, non-ASCII letters in the C locale)
    leaves the plan to PostgreSQL: ruling out a scan would read the whole index for it."""
    assert search._index_read(("ok", ":-)", "%_\\", "東京都")) == "either"
    assert search._index_read(("ok", "acme")) == search._index_read(("a1b",)) == "index"


@pytest.mark.parametrize("budget, limit", [(2, 2), (5_000, 50_000)])
def test_hostile_parameters_beside_words_are_answered_every_way(app, logged_in, pages, monkeypatch, budget, limit):
    """Out-of-range times, ids past 2^63, NUL bytes and huge values next to a word search: a 400
    naming the parameter (a NUL: the input guard's 400) or an answer, never a 500, whichever way
    the words are read."""
    monkeypatch.setattr(search, "COUNT_CAP", 1)
    monkeypatch.setattr(search, "WALK_BUDGET", budget)
    monkeypatch.setattr(search, "WALK_LIMIT", limit)
    big = str(2 ** 63 + 1)
    for extra, status in (({"since": "0001-01-01"}, 400), ({"until": "9999-12-31"}, 400),
                          ({"since": "1900-01-01T00:00:00Z", "until": "2199-12-31T23:59:59Z"}, 200),
                          ({"source": big}, 400), ({"assignee": big}, 400), ({"page": big}, 400),
                          ({"page": "1000000"}, 400), ({"page": "200"}, 200), ({"page": "²"}, 400),
                          ({"per_page": "²"}, 400), ({"source": "²"}, 400), ({"assignee": "١"}, 400),
                          ({"page": "9" * 5_000}, 400), ({"tag": "t\x00g"}, 400), ({"tag": "x" * 100_000}, 400),
                          ({"min": "1e309"}, 400), ({"lang": "x" * 10_000}, 400), ({"sort": "\x00"}, 400)):
        for q in ("acme", "r", "zzz"):
            response = logged_in.get(f"/monitors/{pages}/mentions", query_string={"q": q, **extra})
            assert response.status_code == status, (q, extra, response.status_code)
            if status == 400 and not any("\x00" in v for v in extra.values()):  # NUL: the input guard's page
                assert 'id="filter-errors"' in response.get_data(as_text=True), (q, extra)


def test_no_match_is_one_statement(app, pages):
    with app.app_context():
        statements = []
        listener = lambda *a: statements.append(a[2])  # noqa: E731 (before_cursor_execute's statement)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            spec, _ = search.parse_filters({"q": "no such word anywhere"})
            found = search.search(db.session, pages, spec)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert (found.total, found.rows, found.more, found.pages) == (0, [], False, 1)
        assert len([s for s in statements if "mentions" in s]) == 1


@pytest.mark.parametrize("budget, limit", [(2, 2), (2, 30), (5_000, 50_000)])
def test_hostile_words_read_the_same_rows_every_way(app, pages, monkeypatch, budget, limit):
    """LIKE's wildcards and escapes, quotes and SQL taken literally whether the page is gathered,
    walked or gathered after a walk."""
    monkeypatch.setattr(search, "COUNT_CAP", 1)
    monkeypatch.setattr(search, "WALK_BUDGET", budget)
    monkeypatch.setattr(search, "WALK_LIMIT", limit)
    with app.app_context():
        for q in ("%", "_", "\\", "'; DROP TABLE mentions;--", '"acme %"', "a_me", "1%", "ACME", "r", "u"):
            spec, errors = search.parse_filters({"q": q, "per_page": "25", "muted": "all"})
            assert not errors
            every = _plain(pages, spec)
            found = search.search(db.session, pages, spec)
            assert [m.id for m, _ in found.rows] == every[:25], q
            assert (found.total, found.more) == (min(len(every), 25), len(every) > 25), q  # counted to the page


def test_a_scored_mention_without_a_compound_shows_as_unscored(app, logged_in, pages):
    """No ingest path stores one, but an older row or a hand edit may: the page shows it, never a 500."""
    with app.app_context():
        db.session.execute(update(Mention).where(Mention.monitor_id == pages, Mention.external_id == "p1")
                           .values(scored=True, compound=None))
        db.session.commit()
    response = logged_in.get(f"/monitors/{pages}/mentions", query_string={"q": "acme 1"})
    assert response.status_code == 200 and "unscored" in response.get_data(as_text=True)
