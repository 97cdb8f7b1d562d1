"""negative_share: the percentage of negative mentions in the window compared with a threshold."""
from __future__ import annotations

from webapp.alerting.kinds.base import RuleParams
from webapp.alerting.kinds.threshold import ThresholdKind
from webapp.alerting.windows import WindowStats


class NegativeShare(ThresholdKind):
    name = "negative_share"
    label = "Share of negative mentions (%)"
    title = "Negative share"
    default_op = ">="
    threshold_range = (0.0, 100.0)
    threshold_help = "percent, 0 to 100"
    unit = "%"

    def value(self, stats: WindowStats) -> float:
        return stats.negative_share

    def samples(self, params: RuleParams) -> tuple[str | None, str]:
        """The most negative of the negative mentions."""
        return "negative", "lowest"
