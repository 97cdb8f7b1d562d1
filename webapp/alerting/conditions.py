"""Whether a rule's condition holds for one window (pure): a lookup of the rule's kind.

`evaluate(rule, stats, baseline)` returns an `Observation`: the value the rule looks at, the
threshold it is compared with, and `condition_met` (True / False, or None for "no data": fewer
mentions than the rule's minimum, or no baseline yet). "No data" is never an alert. Each kind's
own `observe` (webapp/alerting/kinds/<kind>.py) decides; mention_match rules are digests, see
state.next_digest.
"""
from __future__ import annotations

from webapp.alerting.baseline import Baseline
from webapp.alerting.kinds import get_kind
from webapp.alerting.kinds.base import OPS, Observation, RuleParams, compare
from webapp.alerting.windows import WindowStats

__all__ = ["OPS", "Observation", "RuleParams", "compare", "evaluate"]


def evaluate(rule: RuleParams, stats: WindowStats, baseline: Baseline | None = None) -> Observation:
    """The rule's observation of one window, as its kind sees it."""
    return get_kind(rule.kind).observe(rule, stats, baseline)
