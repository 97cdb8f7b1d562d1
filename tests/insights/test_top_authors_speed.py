"""Top authors from bounded candidates (insights/audience.py): the same answer as grouping every
row, on SQLite and PostgreSQL, and the fallback when the bound proves nothing."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.insights import audience
from webapp.insights import rollups as insight_rollups
from webapp.monitors.services.manage import create_monitor

pytestmark = pytest.mark.both_databases

NOW = datetime.now(timezone.utc)
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_bound_is_the_kth_value_of_full_buckets_only():
    tops = [(T0, "a", 9), (T0, "b", 5), (T0 + timedelta(days=1), "c", 7)]
    assert audience.bound(tops, 2, max) == ({"a", "b", "c"}, 5)       # day 2's list is not full
    assert audience.bound([tops[0], tops[2]], 1, sum) == ({"a", "c"}, 9 + 7)
    assert audience.bound(tops[2:], 2, max) == ({"c"}, None)           # every author is a candidate


def _fill(app, rows: int, authors: int, loud: bool, seed: int = 3) -> int:
    rng = random.Random(seed)
    audience_of = [int(10 ** rng.uniform(0, 7)) if loud else 0 for _ in range(authors)]
    picks = rng.choices(range(authors), [1 / (r + 1) for r in range(authors)], k=rows)
    with app.app_context():
        monitor_id = create_monitor(db.session, "speed", "", []).id
        batch = [{"monitor_id": monitor_id, "published_at": NOW - timedelta(seconds=rng.uniform(0, 89 * 86400)),
                  "author": f"author{who}", "lang": "en", "label": "neutral", "compound": rng.uniform(-1, 1),
                  "mixed": False, "reach": audience_of[who], "engagement": rng.randint(0, 3) if loud else 1}
                 for who in picks]
        insight_rollups.apply(db.session, insight_rollups.deltas(batch))
        db.session.commit()
        return monitor_id


@pytest.mark.parametrize("loud", [True, False], ids=["reach-proves", "engagement-only-falls-back"])
def test_candidates_answer_exactly_as_grouping_every_row(app, monkeypatch, loud):
    monkeypatch.setattr(audience, "CANDIDATE_ROWS", 91 * 4)      # 4 a day: lists are full
    monitor_id = _fill(app, 1500, 300, loud)
    with app.app_context():
        for name in ("30d", "90d"):
            w = audience.window(name)
            every = audience._rank(db.session, monitor_id, w, 5)
            found = audience._from_candidates(db.session, monitor_id, w, 5)
            assert (found is not None) is loud           # equal engagement proves nothing
            assert found in (None, every)
            assert audience.top_authors(db.session, monitor_id, w, 5) == every
            assert audience.top_authors(db.session, monitor_id, w, 5) == every   # cached copy
