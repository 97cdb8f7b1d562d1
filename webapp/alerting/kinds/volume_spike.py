"""volume_spike: the window's mention count against a robust baseline of the same hour of the week.

It fires when the count passes all three tests: a robust z-score of at least `z`, at least
`ratio` times the baseline median, and at least `min_count` mentions. Without enough history
for a baseline the observation is "no data".
"""
from __future__ import annotations

import math

from webapp.alerting import baseline as baselines
from webapp.alerting.baseline import Baseline
from webapp.alerting.kinds.base import KindField, Observation, RuleKind, RuleParams, number, window_details
from webapp.alerting.windows import WindowStats


def volume_threshold(rule: RuleParams, baseline: Baseline) -> float:
    """The smallest count that passes all three tests: robust z, ratio to the median, minimum count."""
    by_z = baseline.median + float(rule.setting("z")) * baseline.mad / 0.6745
    by_ratio = float(rule.setting("ratio")) * baseline.median
    return round(max(by_z, by_ratio, float(rule.setting("min_count"))), 4)


class VolumeSpike(RuleKind):
    name = "volume_spike"
    label = "Volume spike"
    title = "Volume spike"
    legend = "Volume spike (against the same hour of the week over the past 4 weeks)"
    explains = True
    fields = (
        KindField("z", "Robust z-score at least", "float", default=3.5, limits=(("gt", 0), ("le", 100)),
                  help="The window's robust z-score against the baseline must be at least this."),
        KindField("ratio", "Times the baseline at least", "float", default=2.0, limits=(("ge", 1), ("le", 1000)),
                  help="The count must be at least this many times the baseline median."),
        KindField("min_count", "Mentions at least", "int", default=10, limits=(("ge", 1), ("le", 1_000_000_000)),
                  help="The count must be at least this."),
    )

    def refusal(self, names: list[str]) -> str:
        own = self.field_names()
        return f"{super().refusal(names)} (it uses {', '.join(own[:-1])} and {own[-1]})"

    def reach(self, params: RuleParams):
        return params.length + baselines.SPAN

    def reads(self, params: RuleParams, end, history_start):
        return baselines.reads(end, params.length, history_start)

    def baseline(self, series, end, length):
        return baselines.baseline_for(series, end, length)

    def observe(self, params: RuleParams, stats: WindowStats, baseline: Baseline | None = None) -> Observation:
        details = window_details(stats)
        if baseline is None:
            return Observation(float(stats.count), None, None, {**details, "reason": "not enough history"})
        threshold = volume_threshold(params, baseline)
        count = stats.count
        z = baseline.z(count)
        ratio = count / baseline.median if baseline.median else (math.inf if count else 0.0)
        met = (z >= float(params.setting("z")) and ratio >= float(params.setting("ratio"))
               and count >= int(params.setting("min_count")))
        return Observation(float(count), met, threshold, {
            **details, "baseline": baseline.as_dict(), "z": round(z, 3),
            "ratio": round(ratio, 3) if math.isfinite(ratio) else None})

    def condition(self, rule) -> dict:
        return {"op": ">=", "window": rule.window}

    def describe(self, params: RuleParams) -> str:
        return (f"over {params.window}: z ≥ {number(params.setting('z'))}, × {number(params.setting('ratio'))}, "
                f"≥ {number(params.setting('min_count'))}")
