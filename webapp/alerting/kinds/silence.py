"""silence: no mention at all for the whole window, on a monitor that has had mentions before.

A window kind (closed 15-minute buckets over rollups, replayed by backtests): the value is the
window's mention count and the condition is a count of zero. A monitor whose first mention is
later than the window's start is "no data", not silence, so a new monitor does not alert.
"""
from __future__ import annotations

from webapp.alerting.kinds.base import Observation, RuleKind, RuleParams, window_details
from webapp.alerting.windows import WindowStats

WINDOW_WORDS = {"15m": "15 minutes", "1h": "an hour", "6h": "6 hours", "24h": "a day"}


class Silence(RuleKind):
    name = "silence"
    label = "No mentions for the window (silence)"
    title = "Silence"
    legend = "No mention for the whole window (the monitor or its sources may have stopped)"

    def baseline(self, series, end, length):
        """When the monitor's data began (None: it has none yet)."""
        return series.history_start

    def observe(self, params: RuleParams, stats: WindowStats, baseline=None) -> Observation:
        details = window_details(stats)
        if baseline is None or baseline > stats.start:
            return Observation(float(stats.count), None, None, {**details, "reason": "no mentions before the window"})
        return Observation(float(stats.count), stats.count == 0, None, details)

    def default_name(self, spec, op: str | None) -> str:
        return f"No mentions for {WINDOW_WORDS.get(spec.window, spec.window)}"

    def condition(self, rule) -> dict:
        return {"op": None, "window": rule.window}

    def describe(self, params: RuleParams) -> str:
        return f"no mention for {WINDOW_WORDS.get(params.window, params.window)}"

