"""Backtest: replay a rule (saved or not) over the stored data of the past 30 days.

How a rule is replayed follows its kind's `mode` (the `REPLAYS` and `TRACES` tables): window
kinds slot by slot over the 15-minute rollups with the same pure functions live evaluation uses
(the kind's reach, baseline and observe, then next_state), so the chart shows exactly when the
rule would have fired and resolved; digest kinds over the matching mentions' publication times,
grouped into digests as the live rule would send them.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import plotly.graph_objects as go
from sqlalchemy import select

from webapp.ingest.models import Mention
from webapp.alerting.evaluation import source_failures
from webapp.alerting.kinds import RuleParams, get_kind
from webapp.alerting.state import StateSnapshot, cooled_down, next_state
from webapp.alerting.windows import STEP, BucketSeries, floor_step, load_series, slot_end, window_slot

SPAN = timedelta(days=30)
MAX_MENTIONS = 50_000
COLORS = {"value": "#3f6fd8", "threshold": "#8a94a6", "firing": "#d64545", "resolved": "#2e9d5b"}


@dataclass
class Backtest:
    kind: str
    start: datetime
    end: datetime
    times: list[datetime] = field(default_factory=list)
    values: list[float | None] = field(default_factory=list)
    thresholds: list[float | None] = field(default_factory=list)
    states: list[str] = field(default_factory=list)
    firings: list[list] = field(default_factory=list)     # [fired_at, resolved_at or None]
    notifications: int = 0
    nodata: int = 0
    digest_sizes: list[int] = field(default_factory=list)

    def summary(self) -> dict:
        resolved = sum(1 for _, end in self.firings if end is not None)
        firing_time = sum(((end or self.end) - start).total_seconds() for start, end in self.firings)
        return {"fired": len(self.firings), "resolved": resolved, "notifications": self.notifications,
                "hours_firing": round(firing_time / 3600, 2), "evaluations": len(self.times),
                "nodata": self.nodata, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "firings": [[a.isoformat(), b.isoformat() if b else None] for a, b in self.firings]}


def _track(result: Backtest, state: StateSnapshot, step, obs, t: datetime) -> None:
    """Record one replayed evaluation: its point, and where a firing starts or ends."""
    if step.fired:
        result.firings.append([t, None])
    elif state.state == "firing" and step.state != "firing" and result.firings:
        result.firings[-1][1] = t
    if step.notify:
        result.notifications += 1
    result.nodata += obs.condition_met is None
    result.times.append(t)
    result.values.append(obs.value)
    result.thresholds.append(obs.threshold)
    result.states.append(step.state)


def replay_steps(params: RuleParams, start: datetime, end: datetime, observe_at,
                 lag_seconds: int = 0) -> Backtest:
    """Evaluate a rule at every 15-minute step t in (start, end] with the observation
    `observe_at(t)` and the live state machine, as if evaluated `lag_seconds` after t (pure)."""
    result = Backtest(params.kind, start, end)
    rule = get_kind(params.kind).state_params(params)
    state = StateSnapshot("normal", start)
    lag = timedelta(seconds=lag_seconds)
    t = floor_step(start) + STEP
    while t <= end:
        obs = observe_at(t)
        now = t + lag
        step = next_state(state, obs, now, rule)
        _track(result, state, step, obs, t)
        state = StateSnapshot(step.state, step.since, now if step.fired else state.last_fired_at,
                              now if step.notify else state.last_notified_at)
        t += STEP
    return result


def replay(params: RuleParams, series: BucketSeries, start: datetime, end: datetime,
           lag_seconds: int = 0) -> Backtest:
    """Evaluate a window rule at every 15-minute slot end in (start, end] (pure)."""
    kind = get_kind(params.kind)
    return replay_steps(params, start, end, lambda t: kind.observe(
        params, series.window(t, params.length), kind.baseline(series, t, params.length)), lag_seconds)


def replay_digests(params: RuleParams, match_times: list[datetime], start: datetime, end: datetime) -> Backtest:
    """Group sorted match times into digests: sent `digest_wait_seconds` after the first match
    (or when the cooldown allows), each holding every match until it is sent (pure)."""
    result = Backtest(params.kind, start, end)
    wait = timedelta(seconds=int(params.setting("digest_wait_seconds")))
    state = StateSnapshot("normal", start)
    i = 0
    while i < len(match_times):
        first = match_times[i]
        send_at = first + wait
        if not cooled_down(state, send_at, params):
            send_at = state.last_fired_at + timedelta(seconds=params.cooldown_seconds)
        if send_at > end:
            break
        size = 0
        while i < len(match_times) and match_times[i] <= send_at:
            i, size = i + 1, size + 1
        result.firings.append([send_at, None])
        result.digest_sizes.append(size)
        result.notifications += 1
        state = StateSnapshot("firing", send_at, send_at, send_at)
    hour = timedelta(hours=1)
    t = start.replace(minute=0, second=0, microsecond=0)
    counts: dict[datetime, int] = {}
    for ts in match_times:
        key = ts.replace(minute=0, second=0, microsecond=0)
        counts[key] = counts.get(key, 0) + 1
    while t < end:
        result.times.append(t)
        result.values.append(float(counts.get(t, 0)))
        result.thresholds.append(None)
        result.states.append("")
        t += hour
    return result


def _replay_windows(session, monitor_id: int, params: RuleParams, start: datetime, end: datetime,
                    lag_seconds: int) -> Backtest:
    series = load_series(session, monitor_id, start - get_kind(params.kind).reach(params), end)
    return replay(params, series, start, end, lag_seconds)


def _replay_digests(session, monitor_id: int, params: RuleParams, start: datetime, end: datetime,
                    _lag_seconds: int) -> Backtest:
    matches = get_kind(params.kind).matcher(params)
    rows = session.execute(
        select(Mention.published_at, Mention.text).where(
            Mention.monitor_id == monitor_id, Mention.muted.is_(False),
            Mention.published_at >= start, Mention.published_at < end)
        .order_by(Mention.published_at.desc()).limit(MAX_MENTIONS)).all()
    return replay_digests(params, sorted(ts for ts, text in rows if matches(text)), start, end)


def replay_health(params: RuleParams, gaps, names: dict[int, str], start: datetime, end: datetime) -> Backtest:
    """Evaluate a health rule (source_down) at every 15-minute step in (start, end] (pure)."""
    kind = get_kind(params.kind)
    return replay_steps(params, start, end, lambda t: kind.observe_health(params, gaps, t, end, names))


def _replay_health(session, monitor_id: int, params: RuleParams, start: datetime, end: datetime,
                   _lag_seconds: int) -> Backtest:
    gaps, names = source_failures(session, monitor_id, start, end)
    return replay_health(params, gaps, names, start, end)


REPLAYS = {"window": _replay_windows, "digest": _replay_digests, "health": _replay_health}


def run_backtest(session, monitor_id: int, params: RuleParams, now: datetime, lag_seconds: int = 120) -> Backtest:
    """Replay `params` over the monitor's past 30 days, ending at the last evaluated slot."""
    end = slot_end(window_slot(now, lag_seconds))
    return REPLAYS[get_kind(params.kind).mode](session, monitor_id, params, end - SPAN, end, lag_seconds)


def _plain(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


def _digest_traces(fig: go.Figure, result: Backtest, x: list[str]) -> None:
    """Matching mentions per hour, and a marker where each digest would have been sent."""
    fig.add_trace(go.Bar(x=x, y=result.values, name="matching mentions per hour", marker_color=COLORS["value"]))
    sent = [a.isoformat() for a, _ in result.firings]
    fig.add_trace(go.Scatter(x=sent, y=result.digest_sizes, mode="markers", name="digest sent",
                             marker=dict(color=COLORS["firing"], size=10, symbol="triangle-up")))


def _window_traces(fig: go.Figure, result: Backtest, x: list[str]) -> None:
    """The value and threshold lines, markers where it would fire and resolve, shaded firings."""
    fig.add_trace(go.Scatter(x=x, y=result.values, mode="lines", name="value", connectgaps=False,
                             line=dict(color=COLORS["value"], width=1.5)))
    fig.add_trace(go.Scatter(x=x, y=result.thresholds, mode="lines", name="threshold", connectgaps=False,
                             line=dict(color=COLORS["threshold"], dash="dash", width=1)))
    value_at = dict(zip(result.times, result.values))
    fired = [a for a, _ in result.firings]
    resolved = [b for _, b in result.firings if b is not None]
    fig.add_trace(go.Scatter(x=[t.isoformat() for t in fired], y=[value_at.get(t) for t in fired],
                             mode="markers", name="would fire",
                             marker=dict(color=COLORS["firing"], size=10, symbol="triangle-up")))
    fig.add_trace(go.Scatter(x=[t.isoformat() for t in resolved], y=[value_at.get(t) for t in resolved],
                             mode="markers", name="would resolve",
                             marker=dict(color=COLORS["resolved"], size=9, symbol="circle")))
    for a, b in result.firings:
        fig.add_vrect(x0=a.isoformat(), x1=(b or result.end).isoformat(), fillcolor=COLORS["firing"],
                      opacity=0.12, line_width=0, layer="below")


TRACES = {"window": _window_traces, "digest": _digest_traces, "health": _window_traces}


def figure(result: Backtest, title: str = "Backtest: the past 30 days") -> dict:
    """A Plotly figure: the rule's value, its threshold, and shaded spans where it was firing."""
    fig = go.Figure()
    TRACES[get_kind(result.kind).mode](fig, result, [t.isoformat() for t in result.times])
    fig.update_layout(title=title, margin=dict(l=48, r=16, t=36, b=36), height=340, template="plotly_white",
                      hovermode="x unified", legend=dict(orientation="h", y=-0.2))
    return _plain(fig)
