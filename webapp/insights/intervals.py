"""Honest numbers: 95 % intervals for the headline figures and tests of their change (pure).

- A share (positive, negative, share of voice) gets the Wilson score interval, which stays inside
  [0, 100] % and is sound for small counts and shares near 0 or 100 %.
- The average sentiment gets a t interval. Rollups keep per-bucket sums, not single scores, so its
  standard error is the cluster-robust one of a ratio estimator with the buckets as clusters:
  SE² = k/(k−1) · Σ nᵢ²(x̄ᵢ − x̄)² / N² over the k buckets with mentions (nᵢ mentions, average
  x̄ᵢ), with k − 1 degrees of freedom. It needs no per-mention data and includes the spread
  inside buckets (a bucket's sum deviates from nᵢ·x̄ by it).
- A change of a share is tested with the two-proportion z test (pooled), a change of the average
  with Welch's t test (Welch–Satterthwaite degrees of freedom); "significant" means p < 0.05.
- A percentage change of a count is only shown when the previous period had at least
  MIN_PREVIOUS mentions; otherwise the change is "not comparable" (never +105300 %).
- Fewer than MIN_SAMPLE mentions (or MIN_CLUSTERS buckets with mentions, for the average) is a
  small sample: the figure is shown with its interval and says so.

docs/insights-numbers.md gives the same formulas for readers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from webapp.insights import distributions

Z95 = 1.959963984540054
ALPHA = 0.05
MIN_SAMPLE = 30       # mentions below which a share or an average is a small sample
MIN_CLUSTERS = 5      # buckets with mentions below which the average's interval is not given
MIN_PREVIOUS = 20     # previous-period mentions below which a percentage change is not comparable


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95 % interval; `small` when the sample is too small to lean on."""

    value: float | None
    low: float | None
    high: float | None
    n: int
    small: bool

    def text(self, digits: int, unit: str = "") -> str:
        if self.low is None or self.high is None:
            return ""
        return f"95 % CI {self.low:.{digits}f}–{self.high:.{digits}f}{unit}"


def wilson(k: int, n: int, z: float = Z95) -> Interval:
    """The share k/n in percent with its Wilson score interval (in percent)."""
    if n <= 0:
        return Interval(None, None, None, 0, True)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(round(100 * p, 1), round(100 * max(0.0, centre - half), 1),
                    round(100 * min(1.0, centre + half), 1), n, n < MIN_SAMPLE)


def _clusters(buckets: list[dict]) -> list[tuple[int, float]]:
    return [(b["count"], b["avg_compound"]) for b in buckets
            if b.get("count") and b.get("avg_compound") is not None]


def mean_se(buckets: list[dict]) -> tuple[float | None, float | None, int, int]:
    """(mention-weighted average, its cluster-robust standard error, mentions, buckets with
    mentions) over rollup buckets; the error is None with fewer than two such buckets."""
    parts = _clusters(buckets)
    total = sum(n for n, _ in parts)
    if not total:
        return None, None, 0, 0
    mean = sum(n * x for n, x in parts) / total
    k = len(parts)
    if k < 2:
        return mean, None, total, k
    spread = sum((n * (x - mean)) ** 2 for n, x in parts)
    return mean, math.sqrt(k / (k - 1) * spread) / total, total, k


def t_quantile(df: float, level: float = 1 - ALPHA / 2) -> float:
    return distributions.t_ppf(level, df)


def mean_interval(buckets: list[dict]) -> Interval:
    """The average sentiment over `buckets` with its t interval (clipped to [−1, 1])."""
    mean, se, n, k = mean_se(buckets)
    if mean is None:
        return Interval(None, None, None, 0, True)
    small = n < MIN_SAMPLE or k < MIN_CLUSTERS
    if se is None or k < MIN_CLUSTERS:
        return Interval(round(mean, 3), None, None, n, True)
    half = t_quantile(k - 1) * se
    return Interval(round(mean, 3), round(max(-1.0, mean - half), 3), round(min(1.0, mean + half), 3),
                    n, small)


def two_proportion_p(k1: int, n1: int, k0: int, n0: int) -> float | None:
    """Two-sided p value of the pooled two-proportion z test (None without data on a side)."""
    if n1 <= 0 or n0 <= 0:
        return None
    pooled = (k1 + k0) / (n1 + n0)
    var = pooled * (1 - pooled) * (1 / n1 + 1 / n0)
    if var <= 0:
        return 1.0
    z = (k1 / n1 - k0 / n0) / math.sqrt(var)
    return math.erfc(abs(z) / math.sqrt(2))


def welch_p(now: list[dict], before: list[dict]) -> float | None:
    """Two-sided p value of Welch's t test between the averages of two bucket lists."""
    m1, se1, _, k1 = mean_se(now)
    m0, se0, _, k0 = mean_se(before)
    if se1 is None or se0 is None or k1 < MIN_CLUSTERS or k0 < MIN_CLUSTERS:
        return None
    var = se1 ** 2 + se0 ** 2
    if var <= 0:
        return 1.0 if m1 == m0 else 0.0
    df = var ** 2 / (se1 ** 4 / (k1 - 1) + se0 ** 4 / (k0 - 1))
    return min(1.0, 2 * distributions.t_sf(abs(m1 - m0) / math.sqrt(var), df))


def verdict(p: float | None) -> str:
    """"significant", "not significant" or "unknown" (too little data to test) for a p value."""
    if p is None:
        return "unknown"
    return "significant" if p < ALPHA else "not significant"


def count_change_comparable(before: int | None) -> bool:
    """Whether a percentage change against `before` mentions means anything."""
    return before is not None and before >= MIN_PREVIOUS


def count_p(now: int, before: int) -> float | None:
    """Two-sided p value that two equally long periods have the same mention rate (the exact
    conditional test: `now` out of `now + before` against one half)."""
    if now + before <= 0:
        return None
    return distributions.binom_half_two_sided(now, now + before)
