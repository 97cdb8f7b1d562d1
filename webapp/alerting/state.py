"""The alert state machine (pure): Normal → Pending → Firing → Resolved → Normal, and No data.

- condition met: Normal / Resolved / No data → Pending, or straight to Firing when the rule has
  no "for" duration; Pending → Firing once the condition held for `for_seconds`;
- condition not met: Pending → Normal, Firing → Resolved, Resolved / No data → Normal;
- no data (too few mentions, no baseline): Firing → Resolved, anything else → No data.

Notifications go out on entering Firing, on Firing → Resolved (only if that firing was notified),
and as reminders every `repeat_seconds` while firing. A cooldown holds a rule in Pending until
`cooldown_seconds` have passed since it last fired. Silences do not change any of this: they
only suppress sending (the use case records the event as suppressed).

mention_match rules are digests rather than conditions: `next_digest` collects matches for a
short wait after the first one, then sends them in one message.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from webapp.alerting.conditions import Observation, RuleParams


@dataclass(frozen=True)
class StateSnapshot:
    state: str = "normal"
    since: datetime | None = None
    last_fired_at: datetime | None = None
    last_notified_at: datetime | None = None

    @classmethod
    def of(cls, row) -> "StateSnapshot":
        return cls(row.state, row.since, row.last_fired_at, row.last_notified_at)


@dataclass(frozen=True)
class Transition:
    state: str
    since: datetime
    changed: bool                 # a state change: recorded as an event
    notify: str | None = None     # "firing" | "resolved" | "reminder"
    fired: bool = False           # entered Firing now (starts the cooldown)
    reason: str = ""


def cooled_down(state: StateSnapshot, now: datetime, rule: RuleParams) -> bool:
    return (state.last_fired_at is None or rule.cooldown_seconds <= 0
            or now - state.last_fired_at >= timedelta(seconds=rule.cooldown_seconds))


def firing_was_notified(state: StateSnapshot) -> bool:
    """Whether the current firing was announced (a silenced firing gets no "resolved" either)."""
    return (state.state == "firing" and state.last_notified_at is not None
            and state.since is not None and state.last_notified_at >= state.since)


def next_state(state: StateSnapshot, obs: Observation, now: datetime, rule: RuleParams) -> Transition:
    """The transition for one evaluation of a rule in `state` that observed `obs` at `now`."""
    current = state.state
    since = state.since or now

    def stay(notify: str | None = None) -> Transition:
        return Transition(current, since, False, notify)

    def to(new: str, notify: str | None = None, fired: bool = False, reason: str = "") -> Transition:
        return Transition(new, now, True, notify, fired, reason)

    resolved_notice = "resolved" if firing_was_notified(state) else None
    if obs.condition_met is None:
        if current == "firing":
            return to("resolved", resolved_notice, reason="no data")
        return stay() if current == "nodata" else to("nodata", reason="no data")

    if obs.condition_met:
        if current == "firing":
            last = max(state.last_notified_at or since, since)
            if rule.repeat_seconds > 0 and now - last >= timedelta(seconds=rule.repeat_seconds):
                return stay("reminder")
            return stay()
        cooled = cooled_down(state, now, rule)
        if current == "pending":
            if cooled and now - since >= timedelta(seconds=rule.for_seconds):
                return to("firing", "firing", fired=True)
            return stay()
        if rule.for_seconds <= 0 and cooled:
            return to("firing", "firing", fired=True)
        return to("pending", reason="" if cooled else "cooldown")

    if current == "firing":
        return to("resolved", resolved_notice)
    if current in ("pending", "resolved", "nodata"):
        return to("normal")
    return stay()


@dataclass(frozen=True)
class DigestStep:
    state: str
    since: datetime
    changed: bool
    send: bool = False        # send the collected matches now (as alert.firing)
    advance: bool = True      # move the cursor past what was scanned


def next_digest(state: StateSnapshot, matches: int, now: datetime, rule: RuleParams) -> DigestStep:
    """One evaluation of a mention_match rule that found `matches` new matching mentions.

    While a digest is being collected (Pending) the cursor stays at its start, so the digest
    holds every match since; it is sent `digest_wait_seconds` after the first match (later if
    the rule is cooling down). After sending the rule shows Firing until an evaluation finds
    nothing new.
    """
    current = state.state
    since = state.since or now
    wait = timedelta(seconds=int(rule.setting("digest_wait_seconds")))
    cooled = cooled_down(state, now, rule)
    if current == "pending":
        if matches == 0:
            return DigestStep("normal", now, True)
        if now - since >= wait and cooled:
            return DigestStep("firing", now, True, send=True)
        return DigestStep(current, since, False, advance=False)
    if matches == 0:
        return DigestStep("normal", now, True) if current != "normal" else DigestStep(current, since, False)
    if wait.total_seconds() <= 0 and cooled:
        return DigestStep("firing", now, current != "firing", send=True)
    return DigestStep("pending", now, True, advance=False)


def active_silence(silences, rule_id: int, monitor_id: int, now: datetime):
    """The first silence covering this rule at `now` (a rule's own, or its whole monitor's)."""
    for s in silences:
        if s.monitor_id == monitor_id and s.rule_id in (None, rule_id) and s.starts_at <= now < s.ends_at:
            return s
    return None
