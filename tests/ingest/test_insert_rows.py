"""Batched inserts and upserts (core/sql.py: insert_rows, unnest_rows) store exactly what they are
given, on both databases: hostile text (the separators the PostgreSQL path splits on, quotes,
backslashes, empty strings, None), and rollups equal to one statement per row."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.core.sql import insert_for, insert_rows
from webapp.ingest import rollups
from webapp.ingest.models import Mention, Rollup
from webapp.ingest.store import store_batch
from webapp.insights import rollups as insight_rollups
from webapp.insights.models import AuthorRollup, LangRollup

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
HOSTILE = ["unit\x1fsep", "record\x1esep", "", "quote \" and ' and \\ backslash", "{a,b}", "NULL",
           "emoji 😀 and ümlaut", "tab\tnew\nline", "\x1f", "\x1e"]


def test_hostile_authors_and_texts_are_stored_as_given(app):
    monitor_id, source_id = new_monitor(app)
    values = [{"monitor_id": monitor_id, "source_id": source_id, "external_id": f"h{i}",
               "text": f"text {value} end", "author": value or None, "url": None,
               "published_at": (NOW - timedelta(minutes=i)).isoformat()} for i, value in enumerate(HOSTILE)]
    with app.app_context():
        result = store_batch(db.session, values, NOW)
        db.session.commit()
        assert result.inserted == len(HOSTILE)
        stored = dict(db.session.execute(select(Mention.external_id, Mention.author)).all())
        texts = dict(db.session.execute(select(Mention.external_id, Mention.text)).all())
        assert stored == {f"h{i}": value or None for i, value in enumerate(HOSTILE)}
        assert texts == {f"h{i}": f"text {value} end" for i, value in enumerate(HOSTILE)}
        authors = {a for (a,) in db.session.execute(select(AuthorRollup.author)).all()}
        assert authors == {value for value in HOSTILE if value}


def _rows(monitor_id, source_id, n=300):
    return [{"monitor_id": monitor_id, "source_id": source_id, "published_at": NOW - timedelta(minutes=7 * i),
             "compound": (i % 7 - 3) / 3.3, "label": ("negative", "neutral", "positive")[i % 3],
             "lang": ("en", "de", "und")[i % 3], "author": f"user{i % 17}" if i % 5 else None,
             "reach": i * 11 if i % 4 else None, "engagement": i % 9, "mixed": i % 6 == 0} for i in range(n)]


def _state(monitor_id):
    """Each rollup table's rows of the monitor, without ids (the source as 'all' or not; floats
    rounded: sums in another order)."""
    out = []
    for table in (Rollup, LangRollup, AuthorRollup):
        columns = [(c == 0).label("all") if c.name == "source_id" else c
                   for c in table.__table__.c if c.name not in ("id", "monitor_id")]
        rows = db.session.execute(select(*columns).where(table.monitor_id == monitor_id)).all()
        out.append(sorted(tuple(round(v, 9) if isinstance(v, float) else v for v in row) for row in rows))
    return out


def test_upserts_equal_one_statement_per_row(app, monkeypatch):
    """The same deltas, applied in two overlapping parts (inserts, then conflicts and updates),
    through insert_rows and through a plain executemany, leave the same rollups."""
    import webapp.ingest.rollups as time_module
    import webapp.insights.rollups as insight_module

    first, first_source = new_monitor(app)
    second, second_source = new_monitor(app)
    with app.app_context():
        for monitor_id, source_id in ((first, first_source), (second, second_source)):
            rows = _rows(monitor_id, source_id)
            for part in (rows[:200], rows[100:]):
                rollups.apply(db.session, rollups.deltas(part))
                insight_rollups.apply(db.session, insight_rollups.deltas(part))
            db.session.commit()
            for module in (time_module, insight_module):   # the second monitor: one statement per row
                monkeypatch.setattr(module, "insert_rows", lambda session, stmt, r: session.execute(stmt, r))
        got, expected = _state(first), _state(second)
        assert got == expected
        assert [len(rows) > 20 for rows in got] == [True, True, True]


def test_insert_rows_of_one_row_and_of_none(app):
    monitor_id, _ = new_monitor(app)
    with app.app_context():
        table = LangRollup.__table__
        stmt = insert_for(db.session.get_bind())(table).on_conflict_do_nothing()
        insert_rows(db.session, stmt, [])
        insert_rows(db.session, stmt, [{"monitor_id": monitor_id, "bucket": "1h", "start": NOW, "lang": "",
                                        "count": 1, "scored": 0, "mixed": 0, "reach": 0}])
        db.session.commit()
        assert db.session.execute(select(LangRollup.lang, LangRollup.start)).all() == [("", NOW)]
