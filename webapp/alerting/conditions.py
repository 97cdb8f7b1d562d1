"""Whether a rule's condition holds for one window (pure).

`evaluate(rule, stats, baseline)` returns an `Observation`: the value the rule looks at, the
threshold it is compared with, and `condition_met` (True / False, or None for "no data": fewer
mentions than the rule's minimum, or no baseline yet). "No data" is never an alert.
"""
from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from datetime import timedelta

from webapp.alerting.baseline import Baseline
from webapp.alerting.windows import WINDOWS, WindowStats

OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}
DEFAULT_OP = {"avg_sentiment": "<", "negative_share": ">="}
VOLUME_DEFAULTS = {"z": 3.5, "ratio": 2.0, "min_count": 10}
DIGEST_DEFAULTS = {"digest_wait_seconds": 300, "digest_cap": 5}


@dataclass(frozen=True)
class RuleParams:
    """What the pure functions need to know about a rule (from a saved Rule or an unsaved spec)."""

    kind: str
    window: str = "1h"
    op: str | None = None
    threshold: float | None = None
    min_mentions: int = 0
    for_seconds: int = 0
    cooldown_seconds: int = 0
    repeat_seconds: int = 0
    settings: dict = field(default_factory=dict)

    @classmethod
    def of(cls, rule) -> "RuleParams":
        return cls(kind=rule.kind, window=rule.window, op=rule.op, threshold=rule.threshold,
                   min_mentions=rule.min_mentions or 0, for_seconds=rule.for_seconds or 0,
                   cooldown_seconds=rule.cooldown_seconds or 0, repeat_seconds=rule.repeat_seconds or 0,
                   settings=dict(rule.settings or {}))

    @property
    def length(self) -> timedelta:
        return WINDOWS[self.window]

    def setting(self, name: str):
        defaults = {**VOLUME_DEFAULTS, **DIGEST_DEFAULTS}
        value = self.settings.get(name)
        return defaults.get(name) if value is None else value


@dataclass(frozen=True)
class Observation:
    value: float | None
    condition_met: bool | None
    threshold: float | None = None
    details: dict = field(default_factory=dict)


def compare(value: float, op: str, threshold: float) -> bool:
    return OPS[op](value, threshold)


def evaluate(rule: RuleParams, stats: WindowStats, baseline: Baseline | None = None) -> Observation:
    """The rule's observation of one window (mention_match rules are digests, see state.next_digest)."""
    details = {"count": stats.count, "window_start": stats.start.isoformat(),
               "window_end": stats.end.isoformat()}
    if rule.kind == "volume_spike":
        return _volume_spike(rule, stats, baseline, details)
    if rule.kind not in DEFAULT_OP:
        raise ValueError(f"evaluate() does not handle {rule.kind!r} rules")
    op = rule.op or DEFAULT_OP[rule.kind]
    if stats.count == 0 or stats.count < rule.min_mentions:
        return Observation(None, None, rule.threshold, {**details, "reason": "too few mentions"})
    value = stats.avg_compound if rule.kind == "avg_sentiment" else stats.negative_share
    value = round(value, 4)
    return Observation(value, compare(value, op, rule.threshold), rule.threshold, details)


def volume_threshold(rule: RuleParams, baseline: Baseline) -> float:
    """The smallest count that passes all three tests: robust z, ratio to the median, minimum count."""
    by_z = baseline.median + float(rule.setting("z")) * baseline.mad / 0.6745
    by_ratio = float(rule.setting("ratio")) * baseline.median
    return round(max(by_z, by_ratio, float(rule.setting("min_count"))), 4)


def _volume_spike(rule: RuleParams, stats: WindowStats, baseline: Baseline | None,
                  details: dict) -> Observation:
    if baseline is None:
        return Observation(float(stats.count), None, None, {**details, "reason": "not enough history"})
    threshold = volume_threshold(rule, baseline)
    count = stats.count
    z = baseline.z(count)
    ratio = count / baseline.median if baseline.median else (math.inf if count else 0.0)
    met = (z >= float(rule.setting("z")) and ratio >= float(rule.setting("ratio"))
           and count >= int(rule.setting("min_count")))
    return Observation(float(count), met, threshold, {
        **details, "baseline": baseline.as_dict(), "z": round(z, 3),
        "ratio": round(ratio, 3) if math.isfinite(ratio) else None})
