"""The common part of threshold kinds: one figure of the window compared with a threshold.

A threshold kind declares `op` and `threshold` (both stored in the rule's columns), shows the
common `min_mentions` field, and says which figure of the window it reads (`value`), the
range its threshold must lie in and its default comparison. Fewer mentions than the rule's
minimum is "no data", never an alert.
"""
from __future__ import annotations

from webapp.alerting.kinds.base import (
    OP_LABELS, KindField, Observation, RuleKind, RuleParams, compare, finite_between, number, window_details,
)
from webapp.alerting.windows import WindowStats

OP_CHOICES = tuple(OP_LABELS.items())


class ThresholdKind(RuleKind):
    """A window figure (`value`) compared with `threshold` by `op` (default `default_op`)."""

    threshold_range: tuple[float, float] = (0.0, 0.0)
    threshold_help: str = ""
    unit: str = ""                       # after the threshold in default names ("%")
    shows = ("min_mentions",)

    @property
    def fields(self) -> tuple[KindField, ...]:
        return (KindField("op", "Comparison", "choice", choices=OP_CHOICES, column=True,
                          help=f"{self.title}: {OP_LABELS[self.default_op]} when not given."),
                KindField("threshold", "Threshold", "float", required=True, column=True,
                          help=f"{self.title}: {self.threshold_help}."))

    def value(self, stats: WindowStats) -> float:
        raise NotImplementedError

    def check_values(self, spec) -> dict[str, str]:
        low, high = self.threshold_range
        if spec.threshold is not None and not finite_between(spec.threshold, low, high):
            return {"threshold": f"the threshold must be from {low:g} to {high:g}"}
        return {}

    def default_name(self, spec, op: str | None) -> str:
        return f"{self.title} {op} {spec.threshold:g}{self.unit} over {spec.window}"

    def observe(self, params: RuleParams, stats: WindowStats, baseline=None) -> Observation:
        details = window_details(stats)
        # Sentiment figures count scored mentions only (unscored languages are volume only).
        if stats.scored == 0 or stats.scored < params.min_mentions:
            return Observation(None, None, params.threshold, {**details, "reason": "too few mentions"})
        value = round(self.value(stats), 4)
        return Observation(value, compare(value, params.op or self.default_op, params.threshold),
                           params.threshold, details)

    def describe(self, params: RuleParams) -> str:
        return (f"{params.op} {number(params.threshold)} over {params.window}, "
                f"≥ {params.min_mentions} mentions")
