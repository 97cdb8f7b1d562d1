"""The due-fetch claim at scale: one indexed statement per chunk, the same due rule as `is_due`,
and each slot claimed once even by concurrent claimers (both databases)."""
from __future__ import annotations

import random
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from webapp.core.extensions import db
from webapp.monitors.models import Source
from webapp.monitors.services import fetching

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 6, 1, 12, 0, 7, tzinfo=timezone.utc)


def _demo_sources(app, monitors: int, per_monitor: int = 3, every: int = 300) -> list[int]:
    for i in range(monitors):
        new_monitor(app, name=f"m{i}", sources=[{"kind": "demo", "every": every}] * per_monitor)
    with app.app_context():
        return db.session.execute(select(Source.id).where(Source.kind == "demo").order_by(Source.id)).scalars().all()


def test_claim_in_chunks_hands_out_every_due_source_once(app):
    ids = _demo_sources(app, 4)
    with app.app_context():
        assert fetching.count_due(db.session, NOW) == 12      # push/import sources are never due
        first = fetching.claim_chunk(db.session, NOW, size=5)
        assert len(first) == 5
        rest = fetching.claim_due(db.session, NOW, size=5)
        assert sorted(first + rest) == [(sid, fetching.slot_for(NOW, 300)) for sid in ids]
        assert fetching.claim_due(db.session, NOW, size=5) == [] and fetching.count_due(db.session, NOW) == 0
        later = NOW + timedelta(seconds=300)
        assert len(fetching.claim_due(db.session, later, size=5)) == 12


def test_the_claim_follows_is_due_paused_disabled_and_every(app):
    ids = _demo_sources(app, 10, per_monitor=2)
    rng = random.Random(19)
    slot_now = {}
    with app.app_context():
        for sid in ids:
            every = rng.choice([60, 300, 900])
            slot = fetching.slot_for(NOW, every)
            last = rng.choice([None, slot - 2, slot - 1, slot, slot + 1])
            dispatched = rng.choice([None, slot - 1, slot, slot + 1])
            enabled = rng.random() > 0.15
            paused = rng.choice([None, None, NOW - timedelta(seconds=5), NOW + timedelta(seconds=5)])
            db.session.execute(update(Source).where(Source.id == sid).values(
                every=every, last_slot=last, dispatched_slot=dispatched, enabled=enabled, paused_until=paused))
            due = enabled and fetching.is_due(last, dispatched, slot) and (paused is None or paused <= NOW)
            if due:
                slot_now[sid] = slot
        db.session.commit()
        assert 0 < len(slot_now) < len(ids)
        assert dict(fetching.claim_due(db.session, NOW, size=3)) == slot_now
        stored = dict(db.session.execute(select(Source.id, Source.dispatched_slot)
                                         .where(Source.id.in_(list(slot_now)))).all())
        assert stored == slot_now


def test_the_claim_reads_the_due_index(app):
    _demo_sources(app, 2)
    with app.app_context():
        stamp = int(NOW.timestamp())
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("SET LOCAL enable_seqscan = off"))   # a tiny table: ask for the plan
            plan = db.session.execute(text(
                "EXPLAIN SELECT id FROM sources WHERE due_at <= :s ORDER BY due_at LIMIT 500 "
                "FOR UPDATE SKIP LOCKED"), {"s": stamp}).scalars().all()
        else:
            plan = [r[-1] for r in db.session.execute(text(
                "EXPLAIN QUERY PLAN SELECT id FROM sources WHERE due_at <= :s ORDER BY due_at LIMIT 500"),
                {"s": stamp}).all()]
        db.session.rollback()
    assert any("ix_sources_due_at" in line for line in plan), plan


def test_two_concurrent_claimers_claim_each_slot_once(app):
    ids = _demo_sources(app, 40)             # 120 due sources
    with app.app_context():
        engine = db.engine
    found: list[list[tuple[int, int]]] = [[], []]
    errors: list[BaseException] = []
    start, both_claimed = threading.Barrier(2, timeout=60), threading.Barrier(2, timeout=60)

    def claimer(n: int):
        try:
            with Session(engine) as session:
                start.wait()
                # each takes one chunk before either goes on (else one thread may take all 18
                # chunks before the other runs), then both race for the rest
                found[n].extend(fetching.claim_chunk(session, NOW, size=7))
                both_claimed.wait()
                while chunk := fetching.claim_chunk(session, NOW, size=7):
                    found[n].extend(chunk)
        except BaseException as exc:   # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=claimer, args=(n,)) for n in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    claimed = [sid for sid, _ in found[0] + found[1]]
    assert sorted(claimed) == sorted(ids)          # every due source, none twice
    assert found[0] and found[1]


def test_beyond_the_inline_few_a_relay_of_claim_tasks_claims_every_due_source(app, monkeypatch):
    from webapp.monitors import tasks

    _demo_sources(app, 3)                                    # 9 due sources
    monkeypatch.setattr(tasks, "INLINE", 2)
    monkeypatch.setattr(fetching, "CLAIM_CHUNK", 4)
    runs, relayed = [], []
    monkeypatch.setattr(tasks, "_send_runs", runs.extend)
    monkeypatch.setattr(tasks.claim, "delay", lambda: relayed.append(1))
    with app.app_context():
        assert tasks.dispatch_due() == 9 and relayed == [1] and runs == []   # one message, no claim
        while relayed:                                      # the workers run each relayed task
            relayed.pop()
            tasks.claim()
        assert sorted(sid for sid, _ in runs) == sorted(
            db.session.execute(select(Source.id).where(Source.kind == "demo")).scalars())
        assert fetching.count_due(db.session) == 0
