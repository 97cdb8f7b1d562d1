"""Evaluation use case on a real database: once per (rule, slot), state + outbox in one commit,
silences, reminders, no data, and mention_match digests."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.alerting.models import AlertEvent, AlertState, Delivery, Silence
from webapp.monitors.models import Monitor
from webapp.alerting import evaluation, silences
from webapp.alerting.windows import slot_end, window_slot

from tests.alert_fixtures import at, push
from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

LAG = 120
NEGATIVE = "This is terrible, awful and broken. I hate it."
POSITIVE = "I love it, wonderful and great!"


def hour_ago() -> datetime:
    """The start of a whole hour safely in the past (mentions cannot be published in the future)."""
    return datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=3)


def evaluated_at(window_end: datetime) -> datetime:
    """A `now` whose lagged slot ends exactly at `window_end`."""
    return window_end + timedelta(seconds=LAG + 30)


def setup_rule(app, client, auth, rule: dict, notifier_url="http://127.0.0.1:9/hook"):
    monitor_id, _ = new_monitor(app, name="Evaluated")
    hook = client.post("/api/v1/notifiers", json={"kind": "webhook", "url": notifier_url}, headers=auth)
    assert hook.status_code == 201, hook.json
    created = client.post(f"/api/v1/monitors/{monitor_id}/rules",
                          json={"notifiers": [hook.json["id"]], **rule}, headers=auth)
    assert created.status_code == 201, created.json
    return monitor_id, created.json["id"]


def counts(app, rule_id):
    with app.app_context():
        events = db.session.execute(select(func.count()).select_from(AlertEvent)
                                    .where(AlertEvent.rule_id == rule_id)).scalar()
        deliveries = db.session.execute(select(func.count()).select_from(Delivery)).scalar()
        state = db.session.get(AlertState, rule_id).state
        db.session.remove()
        return events, deliveries, state


def run(app, rule_id, now):
    with app.app_context():
        slot = evaluation.slot_for(db.session.get(AlertState, rule_id).rule.kind, now, LAG)
        report = evaluation.evaluate_rule(db.session, rule_id, slot, now=now, lag_seconds=LAG,
                                          public_url="http://sentimon.test")
        db.session.remove()
        return report


def test_the_same_slot_evaluated_twice_changes_nothing_and_sends_nothing(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "avg_sentiment", "window": "1h",
                                                         "threshold": -0.3, "min_mentions": 3})
    start = hour_ago()
    push(client, auth, drain, monitor_id, at(start + timedelta(minutes=20), NEGATIVE, 5))
    now = evaluated_at(start + timedelta(hours=1))
    first = run(app, rule_id, now)
    assert (first.status, first.state, first.notification, len(first.deliveries)) == (
        "evaluated", "firing", "firing", 1)
    assert counts(app, rule_id) == (1, 1, "firing")
    again = run(app, rule_id, now + timedelta(seconds=40))        # same slot: a duplicate task
    assert again.status == "skipped" and again.deliveries == []
    assert counts(app, rule_id) == (1, 1, "firing")
    with app.app_context():
        assert evaluation.due(db.session, now, LAG) == []          # beat sees nothing to do
        assert evaluation.due(db.session, now + timedelta(minutes=15), LAG) == [
            (rule_id, window_slot(now, LAG) + 1)]


def test_concurrent_runs_of_one_slot_evaluate_it_once(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "avg_sentiment", "threshold": -0.3,
                                                         "min_mentions": 1})
    start = hour_ago()
    push(client, auth, drain, monitor_id, at(start + timedelta(minutes=5), NEGATIVE, 3))
    now = evaluated_at(start + timedelta(hours=1))
    reports, barrier = [], threading.Barrier(4)

    def worker():
        barrier.wait(10)
        reports.append(run(app, rule_id, now))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(r.status for r in reports) == ["evaluated", "skipped", "skipped", "skipped"]
    assert counts(app, rule_id) == (1, 1, "firing")


def test_state_change_and_its_deliveries_are_written_together(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "negative_share", "window": "15m",
                                                         "threshold": 50, "min_mentions": 4})
    start = hour_ago()
    push(client, auth, drain, monitor_id, at(start + timedelta(minutes=1), NEGATIVE, 4)
         + at(start + timedelta(minutes=2), POSITIVE, 1, prefix="p"))
    report = run(app, rule_id, evaluated_at(start + timedelta(minutes=15)))
    with app.app_context():
        event = db.session.get(AlertEvent, report.event_id)
        row = db.session.execute(select(Delivery).where(Delivery.event_id == event.id)).scalar_one()
        assert (event.from_state, event.to_state, event.value, event.threshold) == ("normal", "firing", 80.0, 50)
        assert row.status == "pending" and row.webhook_id.startswith("msg_")
        data = row.payload["data"]
        assert row.payload["type"] == "alert.firing"
        assert (data["status"], data["value"], data["threshold"], data["op"], data["window"]) == (
            "firing", 80.0, 50, ">=", "15m")
        assert data["rule"]["id"] == rule_id and data["monitor"]["id"] == monitor_id
        assert data["link"] == f"http://sentimon.test/monitors/{monitor_id}/alerts"
        assert len(data["sample_mentions"]) == 4 and {m["label"] for m in data["sample_mentions"]} == {"negative"}


def test_too_few_mentions_is_no_data_and_a_firing_rule_resolves(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "avg_sentiment", "window": "15m",
                                                         "threshold": -0.3, "min_mentions": 3})
    start = hour_ago()
    push(client, auth, drain, monitor_id, at(start + timedelta(minutes=1), NEGATIVE, 3)
         + at(start + timedelta(minutes=16), NEGATIVE, 2, prefix="few"))
    assert run(app, rule_id, evaluated_at(start + timedelta(minutes=15))).state == "firing"
    resolved = run(app, rule_id, evaluated_at(start + timedelta(minutes=30)))
    assert (resolved.state, resolved.notification, len(resolved.deliveries)) == ("resolved", "resolved", 1)
    nodata = run(app, rule_id, evaluated_at(start + timedelta(minutes=45)))
    assert (nodata.state, nodata.notification, nodata.deliveries) == ("nodata", None, [])
    with app.app_context():
        events = db.session.execute(select(AlertEvent).where(AlertEvent.rule_id == rule_id)
                                    .order_by(AlertEvent.id)).scalars().all()
        assert [(e.from_state, e.to_state) for e in events] == [
            ("normal", "firing"), ("firing", "resolved"), ("resolved", "nodata")]
        assert events[1].details["reason"] == "no data"


def test_silence_suppresses_notifications_but_not_evaluation(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "avg_sentiment", "window": "15m",
                                                         "threshold": -0.3, "min_mentions": 1})
    start = hour_ago()
    with app.app_context():   # (evaluation time is driven here, so the silence starts then too)
        monitor = db.session.get(Monitor, monitor_id)
        silence = silences.create_silence(db.session, monitor, ends_at=start + timedelta(hours=10),
                                          rule_id=rule_id, reason="maintenance", now=start)
        silence_id = silence.id
        db.session.remove()
    push(client, auth, drain, monitor_id, at(start + timedelta(minutes=1), NEGATIVE, 2)
         + at(start + timedelta(minutes=16), POSITIVE, 2, prefix="p"))
    fired = run(app, rule_id, evaluated_at(start + timedelta(minutes=15)))
    assert (fired.state, fired.notification, fired.suppressed, fired.deliveries) == ("firing", "firing", True, [])
    with app.app_context():
        silences.end_silence(db.session, db.session.get(Silence, silence_id), now=start + timedelta(minutes=20))
    resolved = run(app, rule_id, evaluated_at(start + timedelta(minutes=30)))
    assert (resolved.state, resolved.notification) == ("resolved", None)   # it was never announced
    alerts = client.get(f"/api/v1/monitors/{monitor_id}/alerts", headers=auth).json
    assert [(a["from"], a["to"], a["suppressed"]) for a in alerts] == [
        ("firing", "resolved", False), ("normal", "firing", True)]
    assert alerts[1]["details"]["silenced_by"] == silence_id


def test_reminders_while_firing(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "avg_sentiment", "window": "1h",
                                                         "threshold": -0.3, "min_mentions": 1,
                                                         "repeat_seconds": 1800})
    start = hour_ago() - timedelta(hours=1)
    push(client, auth, drain, monitor_id, [m for k in range(8) for m in
                                           at(start + timedelta(minutes=15 * k + 1), NEGATIVE, 1, prefix=f"k{k}")])
    notices = [run(app, rule_id, evaluated_at(start + timedelta(minutes=60 + 15 * k))).notification
               for k in range(5)]
    assert notices == ["firing", None, "reminder", None, "reminder"]


def test_pending_for_a_duration_before_firing(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "avg_sentiment", "window": "15m",
                                                         "threshold": -0.3, "min_mentions": 1,
                                                         "for_seconds": 1800})
    start = hour_ago() - timedelta(hours=1)
    push(client, auth, drain, monitor_id, [m for k in range(4) for m in
                                           at(start + timedelta(minutes=15 * k + 1), NEGATIVE, 1, prefix=f"k{k}")])
    states = [run(app, rule_id, evaluated_at(start + timedelta(minutes=15 * (k + 1)))).state for k in range(4)]
    assert states == ["pending", "pending", "firing", "firing"]


def test_mention_match_sends_one_digest_of_new_matching_mentions(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {
        "kind": "mention_match", "query": "acme AND (outage OR down)", "digest_wait_seconds": 300,
        "digest_cap": 3})
    push(client, auth, drain, monitor_id,
         [{"external_id": f"o{i}", "text": f"Acme outage report {i}"} for i in range(5)]
         + [{"external_id": "x1", "text": "Acme launches a rocket"}, {"external_id": "x2", "text": "outage elsewhere"}])
    real_now = datetime.now(timezone.utc)
    in_flight = run(app, rule_id, real_now)           # ingested less than the lag ago: not read yet
    assert (in_flight.state, in_flight.notification) == ("normal", None)
    now = real_now + timedelta(seconds=LAG + 1)
    first = run(app, rule_id, now)
    assert (first.state, first.notification) == ("pending", None)
    assert run(app, rule_id, now + timedelta(minutes=2)).state == "pending"
    push(client, auth, drain, monitor_id, [{"external_id": "o9", "text": "is acme down for everyone?"}])
    sent = run(app, rule_id, now + timedelta(minutes=5))
    assert (sent.state, sent.notification, len(sent.deliveries)) == ("firing", "firing", 1)
    with app.app_context():
        data = db.session.get(Delivery, sent.deliveries[0]).payload["data"]
        db.session.remove()
    assert data["value"] == 6.0 and len(data["sample_mentions"]) == 3 and data["more_mentions"] == 3
    assert data["sample_mentions"][0]["text"] == "Acme outage report 0"
    assert (data["op"], data["window"], data["threshold"]) == (None, None, None)
    assert run(app, rule_id, now + timedelta(minutes=6)).state == "normal"   # nothing new

    push(client, auth, drain, monitor_id, [{"external_id": "o10", "text": "ACME is down again"}])
    assert run(app, rule_id, now + timedelta(minutes=7)).state == "pending"
    nxt = run(app, rule_id, now + timedelta(minutes=12))
    assert nxt.notification == "firing"
    with app.app_context():
        data = db.session.get(Delivery, nxt.deliveries[0]).payload["data"]
        db.session.remove()
    assert data["value"] == 1.0 and data["sample_mentions"][0]["text"] == "ACME is down again"
    events, deliveries, state = counts(app, rule_id)
    assert (deliveries, state) == (2, "firing")


def test_evaluate_due_covers_every_enabled_rule_once(app, client, auth, drain):
    monitor_id, rule_id = setup_rule(app, client, auth, {"kind": "volume_spike", "window": "1h"})
    other = client.post(f"/api/v1/monitors/{monitor_id}/rules",
                        json={"kind": "avg_sentiment", "threshold": 0.1, "op": ">", "enabled": False}, headers=auth)
    now = evaluated_at(hour_ago())
    with app.app_context():
        reports = evaluation.evaluate_due(db.session, now, lag_seconds=LAG)
        assert [(r.rule_id, r.status, r.state) for r in reports] == [(rule_id, "evaluated", "nodata")]
        assert evaluation.evaluate_due(db.session, now, lag_seconds=LAG) == []
        assert slot_end(reports[0].slot) == hour_ago()
    assert other.status_code == 201
