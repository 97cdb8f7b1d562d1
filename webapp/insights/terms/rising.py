"""Which terms rose unusually: weighted log-odds with an informative Dirichlet prior (pure).

Monroe, Colaresi and Quinn (2008), "Fightin' Words", section 3.5. For a term w with y_c
mentions among the n_c term counts of the current period and y_p among n_p of the previous one,
and a prior a_w = a_0 * (y_c + y_p) / (n_c + n_p) from the pooled counts of both periods, whose
weight a_0 is PRIOR_WEIGHT times their size (the prior counts as a tenth of the data):

    delta = log((y_c + a_w) / (n_c + a_0 - y_c - a_w)) - log((y_p + a_w) / (n_p + a_0 - y_p - a_w))
    var   ~ 1 / (y_c + a_w) + 1 / (y_p + a_w)
    z     = delta / sqrt(var)

z is "how many standard errors the term's share grew". Small counts carry a large variance, so
a term going 0 -> 3 scores far below one going 50 -> 200 (a raw ratio would rank it first), and
a term that only keeps its share scores about 0. With no previous period at all nothing rises
(z = 0 for every term): there is nothing to compare with.
"""
from __future__ import annotations

import math

PRIOR_WEIGHT = 0.1
MIN_COUNT = 3            # a term needs this many mentions in the current period to rank as rising
_FLOOR = 0.5             # keeps the odds' denominators positive when one term is nearly everything


def log_odds_z(y_cur: int, y_prev: int, n_cur: int, n_prev: int) -> float:
    """The z-score of the term's change of share between the previous and the current period."""
    if y_cur + y_prev <= 0:
        return 0.0
    a0 = PRIOR_WEIGHT * float(n_cur + n_prev)
    alpha = PRIOR_WEIGHT * float(y_cur + y_prev)
    cur = (y_cur + alpha) / max(n_cur + a0 - y_cur - alpha, _FLOOR)
    prev = (y_prev + alpha) / max(n_prev + a0 - y_prev - alpha, _FLOOR)
    delta = math.log(cur) - math.log(prev)
    return delta / math.sqrt(1.0 / (y_cur + alpha) + 1.0 / (y_prev + alpha))


def rising_scores(counts: dict[str, tuple[int, int]], n_cur: int, n_prev: int) -> dict[str, float]:
    """term -> z for `counts` (term -> (current, previous)); n_* are the periods' totals of term
    counts (all terms, not only these). With no previous period every z is 0."""
    if n_prev <= 0:
        return {term: 0.0 for term in counts}
    return {term: log_odds_z(c, p, n_cur, n_prev) for term, (c, p) in counts.items()}


def top_rising(counts: dict[str, tuple[int, int]], n_cur: int, n_prev: int, limit: int) -> list[tuple[str, float]]:
    """The `limit` terms that rose most (z > 0, at least MIN_COUNT current mentions), highest z
    first; ties by the current count, then the term."""
    scores = rising_scores(counts, n_cur, n_prev)
    ranked = sorted(((t, z) for t, z in scores.items() if z > 0 and counts[t][0] >= MIN_COUNT),
                    key=lambda tz: (-tz[1], -counts[tz[0]][0], tz[0]))
    return ranked[:limit]
