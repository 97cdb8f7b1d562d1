"""Influence and mixed sentiment: pure functions over a mention's or an author's figures.

Influence (0-10) grows with the log of reach plus engagement, engagement weighted three times
(an interaction is worth more than a passive follower):

    influence = min(10, 10 * log10(1 + reach + 3 * engagement) / 7)

so 0 for nobody, ~4.3 for 1,000 followers, ~7.1 for 100,000, 10 from 10 million. Missing
figures count as zero; negative ones are refused where they come in.

A mention is *mixed* when both its positive and its negative parts are substantial:
`pos >= 0.2 and neg >= 0.2` (VADER's proportions; a trained model's class probabilities).
"""
from __future__ import annotations

import math

ENGAGEMENT_WEIGHT = 3
DECADES = 7  # 10 ** 7 reach is the top of the scale
MIXED_AT = 0.2


def influence(reach: int | None, engagement: int | None = None) -> float:
    """The 0-10 influence of `reach` and `engagement` (None counts as 0), one decimal."""
    total = max(0, reach or 0) + ENGAGEMENT_WEIGHT * max(0, engagement or 0)
    return round(min(10.0, 10.0 * math.log10(1 + total) / DECADES), 1)


def is_mixed(pos: float | None, neg: float | None) -> bool:
    """Whether a score's positive and negative parts are both substantial (>= MIXED_AT)."""
    return pos is not None and neg is not None and pos >= MIXED_AT and neg >= MIXED_AT
