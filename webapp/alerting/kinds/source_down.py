"""source_down: one of the monitor's sources has been failing for at least `for_seconds`.

Read from the fetch records (webapp/monitors/services/health.py: a failure runs from the first
failed fetch to the next successful one). Evaluated every minute (`mode = "health"`); the value
is the longest current failure in seconds, the threshold the rule's `for_seconds`. Because the
failure's own start counts, the state machine gets no extra pending time (`state_params`). The
details name each failing source, since when and its last error, for the notification.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from webapp.alerting.kinds.base import Observation, RuleKind, RuleParams


def failing(gaps, at: datetime, until: datetime) -> list[tuple[object, float]]:
    """(gap, seconds failing at `at`) of the gaps that cover `at`; a gap ending at `until` is ongoing."""
    found = []
    for gap in gaps:
        if gap.start <= at and (at < gap.end or gap.end >= until):
            found.append((gap, (at - gap.start).total_seconds()))
    return found


def _minutes(seconds: int) -> str:
    return f"{seconds // 60} min" if seconds % 3600 else f"{seconds // 3600} h"


class SourceDown(RuleKind):
    name = "source_down"
    label = "A source is failing (source down)"
    title = "Source down"
    legend = "A source failing (its fetches fail) for the “Pending for” time"
    mode = "health"

    def state_params(self, params: RuleParams) -> RuleParams:
        """The failure's duration already holds `for_seconds`: no second wait in Pending."""
        return replace(params, for_seconds=0)

    def observe_health(self, params: RuleParams, gaps, at: datetime, until: datetime,
                       names: dict[int, str]) -> Observation:
        """The observation at `at` from a monitor's failure periods (`names`: enabled sources only)."""
        now_failing = [(g, s) for g, s in failing(gaps, at, until) if g.source_id in names]
        longest = max((s for _, s in now_failing), default=0.0)
        sources = [{"id": g.source_id, "name": names[g.source_id], "failing_since": g.start.isoformat(),
                    "seconds": round(s), "error": (g.reason or "")[:300]}
                   for g, s in sorted(now_failing, key=lambda pair: -pair[1])][:10]
        met = bool(now_failing) and longest >= params.for_seconds
        return Observation(round(longest, 1), met, float(params.for_seconds), {"sources": sources})

    def default_name(self, spec, op: str | None) -> str:
        return f"A source failing for {_minutes(spec.for_seconds)}" if spec.for_seconds else "A source failing"

    def condition(self, rule) -> dict:
        return {"op": ">=", "window": None}

    def describe(self, params: RuleParams) -> str:
        return f"a source failing for ≥ {_minutes(params.for_seconds)}"
