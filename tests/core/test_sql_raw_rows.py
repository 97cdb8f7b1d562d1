"""core.sql.raw_rows: a prebuilt statement run on the session's DBAPI connection gives, once
processed, exactly the rows `session.execute` gives (times, JSON paths, expanding IN lists, sums),
on both databases; the raw rows are hashable (keys of remembered pages)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, func, select

from tests.helpers import mention, new_monitor
from webapp.core import sql
from webapp.core.extensions import db
from webapp.ingest.models import Mention, Rollup
from webapp.ingest.store import store_batch
from webapp.monitors.models import Source

pytestmark = pytest.mark.both_databases


def test_raw_rows_processed_equal_session_execute(app):
    monitor_id, source_id = new_monitor(app, "Raw", "", [{"kind": "rss", "url": "https://feeds.example.com/r.xml",
                                                           "every": 3600}])
    now = datetime.now(timezone.utc)
    with app.app_context():
        store_batch(db.session, [{**mention(i, f"words {i} good"), "monitor_id": monitor_id, "source_id": source_id,
                                  "published_at": (now - timedelta(hours=i)).isoformat()} for i in range(20)], now=now)
        db.session.commit()
        statements = [
            (select(Mention.id, Mention.published_at, Mention.compound, Mention.text)
             .where(Mention.monitor_id == bindparam("m"), Mention.published_at >= bindparam("since"))
             .order_by(Mention.id).limit(50), {"m": monitor_id, "since": now - timedelta(hours=5)}),
            (select(Mention.id, Mention.published_at).where(Mention.id.in_(bindparam("ids", expanding=True)))
             .order_by(Mention.id), {"ids": [1, 3, 5]}),
            (select(Rollup.source_id, func.sum(Rollup.count), func.sum(Rollup.sum_compound))
             .where(Rollup.monitor_id == bindparam("m"), Rollup.bucket == "1h").group_by(Rollup.source_id)
             .order_by(Rollup.source_id), {"m": monitor_id}),
            (select(Source.id, Source.kind, Source.enabled, Source.settings["url"].as_string())
             .where(Source.monitor_id == bindparam("m")).order_by(Source.id), {"m": monitor_id}),
        ]
        for statement, params in statements:
            expected = tuple(map(tuple, db.session.execute(statement, params).all()))
            raw = sql.raw_rows(db.session, statement, params)
            assert raw and raw.processed() == expected
            assert sql.rows(db.session, statement, params) == expected
            assert hash(raw) == hash(sql.raw_rows(db.session, statement, params))
            binary = sql.raw_rows(db.session, statement, params, binary=True)   # PostgreSQL's binary format
            assert binary == raw and hash(binary) == hash(raw) and binary.processed() == expected
        times = sql.raw_rows(db.session, *statements[0]).processed()
        assert all(t.tzinfo is not None for _, t, _, _ in times)
        assert sql.raw_rows(db.session, statements[1][0], {"ids": [10 ** 9]}).processed() == ()
        db.session.remove()


def test_end_read_commits_only_a_transaction_that_read(app, db_kind):
    """A read-only request ends with COMMIT (psycopg keeps its prepared statements, a rollback
    drops them all); anything pending is left alone, to be rolled back as before."""
    from sqlalchemy import text

    from webapp.monitors.models import Monitor

    monitor_id, _ = new_monitor(app, "Reads", "")
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        sql.end_read(db.session)
        assert db.session().in_transaction() == (db_kind == "sqlite")   # SQLite: nothing to keep
        db.session.rollback()
        db.session.get(Monitor, monitor_id).name = "changed, never committed"
        sql.end_read(db.session)
        assert db.session().in_transaction()             # pending: not committed
        db.session.rollback()
        assert db.session.get(Monitor, monitor_id).name == "Reads"
        db.session.execute(text("UPDATE monitors SET name = 'written, never committed' WHERE id = :m"), {"m": monitor_id})
        sql.end_read(db.session)
        assert db.session().in_transaction()             # written (not through the ORM): not committed
        db.session.rollback()
        assert db.session.get(Monitor, monitor_id).name == "Reads"
        if db_kind == "postgresql":   # the statements of read-only requests stay prepared on the connection
            for _ in range(6):
                sql.raw_rows(db.session, select(Monitor.id).where(Monitor.id == bindparam("m")), {"m": monitor_id})
                sql.end_read(db.session)
                db.session.remove()
            assert db.session.execute(text("SELECT count(*) FROM pg_prepared_statements")).scalar() >= 1
        db.session.remove()


def test_raw_rows_run_on_one_cursor_per_connection(app):
    """Every read of a DBAPI connection runs on the one cursor kept with it; rows already read
    stay as they were, and a connection made again (the old one invalidated) gets its own."""
    from webapp.monitors.models import Monitor

    first_id, _ = new_monitor(app, "One", "")
    second_id, _ = new_monitor(app, "Two", "")
    statement = select(Monitor.id, Monitor.name).where(Monitor.id == bindparam("m"))
    with app.app_context():
        pooled = db.session.connection().connection
        first = sql.raw_rows(db.session, statement, {"m": first_id})
        cursor = sql.reused_cursor(pooled)
        second = sql.raw_rows(db.session, statement, {"m": second_id})
        assert sql.reused_cursor(pooled) is cursor
        assert (first.processed(), second.processed()) == (((first_id, "One"),), ((second_id, "Two"),))
        db.session.connection().invalidate()
        db.session.rollback()
        again = sql.raw_rows(db.session, statement, {"m": first_id})
        assert again.processed() == ((first_id, "One"),)
        assert sql.reused_cursor(db.session.connection().connection) is not cursor
        db.session.remove()


def test_raw_rows_expanding_lists_of_one_length_share_their_text(app):
    """An expanding IN list is written out once per length: other values of the same length,
    and other lengths (none included), still give exactly `session.execute`'s rows."""
    from webapp.monitors.models import Monitor

    ids = [new_monitor(app, f"M{i}", "")[0] for i in range(4)]
    statement = (select(Monitor.id, Monitor.name).where(Monitor.id.in_(bindparam("ids", expanding=True)),
                                                        Monitor.name != bindparam("not_named"))
                 .order_by(Monitor.id))
    with app.app_context():
        for chosen in ([ids[0], ids[1]], [ids[2], ids[3]], [ids[1], ids[1]], [ids[3]], [], ids, [10 ** 9, ids[2]]):
            params = {"ids": chosen, "not_named": "M1"}
            expected = tuple(map(tuple, db.session.execute(statement, params).all()))
            assert sql.raw_rows(db.session, statement, params).processed() == expected, chosen
        db.session.remove()
