"""The word-search indexes (mentions/fulltext.py): the same mention ids with and without them, on
SQLite (FTS5 trigram prefilter) and PostgreSQL (pg_trgm GIN indexes), hostile terms included; the
SQLite index kept in step on insert, update, delete, retention pruning and monitor delete; the
page's bounded count; the exports' fast path gives the same rows as the plain one."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, insert, text, update

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.mentions import fulltext, retention, search
from webapp.mentions.search import MentionFilter
from webapp.monitors.models import Monitor
from webapp.monitors.services.manage import delete_monitor

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)

TEXTS = [
    ("I love the new Acme rocket", "Bob Builder"), ("ACME support is terrible", "user1"),
    ("Shipping took 100% longer_than promised", "carol"), ("a back\\slash and a 50_50 chance", None),
    ('She said "acme support" twice; it\'s fine', "dave"), ("École de l'ÉTÉ à Paris, école d'été", "éric"),
    ("Straße und STRASSE, groß", "Jürgen"), ("İstanbul ve istanbul ılık", "ayşe"), ("日本語のテキスト 東京", "たなか"),
    ("rocket 🚀 to the moon 🚀🚀", "🚀fan"), ("percent % underscore _ quote ' dq \" end", "x%y_z"),
    ("tab\there and\nnewline", "user22"), ("ab", "ab"), ("abc abc abcd", "ABCD"), ("", "empty text"),
    ("x" * 300, "long"), ("Ǆ ǅ ǆ titlecase", "ΣΊΣΥΦΟΣ σίσυφος"), ("acmeacme acme-acme", "acme"),
]

TERMS = [
    ("acme",), ("ACME",), ("Acme", "rocket"), ("acme support",), ("support", "terrible"), ("bob",), ("BUILDER",),
    ("100%",), ("%",), ("_",), ("longer_than",), ("r_c",), ("\\",), ("back\\slash",), ("50_50",), ('"',),
    ("it's",), ("'",), ('" twice',), ("é",), ("É",), ("école",), ("ÉCOLE",), ("été",), ("ÉTÉ",), ("straße",),
    ("STRASSE",), ("strasse",), ("GROSS",), ("İstanbul",), ("istanbul",), ("ISTANBUL",), ("ılık",), ("東京",),
    ("日本語",), ("のテ",), ("🚀",), ("🚀🚀",), ("rocket 🚀",), ("x%y",), ("y_z",), ("tab\there",), ("and\nnew",),
    ("ab",), ("a",), ("abc",), ("ABCD",), ("abcd abc",), ("x" * 300,), ("x" * 10_000,), ("xxx",), ("ǆ",), ("Ǆ",),
    ("σίσυφος",), ("ΣΊΣΥΦΟΣ",), ("acme-acme",), ("acmeacme",), ("moon", "🚀fan"), ("zzz_not_there",),
    (" ",), ("\u00a0",), ("\u200b",), ("quote ' dq",), ("%_\\",), ("\\%",), ("\\_",), ("empty",),
]
NUL_TERMS = [("\x00",), ("ab\x00cd",), ("acme\x00",)]


@pytest.fixture
def corpus(app):
    """A monitor with TEXTS (one mention each, an hour apart) and a second monitor with the same
    texts (a search must never leak across monitors)."""
    monitor_id, push_id = new_monitor(app, name="Index")
    other_id, other_push = new_monitor(app, name="Other")
    with app.app_context():
        for mid, sid in ((monitor_id, push_id), (other_id, other_push)):
            db.session.execute(insert(Mention), [{
                "monitor_id": mid, "source_id": sid, "external_id": f"t{i}", "text": body, "author": author,
                "published_at": T0 - timedelta(hours=i), "ingested_at": T0, "compound": 0.1, "pos": 0.2,
                "neu": 0.7, "neg": 0.1, "label": "positive"} for i, (body, author) in enumerate(TEXTS)])
        db.session.commit()
        db.session.remove()
    return monitor_id, other_id


def _ids(monitor_id: int, terms: tuple[str, ...], **extra) -> list[int]:
    spec = MentionFilter(terms=terms, q=" ".join(terms), per_page=100, **extra)
    found = search.search(db.session, monitor_id, spec)
    ids = [m.id for m, _ in found.rows]
    assert found.total == len(ids) == search.count(db.session, monitor_id, spec)
    return ids


def _python_answer(monitor_id: int, terms: tuple[str, ...], dialect: str) -> list[int]:
    """The documented meaning, computed in Python: every term a case-insensitive substring of the
    text or the author (SQLite's LIKE folds ASCII letters only, PostgreSQL's ILIKE all letters)."""
    fold = (lambda s: s.translate(_ASCII_LOWER)) if dialect == "sqlite" else str.lower
    rows = db.session.execute(db.select(Mention.id, Mention.text, Mention.author)
                              .where(Mention.monitor_id == monitor_id, Mention.muted.is_(False))
                              .order_by(Mention.published_at.desc(), Mention.id.desc())).all()
    return [i for i, body, author in rows
            if all(fold(t) in fold(body) or fold(t) in fold(author or "") for t in terms)]


_ASCII_LOWER = {c: c + 32 for c in range(ord("A"), ord("Z") + 1)}


@contextmanager
def _without_index(monkeypatch, dialect: str):
    """The search as it was before the indexes: SQLite without the FTS prefilter; PostgreSQL with
    the trigram indexes dropped in a transaction that is rolled back."""
    if dialect == "sqlite":
        with monkeypatch.context() as patch:
            patch.setattr(fulltext, "prefilter", lambda *a, **k: [])
            yield
    else:
        for name in fulltext.PG_INDEXES:
            db.session.execute(text(f"DROP INDEX {name}"))
        try:
            yield
        finally:
            db.session.rollback()


def _force_index(dialect: str) -> None:
    if dialect == "postgresql":  # a small table is read whole unless scans are ruled out
        db.session.execute(text("SET LOCAL enable_seqscan = off"))


def _term_query(terms: tuple[str, ...]):
    """The word conditions alone, over every monitor: on PostgreSQL only the trigram indexes can
    serve them (with sequential and plain index scans off), so their answers are the index's."""
    spec = MentionFilter(terms=terms, q=" ".join(terms))
    where = search.conditions(0, spec, db.session)[1:1 + len(terms) + len(fulltext.prefilter(db.session, Mention.id, terms))]
    return db.select(Mention.id).where(*where).order_by(Mention.id)


def _term_ids(terms: tuple[str, ...], forced: bool) -> list[int]:
    if forced and db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        db.session.execute(text("SET LOCAL enable_indexscan = off"))
    return list(db.session.execute(_term_query(terms)).scalars())


def test_the_same_ids_with_and_without_the_index(app, corpus, monkeypatch):
    monitor_id, other_id = corpus
    with app.app_context():
        dialect = db.engine.dialect.name
        terms = TERMS + (NUL_TERMS if dialect == "sqlite" else [])  # PostgreSQL text holds no NUL
        _force_index(dialect)
        indexed = {t: _ids(monitor_id, t) for t in terms}
        db.session.rollback()
        everywhere = {t: _term_ids(t, forced=True) for t in terms}
        db.session.rollback()
        with _without_index(monkeypatch, dialect):
            plain = {t: _ids(monitor_id, t) for t in terms}
            plain_everywhere = {t: _term_ids(t, forced=False) for t in terms}
        for t in terms:
            assert indexed[t] == plain[t] and everywhere[t] == plain_everywhere[t], t
            if "\x00" not in "".join(t) and (dialect == "sqlite" or "".join(t).isascii()):
                assert indexed[t] == _python_answer(monitor_id, t, dialect), t
        assert len(indexed[("acme",)]) == 4 and indexed[("zzz_not_there",)] == []
        other = {m.id for m in db.session.query(Mention).filter_by(monitor_id=other_id)}
        assert not other & {i for ids in indexed.values() for i in ids}
        # with filters and every sort, still the same
        for extra in ({"label": "positive", "sort": "oldest"}, {"sort": "positive"}, {"since": T0 - timedelta(hours=5)}):
            _force_index(dialect)
            got = _ids(monitor_id, ("acme",), **extra)
            db.session.rollback()
            with _without_index(monkeypatch, dialect):
                assert _ids(monitor_id, ("acme",), **extra) == got, extra


def test_the_index_is_used(app, corpus):
    with app.app_context():
        stmt = _term_query(("acme support",))
        compiled = stmt.compile(db.engine)
        conn = db.session.connection()
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params[k] for k in compiled.positiontup)))
            assert "VIRTUAL TABLE INDEX" in plan, plan
            assert fulltext.match_expression(("ab", 'say "hi"', "a\x00bc")) == '"say ""hi"""'
            assert fulltext.match_expression(("ab", "\x00")) is None
        else:
            _term_ids(("acme support",), forced=True)  # the same settings
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
            assert "ix_mentions_text_trgm" in plan and "ix_mentions_author_trgm" in plan, plan
            db.session.rollback()


@pytest.mark.parametrize("sort", ["positive", "negative"])
def test_the_sorts_by_score_read_an_index(app, corpus, sort):
    monitor_id, _ = corpus
    with app.app_context():
        spec = MentionFilter(sort=sort, per_page=25)
        stmt = db.select(Mention.id).where(*search.conditions(monitor_id, spec, db.session)) \
            .order_by(*search.ordering(spec)).limit(25)
        compiled = stmt.compile(db.engine)
        conn = db.session.connection()
        if db.engine.dialect.name == "sqlite":
            plan = " ".join(str(r[-1]) for r in conn.exec_driver_sql(
                f"EXPLAIN QUERY PLAN {compiled}", tuple(compiled.params[k] for k in compiled.positiontup)))
            assert "TEMP B-TREE" not in plan, plan
        else:
            _force_index("postgresql")
            plan = " ".join(r[0] for r in conn.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params))
            assert "Sort" not in plan, plan
        assert f"ix_mentions_monitor_{sort}" in plan, plan
        db.session.rollback()
        assert len(search.search(db.session, monitor_id, spec).rows) == len(TEXTS)


def _check_sqlite_index(session) -> None:
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text(fulltext.SQLITE_CHECK))  # raises when the FTS index and the rows differ


def test_the_index_keeps_in_step(app, corpus):
    monitor_id, other_id = corpus
    with app.app_context():
        first = _ids(monitor_id, ("rocket",))
        db.session.execute(update(Mention).where(Mention.id == first[0]).values(text="now about kayaks", author="kay"))
        db.session.commit()
        assert first[0] not in _ids(monitor_id, ("rocket",)) and _ids(monitor_id, ("kayak",)) == [first[0]]
        assert _ids(monitor_id, ("KAY",)) == [first[0]]
        db.session.execute(delete(Mention).where(Mention.id == first[0]))
        db.session.commit()
        assert _ids(monitor_id, ("kayak",)) == []
        _check_sqlite_index(db.session)
        # retention pruning deletes the old ones from the index too
        monitor = db.session.get(Monitor, monitor_id)
        monitor.retention_days = 7
        db.session.commit()
        prune_at = T0 + timedelta(days=7, hours=-5, minutes=30)   # keeps the 5 newest (0..4 hours old)
        assert retention.prune_monitor(db.session, monitor_id, prune_at, batch=3) == len(TEXTS) - 5
        assert _ids(monitor_id, ("acme",)) == _python_answer(monitor_id, ("acme",), db.engine.dialect.name)
        assert _ids(monitor_id, ("x" * 300,)) == []
        _check_sqlite_index(db.session)
        # a monitor's delete cascades to its mentions and to their index rows
        before = _ids(other_id, ("acme",))
        delete_monitor(db.session, db.session.get(Monitor, other_id))
        assert len(before) == 4 and _ids(other_id, ("acme",)) == []
        _check_sqlite_index(db.session)
        if db.engine.dialect.name == "sqlite":
            left = db.session.execute(text("SELECT count(*) FROM mentions_fts_docsize")).scalar()
            assert left == db.session.query(Mention).count() == 4


def test_the_page_counts_up_to_a_bound(app, corpus, monkeypatch):
    monitor_id, _ = corpus
    monkeypatch.setattr(search, "COUNT_CAP", 3)
    with app.app_context():
        found = search.search(db.session, monitor_id, MentionFilter(per_page=2))
        assert (found.total, found.more, found.pages, len(found.rows)) == (3, True, 2, 2)
        found = search.search(db.session, monitor_id, MentionFilter(terms=("acme",), q="acme", per_page=2))
        assert (found.total, found.more) == (3, True)
        found = search.search(db.session, monitor_id, MentionFilter(terms=("rocket",), q="rocket", per_page=2))
        assert (found.total, found.more) == (2, False)
        # a deeper page counts as far as it needs
        found = search.search(db.session, monitor_id, MentionFilter(per_page=2, page=5))
        assert (found.total, found.more, found.page, found.pages) == (10, True, 5, 5)
        found = search.search(db.session, monitor_id, MentionFilter(per_page=2, page=50))
        assert (found.total, found.more, found.page) == (len(TEXTS), False, 9)


def test_hostile_searches_on_the_page(app, logged_in, corpus):
    monitor_id, _ = corpus
    for q, status in (("%", 200), ("_", 200), ("\\", 200), ('"', 200), ('""', 200), ("'; DROP TABLE mentions;--", 200),
                      ('"unclosed phrase', 200), ("NEAR(a b)", 200), ("a OR b", 200), ("col:acme", 200), ("*", 200),
                      ("acme*", 200), ("^acme", 200), ("\u0000", 400), ("ab\u0000cd", 400), ("x" * 201, 400),
                      (" ".join("w" * 11), 400)):
        response = logged_in.get(f"/monitors/{monitor_id}/mentions", query_string={"q": q})
        assert response.status_code == status, (q, response.status_code)
    html = logged_in.get(f"/monitors/{monitor_id}/mentions", query_string={"q": "acme"}).get_data(as_text=True)
    assert '<span id="mention-total"><strong>4</strong> mentions' in html


def test_the_fast_export_path_gives_the_plain_rows(app, corpus):
    monitor_id, _ = corpus
    with app.app_context():
        db.session.execute(update(Mention).where(Mention.external_id == "t1", Mention.monitor_id == monitor_id)
                           .values(label="negative", scored_label="positive", overridden_at=T0))
        db.session.commit()
        spec = MentionFilter(terms=("a",), q="a")
        records = list(search.iter_records(db.session, monitor_id, spec))
        rows = list(search.iter_rows(db.session, monitor_id, spec))
        assert [dict(zip(search.EXPORT_COLUMNS, r)) for r in records] == rows and len(rows) > 5
        by_id = {r["external_id"]: r for r in rows}
        assert by_id["t1"]["scored_label"] == "positive" and by_id["t1"]["overridden_at"] == T0.isoformat()
        assert by_id["t0"]["scored_label"] == "positive" and by_id["t0"]["published_at"] == T0.isoformat()
        assert all(isinstance(r[f], bool) for r in rows for f in ("backfilled", "scored", "mixed"))
