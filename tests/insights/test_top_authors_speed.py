"""Top authors from bounded candidates (insights/audience.py): the same answer as the mentions
themselves give, on every range, on SQLite and PostgreSQL, and the fallback when a proof would
take too long."""
from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.insights import audience
from webapp.insights.influence import influence
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


def _mentions(rows: int, authors: int, loud: bool, seed: int = 3, days: float = 89) -> list[dict]:
    rng = random.Random(seed)
    audience_of = [int(10 ** rng.uniform(0, 7)) if loud else 0 for _ in range(authors)]
    picks = rng.choices(range(authors), [1 / (r + 1) for r in range(authors)], k=rows)
    return [{"monitor_id": None, "published_at": NOW - timedelta(seconds=rng.uniform(0, days * 86400)),
             "author": f"author{who}", "lang": "en", "label": "neutral", "compound": rng.uniform(-1, 1),
             "mixed": False, "reach": audience_of[who], "engagement": rng.randint(0, 3) if loud else 1}
            for who in picks]


def _write(app, batch: list[dict]) -> int:
    with app.app_context():
        monitor_id = create_monitor(db.session, "speed", "", []).id
        batch = [{**row, "monitor_id": monitor_id} for row in batch]
        insight_rollups.apply(db.session, insight_rollups.deltas(batch))
        db.session.commit()
        return monitor_id


def _expected(batch: list[dict], w, limit: int) -> list[dict]:
    """The top authors of the window computed from the mentions themselves (no SQL)."""
    per: dict[str, dict] = {}
    for row in batch:
        if w.start <= row["published_at"] < w.end:
            a = per.setdefault(row["author"], {"mentions": 0, "reach": 0, "engagement": 0, "total": 0.0})
            a["mentions"] += 1
            a["reach"] = max(a["reach"], row["reach"])
            a["engagement"] += row["engagement"]
            a["total"] += row["compound"]
    ranked = sorted(per.items(), key=lambda kv: (-(kv[1]["reach"] + 3 * kv[1]["engagement"]), -kv[1]["mentions"], kv[0]))
    return [{"author": author, "mentions": a["mentions"], "reach": a["reach"], "engagement": a["engagement"],
             "influence": influence(a["reach"], a["engagement"]), "avg_compound": round(a["total"] / a["mentions"], 4)}
            for author, a in ranked[:limit]]


def _same(found: list[dict], expected: list[dict]) -> bool:
    return [{**r, "avg_compound": pytest.approx(r["avg_compound"], abs=1.1e-4)} for r in found] == expected


def test_parts_cover_an_hour_window_with_whole_days_and_edge_hours():
    w = audience.window("7d", datetime(2026, 3, 10, 13, 20, tzinfo=timezone.utc))
    cover = audience.parts(w)
    assert cover[0] == ("1h", datetime(2026, 3, 3, 14, tzinfo=timezone.utc))
    assert [p for p in cover if p[0] == "1d"] == [("1d", datetime(2026, 3, d, tzinfo=timezone.utc)) for d in range(4, 10)]
    assert cover[-1] == ("1h", datetime(2026, 3, 10, 13, tzinfo=timezone.utc)) and len(cover) == 10 + 6 + 14
    ends = [start + audience.BUCKETS[bucket] for bucket, start in cover]
    assert [start for _b, start in cover[1:]] == ends[:-1] and ends[-1] == w.end     # contiguous, whole
    day = audience.window("30d", datetime(2026, 3, 10, 13, 20, tzinfo=timezone.utc))
    assert all(bucket == "1d" for bucket, _s in audience.parts(day)) and len(audience.parts(day)) == 30


@pytest.mark.parametrize("loud", [True, False], ids=["reach-and-engagement", "engagement-only"])
def test_every_range_answers_as_the_mentions_themselves(app, monkeypatch, loud):
    """Candidates (with the reach walk), parts of days and hours, and the full grouping give the
    answer computed from the mentions, on every range."""
    monkeypatch.setattr(audience, "CANDIDATE_ROWS", 91 * 4)      # short lists: bounds are at work
    monkeypatch.setattr(audience, "REACH_ROWS", 10)
    batch = _mentions(2500, 400, loud)
    monitor_id = _write(app, batch)
    with app.app_context():
        for name in audience.RANGES:
            w = audience.window(name)
            expected = _expected(batch, w, 5)
            assert _same(audience._rank(db.session, monitor_id, w, 5), expected), name
            for depth in audience.DEPTHS:
                found = audience._from_candidates(db.session, monitor_id, w, 5, depth)
                assert found is None or _same(found, expected), (name, depth)
            assert _same(audience.top_authors(db.session, monitor_id, w, 5), expected), name


def test_a_proof_too_long_groups_every_row(app, monkeypatch):
    monkeypatch.setattr(audience, "CANDIDATE_ROWS", 91 * 4)
    monkeypatch.setattr(audience, "REACH_ROWS", 5)
    monkeypatch.setattr(audience, "REACH_WALK_ROWS", 3)      # every outsider's reach walk is too long
    batch = _mentions(1500, 300, False)
    monitor_id = _write(app, batch)
    with app.app_context():
        w = audience.window("90d")
        assert audience._from_candidates(db.session, monitor_id, w, 5) is None
        assert _same(audience.top_authors(db.session, monitor_id, w, 5), _expected(batch, w, 5))
