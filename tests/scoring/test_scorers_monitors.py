"""Each monitor's scorer: ingest scores with it, switching re-scores stored mentions (through the
task's function) with rollups following, the API accepts and shows it."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select, update

from webapp.core.extensions import db
from webapp.ingest.models import Mention, Rollup
from webapp.monitors.models import Monitor
from webapp.scoring import rescoring, scorers
from webapp.ingest import rollups
from webapp.ingest.store import store_batch
from webapp.monitors.services.manage import create_monitor, system_source

from tests.scorers_data import labelled_rows, train_model

pytestmark = pytest.mark.both_databases

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)
SPAN = (NOW - timedelta(days=5), NOW + timedelta(days=1))


def records(monitor_id: int, source_id: int, n: int, seed: int = 11, prefix: str = "r") -> list[dict]:
    """n mentions with the test set's texts, spread over three days."""
    return [{"monitor_id": monitor_id, "source_id": source_id, "external_id": f"{prefix}{i}", "text": text,
             "published_at": (NOW - timedelta(minutes=37 * i)).isoformat()}
            for i, (text, _, _) in enumerate(labelled_rows(n, seed))]


def monitor_with(app, name: str, scorer: str | None = None) -> tuple[int, int]:
    with app.app_context():
        monitor = create_monitor(db.session, name, "", [], scorer=scorer)
        ids = monitor.id, system_source(monitor, "push").id
        db.session.remove()
        return ids


def label_counts(monitor_id: int) -> dict:
    """Totals of the monitor's daily series, as the charts and the series API read them."""
    start, end = rollups.resolve_range("1d", *SPAN, NOW)
    buckets = rollups.series(db.session, monitor_id, "1d", start, end)
    return {key: sum(b[key] for b in buckets) for key in ("count", "positive", "neutral", "negative")}


def rollup_rows(monitor_id: int) -> list[tuple]:
    return sorted((r.source_id, r.bucket, r.start, r.count, r.positive, r.neutral, r.negative,
                   round(r.sum_compound, 6))
                  for r in db.session.execute(select(Rollup).where(Rollup.monitor_id == monitor_id)).scalars())


def rollups_from_mentions(monitor_id: int) -> list[tuple]:
    rows = db.session.execute(select(Mention.monitor_id, Mention.source_id, Mention.published_at,
                                     Mention.compound, Mention.label).where(Mention.monitor_id == monitor_id)).mappings()
    return sorted((source_id, bucket, start, d.count, d.positive, d.neutral, d.negative, round(d.sum_compound, 6))
                  for (_, source_id, bucket, start), d in rollups.deltas(rows).items())


def stored(monitor_id: int) -> list[Mention]:
    return db.session.execute(select(Mention).where(Mention.monitor_id == monitor_id).order_by(Mention.id)).scalars().all()


def test_ingest_scores_each_monitor_with_its_scorer(app):
    train_model(app)
    plain, plain_src = monitor_with(app, "plain")
    custom, custom_src = monitor_with(app, "custom", "model:gadgets")
    mixed, mixed_src = monitor_with(app, "mixed", "ensemble:gadgets")
    with app.app_context():
        batch = (records(plain, plain_src, 30) + records(custom, custom_src, 30)
                 + records(mixed, mixed_src, 30))
        result = store_batch(db.session, batch, NOW)  # one batch, three scorers
        db.session.commit()
        assert result.inserted == 90
        texts = [r["text"] for r in records(0, 0, 30)]
        for monitor_id, name in ((plain, "vader"), (custom, "model:gadgets"), (mixed, "ensemble:gadgets")):
            expected = scorers.get_scorer(db.session, name).score_batch(texts)
            got = [(m.compound, m.pos, m.neu, m.neg, m.label) for m in stored(monitor_id)]
            assert got == [(s.compound, s.pos, s.neu, s.neg, s.label) for s in expected]
        assert [m.label for m in stored(plain)] != [m.label for m in stored(custom)]


def test_ingest_falls_back_to_vader_when_a_model_is_gone(app):
    monitor_id, source_id = monitor_with(app, "orphan")
    with app.app_context():
        db.session.execute(update(Monitor).where(Monitor.id == monitor_id).values(scorer="model:gone"))
        db.session.commit()
        assert store_batch(db.session, records(monitor_id, source_id, 10), NOW).inserted == 10
        db.session.commit()
        expected = scorers.vader_scorer().score_batch([r["text"] for r in records(0, 0, 10)])
        assert [m.label for m in stored(monitor_id)] == [s.label for s in expected]


def test_switching_to_the_model_rescores_and_rollups_follow(app):
    from webapp.scoring.tasks import rescore_monitor

    monitor_id, source_id = monitor_with(app, "switch")
    other_id, other_src = monitor_with(app, "untouched")
    with app.app_context():
        store_batch(db.session, records(monitor_id, source_id, 120) + records(other_id, other_src, 20), NOW)
        db.session.commit()
        before = label_counts(monitor_id)
        other_before = rollup_rows(other_id)
        assert before["count"] == 120 and rollup_rows(monitor_id) == rollups_from_mentions(monitor_id)
        db.session.remove()
    train_model(app)
    with app.app_context():
        monitor = db.session.get(Monitor, monitor_id)
        assert rescoring.change_scorer(db.session, monitor, "model:gadgets") == "model:gadgets"
        with pytest.raises(scorers.UnknownScorer):
            rescoring.change_scorer(db.session, monitor, "model:nope")
        db.session.remove()

    report = rescore_monitor(monitor_id)  # the task's own function, in this process

    assert report == {"monitor_id": monitor_id, "scorer": "model:gadgets", "done": 120, "total": 120,
                      "status": "done", "rollups": report["rollups"]}
    with app.app_context():
        texts = [m.text for m in stored(monitor_id)]
        expected = scorers.get_scorer(db.session, "model:gadgets").score_batch(texts)
        assert [(m.compound, m.label) for m in stored(monitor_id)] == [(s.compound, s.label) for s in expected]
        after = label_counts(monitor_id)
        assert after == {"count": 120, **{k: v for k, v in Counter(s.label for s in expected).items()}}
        assert after["count"] == before["count"]
        assert after != before
        # the series now agree with the annotators far more often ("sick", "killer" are praise here)
        truth = [label for _, label, _ in labelled_rows(120, 11)]
        vader = scorers.vader_scorer().score_batch(texts)
        assert before == {"count": 120, **Counter(s.label for s in vader)}
        right = {name: sum(s.label == t for s, t in zip(scores, truth))
                 for name, scores in (("vader", vader), ("model", expected))}
        assert right["model"] > right["vader"] + 30, right
        assert rollup_rows(monitor_id) == rollups_from_mentions(monitor_id)  # every bucket, every source
        assert report["rollups"] == len(rollup_rows(monitor_id))
        assert rollup_rows(other_id) == other_before  # other monitors keep theirs


def test_rescoring_in_chunks_reports_progress_and_stops_when_superseded(app):
    train_model(app)
    monitor_id, source_id = monitor_with(app, "chunks", "model:gadgets")
    with app.app_context():
        store_batch(db.session, records(monitor_id, source_id, 55), NOW)
        db.session.commit()
        db.session.execute(update(Monitor).where(Monitor.id == monitor_id).values(scorer="vader"))
        db.session.commit()
        seen = []
        report = rescoring.rescore_monitor(db.session, monitor_id, chunk=20,
                                           progress=lambda done, total: seen.append((done, total)))
        assert seen == [(0, 55), (20, 55), (40, 55), (55, 55)] and report["status"] == "done"
        vader = scorers.vader_scorer().score_batch([m.text for m in stored(monitor_id)])
        assert [m.label for m in stored(monitor_id)] == [s.label for s in vader]
        assert rollup_rows(monitor_id) == rollups_from_mentions(monitor_id)

        def switch_after_first_chunk(done, total):
            if done == 20:
                db.session.execute(update(Monitor).where(Monitor.id == monitor_id).values(scorer="model:gadgets"))
                db.session.commit()

        stopped = rescoring.rescore_monitor(db.session, monitor_id, chunk=20, progress=switch_after_first_chunk)
        assert stopped["status"] == "superseded" and stopped["done"] == 20
        with pytest.raises(LookupError):
            rescoring.rescore_monitor(db.session, 999_999)


def test_task_reports_progress_through_celery(app):
    from webapp.scoring.tasks import rescore_monitor

    monitor_id, source_id = monitor_with(app, "progress")
    with app.app_context():
        store_batch(db.session, records(monitor_id, source_id, 12), NOW)
        db.session.commit()
        db.session.remove()
    outcome = rescore_monitor.apply(args=[monitor_id])  # runs here, with a task id and update_state
    assert outcome.get()["done"] == 12
    stored_state = app.extensions["celery"].AsyncResult(outcome.id)
    assert stored_state.state == "PROGRESS" and stored_state.info == {"done": 12, "total": 12}


def test_api_monitor_scorer(app, client, auth):
    monitor = client.post("/api/v1/monitors", json={"name": "default"}, headers=auth)
    assert monitor.status_code == 201 and monitor.get_json()["scorer"] == "vader"
    bad = client.post("/api/v1/monitors", json={"name": "x", "scorer": "model:nope"}, headers=auth)
    assert bad.status_code == 422 and "scorer" in bad.get_json()["detail"]
    assert client.post("/api/v1/monitors", json={"name": "x", "scorer": ""}, headers=auth).status_code == 422
    listing = client.get("/api/v1/scorers", headers=auth).get_json()
    assert [s["name"] for s in listing["items"]] == ["vader"] and listing["default"] == "vader"
    train_model(app)
    listing = client.get("/api/v1/scorers", headers=auth).get_json()
    assert [s["name"] for s in listing["items"]] == ["vader", "model:gadgets", "ensemble:gadgets"]
    model = listing["items"][1]
    assert model["version"] == 1 and model["n_test"] == 60 and model["metrics"]["model"]["accuracy"] == 0.9
    created = client.post("/api/v1/monitors", json={"name": "mine", "scorer": "ensemble:gadgets"}, headers=auth)
    assert created.status_code == 201 and created.get_json()["scorer"] == "ensemble:gadgets"
    fetched = client.get(f"/api/v1/monitors/{created.get_json()['id']}", headers=auth).get_json()
    assert fetched["scorer"] == "ensemble:gadgets"
    assert client.get("/api/v1/scorers").status_code == 401
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/scorers" in spec["paths"]
    assert "scorer" in spec["components"]["schemas"]["MonitorIn"]["properties"]
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Monitor)).scalar() == 2
