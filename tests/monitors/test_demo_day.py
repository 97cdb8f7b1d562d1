"""The demo stays believable for days: `flask seed-demo`, then a simulated day of live replay
(the clock injected: a fetch every 5 minutes, rules evaluated every 15) through the real fetch,
bus, pipeline and alert evaluation. The pace follows the history's, with its daily rhythm; the
texts vary; none of the demo's rules fires. Then a real change (a burst of complaints) fires one."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select

from webapp.alerting import evaluation
from webapp.alerting.models import AlertEvent, AlertState, Rule
from webapp.core import runtime
from webapp.core.extensions import db
from webapp.ingest import store
from webapp.ingest.models import Mention
from webapp.monitors.cli import DEMO_RULES
from webapp.monitors.models import Source
from webapp.monitors.services import fetching
from webapp.monitors.sources import demo

START = datetime(2024, 3, 4, 6, 2, tzinfo=timezone.utc)


def fetch(source_id: int, now: datetime):
    report = fetching.run_fetch(db.session, runtime.bus(), source_id, fetching.slot_for(now, 60),
                                runtime.egress_policy(), now)
    assert report.status == "ok", report
    return report


def test_a_simulated_day_of_demo_replay_keeps_pace_varies_and_fires_no_rule(app, drain):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "demo")).scalar_one()
        source_id, monitor_id = source.id, source.monitor_id
        assert db.session.execute(select(func.count()).select_from(Rule)).scalar() == len(DEMO_RULES)
        first = fetch(source_id, START)
        assert first.fetched == demo.BACKFILL and first.published > 0.8 * demo.BACKFILL   # the query filters
    drain()
    per_fetch = []
    now = START
    with app.app_context():
        while now < START + timedelta(days=1):
            now += timedelta(minutes=5)
            per_fetch.append(fetch(source_id, now).published)
            drain()
            if now.minute % 15 == 2:
                evaluation.evaluate_due(db.session, now=now)
        live = db.session.execute(select(Mention.text, Mention.published_at).where(
            Mention.monitor_id == monitor_id, Mention.published_at >= START)).all()
        fired = db.session.execute(select(func.count()).select_from(AlertEvent).where(
            AlertEvent.to_state == "firing")).scalar()
        states = Counter(db.session.execute(select(AlertState.state)).scalars())
        evaluated = db.session.execute(select(func.count()).select_from(AlertState).where(
            AlertState.last_evaluated_at.is_not(None))).scalar()

    # pace: the history's (what the monitor kept of the week before), not mentions per fetch
    per_day = first.published / 7
    assert 0.9 * per_day <= len(live) <= 1.1 * per_day, len(live)
    assert max(per_fetch) <= 5 and sum(per_fetch) == len(live) and sum(1 for n in per_fetch if n) > 100
    hours = Counter(at.hour for _, at in live)
    assert hours[demo.PEAK_HOUR_UTC] > 3 * hours[(demo.PEAK_HOUR_UTC + 12) % 24]
    # variety: a generator, not a short loop
    texts = [t for t, _ in live]
    assert len(set(texts)) >= 0.9 * len(texts)
    # the default rules were evaluated all day and stayed quiet
    assert evaluated == len(DEMO_RULES)
    assert fired == 0 and states.get("firing", 0) == 0, states


def test_the_demo_rules_do_fire_on_a_real_change(app, drain):
    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.kind == "demo")).scalar_one()
        fetch(source.id, START)
        drain()
        push = [s for s in db.session.execute(select(Source).where(Source.monitor_id == source.monitor_id)).scalars()
                if s.is_system][0]
        burst = [{"monitor_id": source.monitor_id, "source_id": push.id, "external_id": f"angry{i}",
                  "text": "The Rocket broke again, terrible, awful, furious and disappointed",
                  "published_at": (START + timedelta(minutes=i % 50)).isoformat()} for i in range(150)]
        store.store_batch(db.session, burst)
        db.session.commit()
        evaluation.evaluate_due(db.session, now=START + timedelta(hours=1, minutes=2))
        firing = db.session.execute(select(Rule.kind).join(AlertState, AlertState.rule_id == Rule.id)
                                    .where(AlertState.state == "firing")).scalars().all()
    assert "negative_share" in firing or "avg_sentiment" in firing, firing
