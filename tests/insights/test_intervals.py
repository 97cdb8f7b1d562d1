"""Honest numbers (webapp/insights/intervals.py): intervals and tests against values worked out
by hand or with a statistics package."""
from __future__ import annotations

import math
import random

import pytest

from webapp.insights import intervals


def test_wilson_interval_matches_the_textbook_values_and_stays_inside_0_100():
    i = intervals.wilson(8, 10)
    assert (i.value, i.low, i.high) == (80.0, 49.0, 94.3) and i.small
    zero = intervals.wilson(0, 50)
    assert zero.low == 0.0 and zero.high == 7.1 and not zero.small
    assert intervals.wilson(50, 50).high == 100.0
    assert intervals.wilson(0, 0).value is None and intervals.wilson(0, 0).text(1) == ""
    assert intervals.wilson(8, 10).text(1, "%") == "95 % CI 49.0–94.3%"


def test_two_proportion_test():
    assert intervals.two_proportion_p(40, 100, 60, 100) == pytest.approx(0.00468, abs=1e-4)
    assert intervals.two_proportion_p(5, 10, 5, 10) == pytest.approx(1.0)
    assert intervals.two_proportion_p(0, 10, 0, 10) == 1.0
    assert intervals.two_proportion_p(1, 0, 1, 1) is None
    assert intervals.verdict(0.01) == "significant" and intervals.verdict(0.2) == "not significant"
    assert intervals.verdict(None) == "unknown"


def test_count_change_is_comparable_only_against_enough_mentions():
    assert not intervals.count_change_comparable(None) and not intervals.count_change_comparable(1)
    assert intervals.count_change_comparable(intervals.MIN_PREVIOUS)
    assert intervals.count_p(60, 40) == pytest.approx(0.0569, abs=1e-3)
    assert intervals.count_p(0, 0) is None


def _buckets(scores_per_bucket):
    return [{"count": len(s), "avg_compound": sum(s) / len(s) if s else None} for s in scores_per_bucket]


def test_mean_standard_error_from_bucket_sums_agrees_with_the_per_mention_one():
    rng = random.Random(7)
    scores = [[max(-1, min(1, rng.gauss(0.1, 0.4))) for _ in range(rng.randint(5, 40))] for _ in range(60)]
    flat = [x for s in scores for x in s]
    n = len(flat)
    mean = sum(flat) / n
    direct = math.sqrt(sum((x - mean) ** 2 for x in flat) / (n - 1) / n)
    got, se, total, k = intervals.mean_se(_buckets(scores))
    assert got == pytest.approx(mean) and total == n and k == 60
    assert se == pytest.approx(direct, rel=0.3)          # same quantity, estimated from 60 clusters
    ci = intervals.mean_interval(_buckets(scores))
    assert ci.low < mean < ci.high and not ci.small


def test_mean_interval_of_too_few_buckets_is_a_small_sample_without_interval():
    few = intervals.mean_interval(_buckets([[0.5, 0.1], [0.2]]))
    assert few.value == pytest.approx(0.267, abs=1e-3) and few.low is None and few.small
    assert intervals.mean_interval([]).value is None
    assert intervals.mean_interval(_buckets([[], [0.3]])).small


def test_welch_test_tells_a_real_shift_from_noise():
    rng = random.Random(3)

    def period(mu):
        return _buckets([[rng.gauss(mu, 0.3) for _ in range(20)] for _ in range(24)])
    assert intervals.welch_p(period(0.3), period(0.0)) < 0.001
    same = intervals.welch_p(period(0.1), period(0.1))
    assert same is not None and same > 0.01
    assert intervals.welch_p(period(0.1), _buckets([[0.1]])) is None


def test_share_of_voice_rows_carry_wilson_intervals():
    from webapp.insights import charts_compare

    def b(count):
        return {"start": "2024-03-01T00:00:00+00:00", "count": count, "avg_compound": 0.1 if count else None,
                "positive": count, "neutral": 0, "negative": 0}
    rows = charts_compare.totals_table([(1, "A", [b(60)]), (2, "B", [b(40)])])
    assert rows[0]["share_of_voice"] == 60.0 and rows[0]["voice_ci"] == "95 % CI 50.2–69.1%"
    assert not rows[0]["voice_small"]
    tiny = charts_compare.totals_table([(1, "A", [b(3)]), (2, "B", [b(1)])])
    assert tiny[0]["voice_small"] and tiny[0]["voice_ci"]
    none = charts_compare.totals_table([(1, "A", [b(0)])])
    assert none[0]["voice_ci"] == "" and not none[0]["voice_small"]


def test_the_plain_python_distributions_agree_with_scipy():
    """t and binomial figures without SciPy in the web process, checked against SciPy here."""
    import random

    from scipy import stats

    from webapp.insights import distributions

    rng = random.Random(7)
    for _ in range(200):
        df = rng.choice([1, 2, 3, 5, 9, 29, 30, 100, 1000]) + rng.random()
        t = rng.uniform(-8, 8)
        assert abs(distributions.t_sf(t, df) - stats.t.sf(t, df)) < 1e-9
        level = rng.choice([0.95, 0.975, 0.995])
        assert abs(distributions.t_ppf(level, df) / stats.t.ppf(level, df) - 1) < 1e-9
    for n in (1, 2, 5, 10, 33, 100, 1001, 50_000, 2_000_000):
        for k in {0, 1, n // 3, n // 2, int(n * 0.499), n - 1, n}:
            assert abs(distributions.binom_half_two_sided(k, n) - stats.binomtest(k, n, 0.5).pvalue) < 1e-9
