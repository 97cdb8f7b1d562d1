"""Term rollups are written by ingest with the rollups, for new unmuted rows only (SQLite and
PostgreSQL): a replayed batch adds nothing, and they match a recount of the stored mentions."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest import term_deltas, term_rollups
from webapp.ingest.models import Mention, TermRollup
from webapp.ingest.store import store_batch

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 7, tzinfo=timezone.utc)


def records(monitor_id, source_id, texts, start=T0, prefix="r"):
    return [{"monitor_id": monitor_id, "source_id": source_id, "external_id": f"{prefix}{i}", "text": text,
             "published_at": (start + timedelta(minutes=i)).isoformat()} for i, text in enumerate(texts)]


def stored(monitor_id) -> dict:
    """The monitor's term rollups, its pending term deltas folded first (as readers do)."""
    term_deltas.fold(db.session, monitor_id)
    return {(r.bucket, r.start, r.term): (r.count, r.scored, round(r.sum_compound, 6))
            for r in db.session.execute(select(TermRollup).where(TermRollup.monitor_id == monitor_id)).scalars()
            if r.count}


def recount(monitor_id) -> dict:
    rows = db.session.execute(select(Mention.monitor_id, Mention.published_at, Mention.text, Mention.compound)
                              .where(Mention.monitor_id == monitor_id, Mention.muted.is_(False))).mappings()
    return {(b, t, term): (d.count, d.scored, round(d.sum_compound, 6))
            for (_, b, t, term), d in term_rollups.deltas(rows).items()}


TEXTS = ["Acme customer service is great", "Terrible customer service from Acme",
         "Acme rocket launch was great #launch", "The rocket launch was delayed again"]


def test_ingest_writes_term_rollups_once_even_when_a_batch_is_replayed(app):
    monitor_id, push = new_monitor(app)
    batch = records(monitor_id, push, TEXTS)
    with app.app_context():
        assert store_batch(db.session, batch).inserted == 4
        db.session.commit()
        first = stored(monitor_id)
        hour = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
        assert first[("1h", hour, "customer service")][:2] == (2, 2)
        assert first[("1h", hour, "rocket launch")][:2] == (2, 2)
        assert ("1h", hour, "#launch") in first
        assert {k[0] for k in first} == {"1h"}     # 1d and 1w rows come from the fold
        # the same batch again (a crash before the offsets were committed): nothing moves
        again = store_batch(db.session, batch + records(monitor_id, push, ["Acme customer service"], prefix="n"))
        db.session.commit()
        assert again.inserted == 1
        after = stored(monitor_id)
        assert after[("1h", hour, "customer service")][:2] == (3, 3)
        assert after == recount(monitor_id)


def test_term_rollups_can_be_left_out_and_rebuilt(app):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS), terms=False)
        db.session.commit()
        assert stored(monitor_id) == {}
        assert term_rollups.rebuild(db.session, monitor_id) > 0
        db.session.commit()
        assert stored(monitor_id) == recount(monitor_id) != {}


def test_a_deleted_monitor_takes_its_term_rollups(app):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS))
        db.session.commit()
        from webapp.monitors.models import Monitor

        db.session.delete(db.session.get(Monitor, monitor_id))
        db.session.commit()
        assert db.session.execute(select(TermRollup)).first() is None


def test_term_rollups_follow_mutes_source_removal_and_rescoring(app):
    from webapp.mentions.noise import service as noise
    from webapp.monitors.models import Monitor
    from webapp.monitors.services.edit import update_monitor
    from webapp.monitors.services.manage import create_monitor, system_source
    from webapp.scoring.rescoring import rescore_monitor

    with app.app_context():
        monitor = create_monitor(db.session, "Kept", "", [{"kind": "rss", "url": "http://127.0.0.1:9/feed.xml"}])
        monitor_id, push = monitor.id, system_source(monitor, "push").id
        rss = monitor.fetched_sources[0].id
        batch = records(monitor_id, push, TEXTS) + [
            {**r, "author": "loud"} for r in records(monitor_id, push, ["Loud spam about Acme rocket deals"] * 3, prefix="l")]
        batch += records(monitor_id, rss, ["Feed story on the Acme rocket launch", "Feed says customer service"],
                         prefix="f")
        store_batch(db.session, batch)
        db.session.commit()
        full = stored(monitor_id)
        assert full == recount(monitor_id)

        noise.set_mutes(db.session, monitor_id, noise.check_mutes(["LOUD"], [], ""))
        assert stored(monitor_id) == recount(monitor_id) != full
        assert not [k for k in stored(monitor_id) if k[2] == "spam"]
        noise.set_mutes(db.session, monitor_id, noise.check_mutes([], [], ""))
        assert stored(monitor_id) == recount(monitor_id) == full

        update_monitor(db.session, db.session.get(Monitor, monitor_id), remove={rss})
        assert stored(monitor_id) == recount(monitor_id)
        assert not [k for k in stored(monitor_id) if k[2] == "feed"]

        rescore_monitor(db.session, monitor_id)
        assert stored(monitor_id) == recount(monitor_id)


def test_rows_are_upserted_in_key_order():
    """`in_key_order` sorts as `sorted` does (no lock cycles between writers), comparing terms only."""
    import random

    rng = random.Random(15)
    starts = [T0 + timedelta(hours=h) for h in range(5)]
    keys = {(rng.choice([3, 1, 20]), rng.choice(["1h", "1d", "1w"]), rng.choice(starts),
             rng.choice(["acme", "b", "#acme", "acme's rocket", "z z z", "ä", "A"])) for _ in range(500)}
    changes = {key: term_rollups.TermDelta(1, 1, 0.5) for key in rng.sample(sorted(keys), len(keys))}
    assert term_rollups.in_key_order(changes) == sorted(changes)


def test_apply_adds_hundreds_of_rows_in_one_call_exactly(app):
    """More rows than one SQLite statement takes (term_rollups.SQLITE_ROWS), applied twice: each
    row is inserted, then added to, once."""
    monitor_id, _push = new_monitor(app)
    hour = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
    n = 2 * term_rollups.SQLITE_ROWS + 3
    changes = {(monitor_id, "1h", hour, f"term{i}"): term_rollups.TermDelta(i + 1, i, 0.5 * i) for i in range(n)}
    with app.app_context():
        term_rollups.apply(db.session, changes)
        term_rollups.apply(db.session, changes)
        db.session.commit()
        found = stored(monitor_id)
    assert len(found) == n
    assert all(found[("1h", hour, f"term{i}")] == (2 * (i + 1), 2 * i, round(1.0 * i, 6)) for i in range(n))
