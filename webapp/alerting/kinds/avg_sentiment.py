"""avg_sentiment: the window's average compound score compared with a threshold from −1 to 1."""
from __future__ import annotations

from webapp.alerting.kinds.base import RuleParams
from webapp.alerting.kinds.threshold import ThresholdKind
from webapp.alerting.windows import WindowStats


class AvgSentiment(ThresholdKind):
    name = "avg_sentiment"
    label = "Average sentiment"
    title = "Average sentiment"
    default_op = "<"
    threshold_range = (-1.0, 1.0)
    threshold_help = "−1 to 1"

    def value(self, stats: WindowStats) -> float:
        return stats.avg_compound

    def samples(self, params: RuleParams) -> tuple[str | None, str]:
        """The mentions that pulled the average the way the rule watches."""
        return None, "lowest" if params.op in ("<", "<=") else "highest"
