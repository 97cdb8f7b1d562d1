"""Term deltas (ingest/term_deltas.py) on SQLite and PostgreSQL: ingest appends one row per
monitor and hour of a batch (a replay adds none), the fold moves every delta into the term
rollups exactly once (two folders at once included), readers fold their monitor's deltas before
they read, a rebuild does not count them twice, and hostile texts lose nothing."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from webapp.core.extensions import db
from webapp.ingest import term_deltas, term_rollups
from webapp.ingest.models import TermDeltas, TermRollup
from webapp.ingest.store import store_batch

from tests.helpers import new_monitor
from tests.insights.test_term_rollups import T0, TEXTS, records, recount, stored

pytestmark = pytest.mark.both_databases


def pending(monitor_id=None) -> int:
    query = select(func.count()).select_from(TermDeltas)
    if monitor_id is not None:
        query = query.where(TermDeltas.monitor_id == monitor_id)
    return db.session.execute(query).scalar()


def rollup_rows(monitor_id) -> int:
    return db.session.execute(select(func.count()).where(TermRollup.monitor_id == monitor_id)).scalar()


def test_ingest_appends_one_row_per_hour_and_a_replay_appends_none(app):
    monitor_id, push = new_monitor(app)
    batch = records(monitor_id, push, TEXTS) + records(monitor_id, push, TEXTS, start=T0 + timedelta(hours=1),
                                                        prefix="later")
    with app.app_context():
        store_batch(db.session, batch)
        db.session.commit()
        assert pending(monitor_id) == 2 and rollup_rows(monitor_id) == 0     # nothing upserted at ingest
        store_batch(db.session, batch)          # replayed: no mention is new, no delta either
        db.session.commit()
        assert pending(monitor_id) == 2
        assert term_deltas.fold(db.session, monitor_id) == 2
        db.session.commit()
        assert pending(monitor_id) == 0 and term_deltas.fold(db.session, monitor_id) == 0
        assert stored(monitor_id) == recount(monitor_id) != {}


def test_the_job_folds_every_monitor_in_chunks_and_beat_runs_it(app):
    import importlib

    import celeryconfig

    first, push = new_monitor(app, "One")
    second, push2 = new_monitor(app, "Two")
    with app.app_context():
        for k in range(5):     # five batches, each its own pending rows
            store_batch(db.session, records(first, push, TEXTS, start=T0 + timedelta(hours=k), prefix=f"a{k}")
                        + records(second, push2, TEXTS[:2], start=T0 + timedelta(hours=k % 2), prefix=f"b{k}"))
            db.session.commit()
        assert pending() == 10
        assert term_deltas.fold_due(db.session, chunk=3) == 10
        assert pending() == 0 and term_deltas.fold_due(db.session) == 0
        assert stored(first) == recount(first) and stored(second) == recount(second)
        # equal keys of many batches are one row: "customer service" of hour 0 counted 3 times over
        assert stored(second)[("1h", T0.replace(minute=0), "customer service")][:2] == (6, 6)
    for module in celeryconfig.imports:
        importlib.import_module(module)
    entries = [e for e in celeryconfig.beat_schedule.values() if e["task"] == "terms.fold_deltas"]
    assert entries and 0 < entries[0]["schedule"] <= 60
    assert "terms.fold_deltas" in app.extensions["celery"].tasks
    from webapp.ingest.tasks import fold_deltas

    with app.app_context():
        assert fold_deltas() == 0


def test_readers_fold_their_monitor_first_and_the_api_keeps_the_fold(app, client, auth):
    from datetime import datetime, timezone

    from webapp.insights.terms import service

    monitor_id, push = new_monitor(app)
    other, push2 = new_monitor(app, "Other")
    now = datetime.now(timezone.utc)
    # the texts' four minutes inside one hour (one pending row per monitor), whatever the clock says
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS, start=start)
                    + records(other, push2, TEXTS, start=start, prefix="o"))
        db.session.commit()
        table = service.term_table(db.session, monitor_id, now - timedelta(days=1), now)
        assert table.counts["customer service"][0] == 2          # exact although nothing was folded yet
        assert pending(monitor_id) == 0 and pending(other) == 1    # only the reader's monitor
        db.session.rollback()                                      # a reader that does not commit ...
        assert pending(monitor_id) == 1                            # ... leaves them for the job
        window, total = term_rollups.window_totals(db.session, monitor_id, "1h", now - timedelta(days=1), now,
                                                   ["acme", "rocket launch"])
        assert window == {"acme": 3, "rocket launch": 2} and total > 0
        db.session.rollback()
    client.application.config["TERMS_CACHE_SECONDS"] = 0
    client.application.extensions.pop("sentimon.terms_cache", None)
    # through the API (a monitor of the API user's team): the answer's fold is committed
    made = client.post("/api/v1/monitors", headers=auth, json={"name": "Api", "query": ""}).get_json()["id"]
    with app.app_context():
        from webapp.monitors.models import Monitor

        push3 = next(s.id for s in db.session.get(Monitor, made).sources if s.kind == "push")
        store_batch(db.session, records(made, push3, TEXTS, start=start, prefix="api"))
        db.session.commit()
        assert pending(made) == 1
    body = client.get(f"/api/v1/monitors/{made}/terms?range=24h&sort=count", headers=auth).get_json()
    assert {t["term"]: t["count"] for t in body["terms"]}["customer service"] == 2
    with app.app_context():
        assert pending(made) == 0 and stored(made) == recount(made)     # the API committed its fold


def test_a_rebuild_with_pending_deltas_counts_each_mention_once(app):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS))
        store_batch(db.session, records(monitor_id, push, TEXTS[:2], prefix="again"))
        db.session.commit()
        assert pending(monitor_id) == 2
        term_rollups.rebuild(db.session, monitor_id)
        db.session.commit()
        assert pending(monitor_id) == 0
        assert stored(monitor_id) == recount(monitor_id)


def test_a_deleted_monitor_takes_its_pending_deltas(app):
    from webapp.monitors.models import Monitor

    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS))
        db.session.commit()
        assert pending(monitor_id) == 1
        db.session.delete(db.session.get(Monitor, monitor_id))
        db.session.commit()
        assert pending() == 0


def test_a_deleted_monitor_takes_its_term_rollups_and_none_come_back(app):
    """term_rollups has no foreign key (migration 0028): a trigger on monitors deletes a deleted
    monitor's rows, and changes for a monitor that is gone are dropped instead of stored
    without a parent."""
    from webapp.monitors.models import Monitor
    from webapp.monitors.services.manage import delete_monitor

    gone, push = new_monitor(app, "Gone")
    kept, push_kept = new_monitor(app, "Kept")
    with app.app_context():
        store_batch(db.session, records(gone, push, TEXTS) + records(kept, push_kept, TEXTS))
        db.session.commit()
        term_deltas.fold_due(db.session)
        assert rollup_rows(gone) > 0 and rollup_rows(kept) > 0
        kept_before = stored(kept)
        delete_monitor(db.session, db.session.get(Monitor, gone))      # one DELETE of the monitor row
        assert rollup_rows(gone) == 0 and stored(kept) == kept_before
        # a writer whose changes were made before the delete
        term_rollups.apply(db.session, {(gone, "1h", T0.replace(minute=0), "ghost"): term_rollups.TermDelta(1, 1, 0.5),
                                        (kept, "1h", T0.replace(minute=0), "ghost"): term_rollups.TermDelta(1, 1, 0.5)})
        db.session.commit()
        assert rollup_rows(gone) == 0 and rollup_rows(kept) == len(kept_before) + 1


def test_two_folders_at_once_fold_each_delta_exactly_once(app):
    monitor_id, push = new_monitor(app)
    with app.app_context():
        for k in range(12):
            store_batch(db.session, records(monitor_id, push, TEXTS, start=T0 + timedelta(hours=k % 4),
                                            prefix=f"k{k}"))
            db.session.commit()
        assert pending(monitor_id) == 12
        folded, errors = [], []

        def folder(limit):
            try:
                with app.app_context(), Session(db.engine) as session:
                    while True:
                        n = term_deltas.fold(session, monitor_id if limit is None else None, limit=limit)
                        session.commit()
                        folded.append(n)
                        if not n:
                            return
            except Exception as exc:   # noqa: BLE001 (reported below)
                errors.append(exc)

        threads = [threading.Thread(target=folder, args=(limit,)) for limit in (2, None, 3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert not errors and not any(t.is_alive() for t in threads)
        assert sum(folded) == 12 and pending(monitor_id) == 0
        assert stored(monitor_id) == recount(monitor_id)
        assert stored(monitor_id)[("1h", T0.replace(minute=0), "customer service")][:2] == (6, 6)


def test_the_second_folder_waits_for_the_first_and_finds_nothing(app):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("row locks are PostgreSQL's; SQLite's single writer serialises the same way")
    from sqlalchemy.exc import OperationalError

    monitor_id, push = new_monitor(app)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS))
        db.session.commit()
        with Session(db.engine) as other:
            assert term_deltas.fold(db.session, monitor_id) == 1          # taken, not committed
            other.execute(db.text("SET LOCAL lock_timeout = '300ms'"))
            with pytest.raises(OperationalError):                          # a second folder waits
                term_deltas.fold(other, monitor_id)
            other.rollback()
            db.session.commit()
            assert term_deltas.fold(other, monitor_id) == 0                # then finds nothing left
            other.commit()
        assert stored(monitor_id) == recount(monitor_id)


def test_hostile_texts_lose_nothing(app):
    import random

    rng = random.Random(27)
    many = " ".join(f"w{i}x{rng.randrange(10**6)}" for i in range(10_000))     # 10,000 terms
    texts = ["x" * 1_000_000,                                     # huge, one word
             "Acme 🚀🚀 launch 😡 #acme🔥 ünïcödé wörds " * 2_000,  # emoji and accents, long
             "Acme\x01rocket\x1flaunch\x1e\x07bell\tservice\x0bgreat\x7f end",   # control chars (no NUL)
             many, "a" * 70 + " " + "b" * 70,                    # over-long words
             "'#-' -- ## #' '# o'neil's half-baked #tag's", "!!! ??? 123 @x http://y.z"]   # the last: no term
    monitor_id, push = new_monitor(app)
    with app.app_context():
        batch = records(monitor_id, push, texts)
        batch += [{**r, "external_id": f"t{i}", "text": f"term{i} plain words {i}"}
                  for i, r in enumerate(records(monitor_id, push, ["x"] * 500, prefix="t"))]
        result = store_batch(db.session, batch)
        db.session.commit()
        assert result.inserted == len(batch) and not result.rejected
        assert stored(monitor_id) == recount(monitor_id) != {}
        db.session.commit()
        assert pending(monitor_id) == 0
        rows = stored(monitor_id)
        assert any(k[2].startswith("term4") for k in rows) and ("1h", T0.replace(minute=0), "acme") in rows


def test_numpy_and_missing_compounds_fold_as_numbers_and_unscored(app):
    import numpy as np

    monitor_id, _push = new_monitor(app)
    rows = [{"monitor_id": monitor_id, "published_at": T0, "text": "Acme rocket launch", "compound": np.float64(0.5)},
            {"monitor_id": monitor_id, "published_at": T0, "text": "Acme rocket delay", "compound": None},
            {"monitor_id": monitor_id, "published_at": T0, "text": "Acme rocket", "compound": -0.25}]
    with app.app_context():
        assert term_deltas.write(db.session, rows) == 1
        db.session.commit()
        got = stored(monitor_id)
        hour = T0.replace(minute=0)
        assert got[("1h", hour, "rocket")] == (3, 2, 0.25)
        assert got[("1h", hour, "delay")] == (1, 0, 0.0)
        assert {k: v for (_b, _s, k), v in got.items()} == {
            k: v for (_b, _s, k), v in {(b, s, t): (d.count, d.scored, round(d.sum_compound, 6))
                                        for (_m, b, s, t), d in term_rollups.deltas(rows).items()}.items()}


def test_a_dashboard_page_keeps_the_fold_it_did_to_read(app, logged_in):
    """The page reads the terms table, which folds the monitor's pending deltas first: the page
    commits that fold (sql.keep_writes and end_read), so the next page and the job find nothing
    left to fold, on both databases; what the page shows is the same either way."""
    from datetime import datetime, timezone

    monitor_id, push = new_monitor(app)
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS, start=start))
        db.session.commit()
        assert pending(monitor_id) == 1
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    page = logged_in.get(f"/monitors/{monitor_id}?range=24h")
    assert page.status_code == 200 and "customer service" in page.get_data(as_text=True)
    with app.app_context():
        assert pending(monitor_id) == 0 and stored(monitor_id) == recount(monitor_id)
        db.session.rollback()
    assert logged_in.get(f"/monitors/{monitor_id}?range=24h").status_code == 200


def test_an_attribution_request_keeps_the_fold_it_did_to_read(app, client, auth):
    """Spike attribution reads the term rollups of the week before the bucket
    (term_rollups.window_totals), folding the monitor's pending deltas first: a GET commits that
    fold too, so nothing is left pending for the next reader."""
    from datetime import datetime, timezone

    monitor_id, push = new_monitor(app)
    hour = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    with app.app_context():
        store_batch(db.session, records(monitor_id, push, TEXTS + TEXTS[:2], start=hour))
        db.session.commit()
        assert pending(monitor_id) == 1
    answer = client.get(f"/api/v1/monitors/{monitor_id}/attribution?bucket=1h&start={hour.isoformat()}",
                        headers=auth)
    assert answer.status_code == 200, answer.get_json()
    with app.app_context():
        assert pending(monitor_id) == 0 and stored(monitor_id) == recount(monitor_id)
        db.session.rollback()


def test_a_reader_folds_at_most_its_limit_and_says_the_rest_is_pending(app, logged_in, auth, monkeypatch):
    """A backlog (the fold job stopped while ingest went on) larger than a reader folds: each read
    folds READER_FOLD rows and answers `complete: false`, the page says it is catching up; once the
    job has folded the rest the answer is complete and exact again."""
    from datetime import datetime, timezone

    from webapp.insights.terms import service

    monkeypatch.setattr(term_deltas, "READER_FOLD", 2)
    monitor_id, push = new_monitor(app)
    start = datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=6)
    with app.app_context():
        for k in range(5):       # five batches of five hours: five pending rows
            store_batch(db.session, records(monitor_id, push, TEXTS, start=start + timedelta(hours=k), prefix=f"k{k}"))
            db.session.commit()
        assert pending(monitor_id) == 5
        now = datetime.now(timezone.utc)
        table = service.term_table(db.session, monitor_id, now - timedelta(days=1), now)
        assert not table.complete and pending(monitor_id) == 3          # the two oldest folded
        assert table.counts["customer service"][0] == 2 * 2             # two batches counted so far
        db.session.commit()
        assert term_deltas.fold_for_reader(db.session, monitor_id) is False   # 2 more, 1 left
        db.session.commit()
        assert term_deltas.fold_for_reader(db.session, monitor_id) is True    # the last one
        db.session.commit()
        store_batch(db.session, records(monitor_id, push, TEXTS, start=start, prefix="again"))
        store_batch(db.session, records(monitor_id, push, TEXTS, start=start + timedelta(hours=1), prefix="more"))
        store_batch(db.session, records(monitor_id, push, TEXTS, start=start + timedelta(hours=2), prefix="most"))
        db.session.commit()
        assert pending(monitor_id) == 3
    app.config["DASHBOARD_CACHE_SECONDS"] = 0
    page = logged_in.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
    assert 'id="terms-catching-up"' in page
    with app.app_context():
        assert pending(monitor_id) == 1
        assert term_deltas.fold_due(db.session) == 1          # the job folds what is left
        assert stored(monitor_id) == recount(monitor_id)      # every mention counted once
    page = logged_in.get(f"/monitors/{monitor_id}?range=24h").get_data(as_text=True)
    assert 'id="terms-catching-up"' not in page and "customer service" in page
