"""The rising-terms statistic (pure): sound on small counts, symmetric, zero without history."""
from __future__ import annotations

import pytest

from webapp.insights.terms import rising


def test_small_counts_never_outrank_a_large_real_rise():
    counts = {"fluke": (3, 0), "outage": (200, 50), "steady": (500, 500)}
    ranked = [t for t, _ in rising.top_rising(counts, n_cur=20_000, n_prev=20_000, limit=10)]
    assert ranked[0] == "outage"
    assert "steady" not in ranked
    scores = rising.rising_scores(counts, 20_000, 20_000)
    assert scores["outage"] > 3 * scores["fluke"] > 0


def test_a_raw_ratio_would_rank_differently():
    counts = {"a": (6, 1), "b": (120, 60)}
    z = rising.rising_scores(counts, 5_000, 5_000)
    assert 6 / 1 > 120 / 60 and z["b"] > z["a"]


def test_unchanged_share_is_about_zero_and_falling_terms_are_negative():
    z = rising.rising_scores({"same": (100, 50), "down": (10, 80)}, n_cur=2_000, n_prev=1_000)
    assert abs(z["same"]) < 0.01
    assert z["down"] < -3


def test_no_previous_period_means_nothing_rises():
    assert rising.rising_scores({"x": (50, 0)}, 1_000, 0) == {"x": 0.0}
    assert rising.top_rising({"x": (50, 0)}, 1_000, 0, 5) == []


def test_below_the_minimum_count_is_never_listed_and_limit_holds():
    counts = {f"t{i}": (rising.MIN_COUNT + i, 0) for i in range(10)} | {"tiny": (rising.MIN_COUNT - 1, 0)}
    top = rising.top_rising(counts, 1_000, 1_000, limit=3)
    assert [t for t, _ in top] == ["t9", "t8", "t7"]


@pytest.mark.parametrize("y_cur, y_prev, n_cur, n_prev", [
    (0, 0, 0, 0), (5, 0, 5, 1), (1, 1, 1, 1), (10**9, 0, 10**9, 10**9), (0, 7, 10, 7)])
def test_degenerate_counts_give_finite_scores(y_cur, y_prev, n_cur, n_prev):
    import math

    assert math.isfinite(rising.log_odds_z(y_cur, y_prev, n_cur, n_prev))
