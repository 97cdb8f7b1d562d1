"""Batched evaluation on both databases: the same decisions as one rule at a time, each slot
once, a fixed number of statements however many rules, and a broken rule costs only itself."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import event, func, insert, select

from webapp.core.extensions import db
from webapp.alerting import evaluation
from webapp.alerting.kinds import RuleParams, get_kind
from webapp.alerting.models import AlertEvent, AlertState, Rule
from webapp.alerting.prefetch import window_series
from webapp.alerting.windows import STEP, load_series, slot_end, window_slot
from webapp.ingest.models import ALL_SOURCES, Rollup

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

LAG = 120
NOW = datetime.now(timezone.utc).replace(second=0, microsecond=0)
SLOT = window_slot(NOW, LAG)
END = slot_end(SLOT)

# (kind, window, columns and settings) of the rules each monitor gets
RULES = [
    ("avg_sentiment", "1h", {"op": "<", "threshold": -0.2, "min_mentions": 3}),
    ("negative_share", "6h", {"op": ">=", "threshold": 40.0, "min_mentions": 3}),
    ("volume_spike", "1h", {}),
    ("volume_spike", "15m", {}),
]


def _fill(app, monitors: int, weeks: list[float], calm: bool = False) -> list[int]:
    """Monitors with 15-minute rollups over the last `weeks[i]` weeks (a regular background;
    unless `calm`, a burst or a slump in the last hours of some), and the RULES on each."""
    ids = [new_monitor(app, name=f"batch {i}")[0] for i in range(monitors)]
    with app.app_context():
        for i, mid in enumerate(ids):
            rows = []
            for k in range(1, int(weeks[i % len(weeks)] * 7 * 24 * 4) + 1):
                count = (k * 7 + i) % 5 + (40 if k <= 4 and i % 3 == 0 and not calm else 0)
                negative = count if (k <= 24 and i % 2 and not calm) else count // 4
                rows.append({"monitor_id": mid, "source_id": ALL_SOURCES, "bucket": "15m", "start": END - k * STEP,
                             "count": count, "sum_compound": -0.1 * negative, "positive": count - negative,
                             "neutral": 0, "negative": negative})
            db.session.execute(insert(Rollup), rows)
            for kind, window, extra in RULES:
                rule = Rule(monitor_id=mid, name=f"{kind} {window}", kind=kind, window=window,
                            **{k: v for k, v in extra.items() if k in ("op", "threshold", "min_mentions")})
                rule.state = AlertState(state="normal", since=NOW - timedelta(days=40), cursor_id=0)
                db.session.add(rule)
        db.session.commit()
    return ids


def _observation(rule: Rule, series):
    params, kind = RuleParams.of(rule), get_kind(rule.kind)
    stats = series.window(END, params.length)
    return kind.observe(params, stats, kind.baseline(series, END, params.length))


def test_prefetched_windows_decide_as_the_full_read_does(app):
    _fill(app, 6, weeks=[5, 2, 0.5])    # a month of history, a young monitor, a day-old one
    with app.app_context():
        rules = db.session.execute(select(Rule).order_by(Rule.id)).scalars().all()
        series = window_series(db.session, [(r, SLOT) for r in rules])
        assert set(series) == {r.id for r in rules}
        methods = set()
        for rule in rules:
            full = load_series(db.session, rule.monitor_id, END - get_kind(rule.kind).reach(RuleParams.of(rule)), END)
            batched = _observation(rule, series[rule.id])
            assert batched == _observation(rule, full), rule.name
            methods.add((batched.details.get("baseline") or {}).get("method"))
        assert {"hour_of_week", "trailing_7d", None} <= methods   # every baseline path was taken


def test_a_batch_evaluates_each_slot_once_as_rule_by_rule(app):
    _fill(app, 4, weeks=[5, 1])
    with app.app_context():
        pairs = evaluation.due(db.session, NOW, LAG)
        assert len(pairs) == 4 * len(RULES)
        reports = evaluation.evaluate_batch(db.session, pairs, now=NOW, lag_seconds=LAG)
        assert [r.rule_id for r in reports] == sorted(rid for rid, _ in pairs)
        assert {r.status for r in reports} == {"evaluated"}
        assert {r.state for r in reports} >= {"firing", "normal"}
        batched = {r.rule_id: (r.state, r.notification) for r in reports}
        stored = dict(db.session.execute(select(AlertState.rule_id, AlertState.last_slot)).all())
        assert set(stored.values()) == {SLOT}
        events = db.session.execute(select(func.count()).select_from(AlertEvent)).scalar()
        # the same pairs again (a duplicate task): nothing changes
        again = evaluation.evaluate_batch(db.session, pairs, now=NOW, lag_seconds=LAG)
        assert {r.status for r in again} == {"skipped"}
        assert db.session.execute(select(func.count()).select_from(AlertEvent)).scalar() == events
        assert evaluation.due(db.session, NOW, LAG) == []
        # rule by rule from the same start gives the same states and notifications
        db.session.execute(AlertEvent.__table__.delete())
        db.session.execute(AlertState.__table__.update().values(
            last_slot=None, state="normal", since=NOW - timedelta(days=40), last_fired_at=None,
            last_notified_at=None, last_value=None))
        db.session.commit()
        single = {rid: evaluation.evaluate_rule(db.session, rid, slot, now=NOW, lag_seconds=LAG)
                  for rid, slot in pairs}
        assert {rid: (r.state, r.notification) for rid, r in single.items()} == batched


def test_a_batch_reads_with_the_same_statements_for_few_rules_and_for_many(app):
    _fill(app, 8, weeks=[4], calm=True)

    def selects(pairs) -> int:
        seen = []
        listener = lambda *args: seen.append(args[2])   # noqa: E731 (the statement text)
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            reports = evaluation.evaluate_batch(db.session, pairs, now=NOW, lag_seconds=LAG)
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
        assert {r.status for r in reports} == {"evaluated"} and not any(r.notification for r in reports)
        return len([s for s in seen if s.lstrip().upper().startswith("SELECT")])

    with app.app_context():
        pairs = evaluation.due(db.session, NOW, LAG)
        few, many = pairs[:len(RULES)], pairs[len(RULES):]      # one monitor's rules, then seven's
        assert selects(few) == selects(many) <= 5               # rules, states, history, buckets


def test_a_rule_that_breaks_costs_only_its_own_evaluation(app, monkeypatch):
    _fill(app, 2, weeks=[5])
    with app.app_context():
        broken = db.session.execute(select(Rule.id).where(Rule.kind == "negative_share")
                                    .order_by(Rule.id).limit(1)).scalar()
        db.session.get(Rule, broken).threshold = 41.0     # the one the kind below cannot decide
        db.session.commit()
        kind = type(get_kind("negative_share"))
        real = kind.observe

        def observe(self, params, stats, baseline=None):
            if params.threshold == 41.0:
                raise RuntimeError("a broken rule")
            return real(self, params, stats, baseline)

        monkeypatch.setattr(kind, "observe", observe)
        pairs = evaluation.due(db.session, NOW, LAG)
        reports = {r.rule_id: r.status for r in evaluation.evaluate_batch(db.session, pairs, now=NOW, lag_seconds=LAG)}
        assert reports.pop(broken) == "failed" and set(reports.values()) == {"evaluated"}
        assert evaluation.due(db.session, NOW, LAG) == [(broken, SLOT)]   # due again at the next tick
