"""The evaluation use case: one rule, one slot, evaluated once, state change and outbox in one commit.

`evaluate_rule(session, rule_id, slot, now=...)` first claims the slot with a conditional UPDATE
of the rule's `last_slot` (only a newer slot passes), so a second run of the same slot, from a
duplicate task or a second scheduler, changes nothing and sends nothing. Then it reads the
window, decides with the pure functions (the kind's observe, next_state / next_digest), and writes the
new state, the event and one delivery row per notifier; all of it commits together. Sending
happens afterwards, in notify.deliver tasks, for the delivery ids the report lists.

How a rule is evaluated depends on its kind's `mode` (webapp.alerting.kinds): "window" kinds
once per closed 15-minute bucket over rollups, "digest" kinds once a minute over new mentions;
`SLOTS` and `RUNNERS` are the tables that dispatch on it.

`evaluate_batch` does the same for many (rule, slot) pairs in one transaction, with the reads
shared (beat's tasks and `evaluate_due` use it): thousands of rules per slot at a few
statements per hundred rules.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import selectinload

from webapp.alerting.models import AlertEvent, AlertState, Rule
from webapp.ingest.models import Mention
from webapp.monitors.models import Monitor, Source
from webapp.monitors.services import health
from webapp.alerting.notifiers.delivery import outbox
from webapp.alerting.kinds import REGISTRY, RuleParams, get_kind
from webapp.alerting.prefetch import window_series
from webapp.alerting.payload import SAMPLES, alert_payload, mention_sample
from webapp.alerting.silences import active_silences
from webapp.alerting.state import StateSnapshot, active_silence, next_digest, next_state
from webapp.alerting.windows import BucketSeries, load_series, minute_slot, slot_end, window_slot

log = logging.getLogger(__name__)
DEFAULT_LAG = 120
DEFAULT_PUBLIC_URL = "http://127.0.0.1:5000"
BATCH = 200              # rules evaluated in one transaction (one alerts.evaluate_batch task)
MAX_SCAN = 5000          # mentions a mention_match evaluation reads at most; the rest come next time


@dataclass
class EvalReport:
    rule_id: int
    slot: int
    status: str                        # evaluated | skipped (slot done) | disabled | failed (batch)
    state: str | None = None
    event_id: int | None = None
    notification: str | None = None
    suppressed: bool = False
    deliveries: list[int] = field(default_factory=list)


SLOTS = {"window": window_slot, "digest": lambda now, _lag: minute_slot(now),
         "health": lambda now, _lag: minute_slot(now)}
HEALTH_LOOKBACK = timedelta(days=1)   # fetch records read before the failure time a rule asks for
SAMPLE_ORDER = {"lowest": (Mention.compound.asc(),), "highest": (Mention.compound.desc(),),
                "newest": (Mention.published_at.desc(), Mention.id.desc())}

log = logging.getLogger(__name__)


def slot_for(kind: str, now: datetime, lag_seconds: int = DEFAULT_LAG) -> int:
    """Window kinds: one slot per closed 15-minute bucket; digest kinds: one per minute."""
    return SLOTS[get_kind(kind).mode](now, lag_seconds)


def due(session, now: datetime, lag_seconds: int = DEFAULT_LAG) -> list[tuple[int, int]]:
    """(rule id, slot) for every enabled rule whose current slot has not been evaluated."""
    rows = session.execute(
        select(Rule.id, Rule.kind, AlertState.last_slot).join(AlertState, AlertState.rule_id == Rule.id)
        .where(Rule.enabled.is_(True)).order_by(Rule.id)).all()
    session.rollback()
    found = []
    for rule_id, kind, last_slot in rows:
        if kind not in REGISTRY:  # a kind this release does not know (a rolled-back upgrade): skip it
            log.warning("rule %s has kind %r, which this release does not know; not evaluated", rule_id, kind)
            continue
        slot = slot_for(kind, now, lag_seconds)
        if last_slot is None or slot > last_slot:
            found.append((rule_id, slot))
    return found


def evaluate_due(session, now: datetime | None = None, **options) -> list[EvalReport]:
    """Evaluate every due rule in this process (the CLI and tests; beat fans out tasks instead),
    a batch at a time."""
    now = now or datetime.now(timezone.utc)
    pairs = due(session, now, options.get("lag_seconds", DEFAULT_LAG))
    return [report for chunk in chunks(pairs) for report in evaluate_batch(session, chunk, now=now, **options)]


def chunks(pairs: list, size: int = BATCH) -> list[list]:
    return [pairs[i:i + size] for i in range(0, len(pairs), size)]


def evaluate_batch(session, pairs, *, now: datetime | None = None, lag_seconds: int = DEFAULT_LAG,
                   public_url: str = DEFAULT_PUBLIC_URL) -> list[EvalReport]:
    """Evaluate (rule id, slot) pairs, each slot at most once, in one transaction; reports in
    rule id order.

    The slots are claimed with one conditional UPDATE per slot, the rules and their states
    loaded in one statement and the window kinds' buckets in two (prefetch.py); each rule is
    decided as `evaluate_rule` decides it, and everything commits once. If anything fails, the
    batch is rolled back and its rules are evaluated one by one, each in its own transaction,
    so that a broken rule costs only its own evaluation (it is due again at the next tick).
    """
    now = now or datetime.now(timezone.utc)
    slots = {int(rid): int(slot) for rid, slot in pairs}
    try:
        reports = _together(session, slots, now, lag_seconds, public_url)
        session.commit()
        return reports
    except Exception:
        session.rollback()
        log.warning("a batch of %d rules failed; evaluating them one by one", len(slots), exc_info=True)
    return [_alone(session, rid, slot, now, lag_seconds, public_url) for rid, slot in sorted(slots.items())]


def _together(session, slots: dict[int, int], now, lag_seconds, public_url) -> list[EvalReport]:
    by_slot: dict[int, list[int]] = {}
    for rid, slot in slots.items():
        by_slot.setdefault(slot, []).append(rid)
    claimed = {rid for slot, ids in by_slot.items()
               for rid in session.execute(claim_slots(sorted(ids), slot, now)).scalars()}
    session.expire_all()   # read the states as they are now, after the claim
    rules = {r.id: r for r in session.execute(
        select(Rule).where(Rule.id.in_(sorted(claimed))).options(selectinload(Rule.state))).scalars()}
    series = window_series(session, [(rule, slots[rid]) for rid, rule in rules.items()])
    return [run_claimed(session, rules[rid], slot, now, lag_seconds, public_url, series.get(rid))
            if rid in rules else EvalReport(rid, slot, "skipped") for rid, slot in sorted(slots.items())]


def _alone(session, rule_id: int, slot: int, now, lag_seconds, public_url) -> EvalReport:
    try:
        return evaluate_rule(session, rule_id, slot, now=now, lag_seconds=lag_seconds, public_url=public_url)
    except Exception:
        session.rollback()   # the claim goes too: the rule is due again at the next tick
        log.exception("evaluation of rule %s for slot %s failed", rule_id, slot)
        return EvalReport(rule_id, slot, "failed")


def claim_slots(rule_ids, slot: int, now: datetime):
    """The conditional UPDATE that claims `slot` for those of the rules that have not had it
    (only a newer slot passes); RETURNING the claimed rule ids."""
    return (update(AlertState).where(AlertState.rule_id.in_(rule_ids),
                                     or_(AlertState.last_slot.is_(None), AlertState.last_slot < slot))
            .values(last_slot=slot, last_evaluated_at=now).returning(AlertState.rule_id)
            .execution_options(synchronize_session=False))


def evaluate_rule(session, rule_id: int, slot: int, *, now: datetime | None = None,
                  lag_seconds: int = DEFAULT_LAG, public_url: str = DEFAULT_PUBLIC_URL) -> EvalReport:
    """Evaluate one rule for one slot, at most once. Commits once."""
    now = now or datetime.now(timezone.utc)
    claimed = session.execute(claim_slots([rule_id], slot, now)).all() != []
    if not claimed:
        session.rollback()
        return EvalReport(rule_id, slot, "skipped")
    session.expire_all()   # read the state as it is now, after the claim
    report = run_claimed(session, session.get(Rule, rule_id), slot, now, lag_seconds, public_url)
    session.commit()
    return report


def run_claimed(session, rule: Rule, slot: int, now: datetime, lag_seconds: int, public_url: str,
                series: BucketSeries | None = None) -> EvalReport:
    """Evaluate a rule whose slot this transaction claimed (the caller commits)."""
    if not rule.enabled:
        return EvalReport(rule.id, slot, "disabled")
    mode = get_kind(rule.kind).mode
    extra = {"series": series} if series is not None else {}
    return RUNNERS[mode](session, rule, slot, now, lag_seconds, public_url, **extra)


def _window(session, rule: Rule, slot: int, now: datetime, _lag_seconds: int, public_url: str,
            series: BucketSeries | None = None) -> EvalReport:
    """`series`: the rule's buckets when a batch loaded them (`evaluate_batch`, prefetch.py)."""
    params = RuleParams.of(rule)
    kind = get_kind(rule.kind)
    end = slot_end(slot)
    series = series or load_series(session, rule.monitor_id, end - kind.reach(params), end)
    stats = series.window(end, params.length)
    obs = kind.observe(params, stats, kind.baseline(series, end, params.length))
    state = rule.state
    step = next_state(StateSnapshot.of(state), obs, now, kind.state_params(params))
    state.last_value = obs.value
    samples = (lambda: sample_mentions(session, rule, stats.start, stats.end))
    details = {**obs.details, **({"reason": step.reason} if step.reason else {})}
    if step.notify == "firing" and kind.explains:
        details.update(explain_spike(session, rule.monitor_id, stats, obs.details.get("baseline")))
    return _record(session, rule, state, slot=slot, now=now, public_url=public_url, to_state=step.state,
                   since=step.since, changed=step.changed, notification=step.notify, fired=step.fired,
                   value=obs.value, threshold=obs.threshold, details=details, samples=samples)


def _digest(session, rule: Rule, slot: int, now: datetime, lag_seconds: int, public_url: str) -> EvalReport:
    params = RuleParams.of(rule)
    state = rule.state
    scan_end = now - timedelta(seconds=lag_seconds)   # later rows may still be in flight
    cursor_at, cursor_id = state.cursor_at or rule.created_at, state.cursor_id or 0
    rows = [] if scan_end <= cursor_at else list(session.execute(
        select(Mention).where(
            Mention.monitor_id == rule.monitor_id, Mention.ingested_at <= scan_end,
            Mention.muted.is_(False),  # muted mentions raise no alert (mentions/noise.py)
            or_(Mention.ingested_at > cursor_at, and_(Mention.ingested_at == cursor_at, Mention.id > cursor_id)))
        .order_by(Mention.ingested_at, Mention.id).limit(MAX_SCAN)).scalars())
    matches = get_kind(rule.kind).matcher(params)
    matched = [m for m in rows if matches(m.text)]
    step = next_digest(StateSnapshot.of(state), len(matched), now, params)
    if step.advance and rows:
        state.cursor_at, state.cursor_id = rows[-1].ingested_at, rows[-1].id
    state.last_value = float(len(matched))
    cap = int(params.setting("digest_cap"))
    details = {"matches": len(matched), "scanned": len(rows), "more_to_scan": len(rows) == MAX_SCAN}
    return _record(session, rule, state, slot=slot, now=now, public_url=public_url, to_state=step.state,
                   since=step.since, changed=step.changed, notification="firing" if step.send else None,
                   fired=step.send, value=float(len(matched)), threshold=None, details=details,
                   samples=lambda: [mention_sample(m) for m in matched[:cap]],
                   more=max(len(matched) - cap, 0))


def source_failures(session, monitor_id: int, start: datetime, end: datetime) -> tuple[list, dict[int, str]]:
    """The monitor's failure periods over [start, end) and the names of its enabled, fetched sources."""
    sources = session.execute(select(Source).where(Source.monitor_id == monitor_id, Source.enabled.is_(True))
                              .order_by(Source.id)).scalars().all()
    names = {s.id: f"#{s.id} {s.display_name}"[:160] for s in sources if not s.is_system}
    return health.monitor_gaps(session, monitor_id, start, end), names


def _health(session, rule: Rule, slot: int, now: datetime, _lag_seconds: int, public_url: str) -> EvalReport:
    params = RuleParams.of(rule)
    kind = get_kind(rule.kind)
    gaps, names = source_failures(session, rule.monitor_id,
                                  now - timedelta(seconds=params.for_seconds) - HEALTH_LOOKBACK, now)
    obs = kind.observe_health(params, gaps, now, now, names)
    state = rule.state
    step = next_state(StateSnapshot.of(state), obs, now, kind.state_params(params))
    state.last_value = obs.value
    details = {**obs.details, **({"reason": step.reason} if step.reason else {})}
    return _record(session, rule, state, slot=slot, now=now, public_url=public_url, to_state=step.state,
                   since=step.since, changed=step.changed, notification=step.notify, fired=step.fired,
                   value=obs.value, threshold=obs.threshold, details=details, samples=lambda: [])


RUNNERS = {"window": _window, "digest": _digest, "health": _health}


def _record(session, rule: Rule, state: AlertState, *, slot, now, public_url, to_state, since, changed,
            notification, fired, value, threshold, details, samples, more: int = 0) -> EvalReport:
    """Write the event, the outbox rows and the new state (the caller commits)."""
    report = EvalReport(rule.id, slot, "evaluated", state=to_state, notification=notification)
    if changed or notification:
        event = AlertEvent(rule_id=rule.id, monitor_id=rule.monitor_id, from_state=state.state,
                           to_state=to_state, value=value, threshold=threshold, slot=slot, at=now,
                           notification=notification, suppressed=False, details=details)
        session.add(event)
        session.flush()
        report.event_id = event.id
        if notification:
            silence = active_silence(active_silences(session, rule.monitor_id, now), rule.id, rule.monitor_id, now)
            if silence is not None:
                event.suppressed = report.suppressed = True
                event.details = {**details, "silenced_by": silence.id}
            else:
                monitor = session.get(Monitor, rule.monitor_id)
                payload = alert_payload(
                    notification=notification, at=now, rule=rule, monitor=monitor, value=value,
                    threshold=threshold, samples=samples() if notification != "resolved" else [],
                    public_url=public_url, event_id=event.id, details=details, more=more)
                rows = outbox(session, rule.notifiers, payload, event.id, now)
                session.flush()
                report.deliveries = [r.id for r in rows]
                state.last_notified_at = now
    if fired:
        state.last_fired_at = now
    state.state, state.since = to_state, since
    return report


def explain_spike(session, monitor_id: int, stats, baseline: dict | None) -> dict:
    """{"attribution": ...} of the firing window (insights/attribution), or {} if it failed:
    an explanation never stops an alert."""
    from webapp.insights.attribution import service as attribution

    try:
        with session.begin_nested():    # a failed read must not spoil the evaluation's transaction
            return {"attribution": attribution.explain(
                session, monitor_id, stats.start, stats.end, (baseline or {}).get("median"),
                (baseline or {}).get("method"))}
    except Exception:
        log.warning("spike attribution failed for monitor %s", monitor_id, exc_info=True)
        return {}


def sample_mentions(session, rule: Rule, start: datetime, end: datetime) -> list[dict]:
    """Up to five mentions of the window that show why the rule fired."""
    label, order = get_kind(rule.kind).samples(RuleParams.of(rule))
    q = select(Mention).where(Mention.monitor_id == rule.monitor_id, Mention.muted.is_(False),
                              Mention.published_at >= start,
                              Mention.published_at < end, *([Mention.label == label] if label else []))
    q = q.order_by(*SAMPLE_ORDER[order])
    return [mention_sample(m) for m in session.execute(q.limit(SAMPLES)).scalars()]
