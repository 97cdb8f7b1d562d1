"""Lexicon suggestions mined from label overrides, with their backtests, on a constructed set."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.scoring import lexicon, sentiment, suggestions

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 7, tzinfo=timezone.utc)
# Skaters' "sick" is praise; VADER reads it as negative.
OVERRIDDEN = ["that kickflip was sick", "sick board", "sick tricks at the park", "the new deck is sick",
              "sick grind on the rail"]
NOT_OVERRIDDEN = ["sick wheels", "I feel sick today, terrible"]
OTHER = ["I love this board", "the shop was closed", "terrible bearings"]


def test_moved_words_counts_words_moved_the_same_way():
    moves = [("sick board", "negative", "positive")] * 3 + [("sick day", "negative", "neutral"),
                                                          ("bad board", "negative", "negative")]
    assert suggestions.moved_words(moves, {"sick", "bad"}) == [("sick", "negative", "positive", 3)]
    assert suggestions.moved_words(moves, {"sick"}, min_moves=4) == []


@pytest.fixture
def overridden(app, client, auth, drain):
    monitor_id, _ = new_monitor(app, name="Skate")
    texts = OVERRIDDEN + NOT_OVERRIDDEN + OTHER
    items = [mention(i, text, published_at=T0.isoformat()) for i, text in enumerate(texts)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()
    with app.app_context():
        ids = {m.text: m.id for m in db.session.execute(select(Mention).where(Mention.monitor_id == monitor_id)).scalars()}
        assert {m.label for m in db.session.execute(select(Mention).where(
            Mention.text.in_(OVERRIDDEN))).scalars()} <= {"negative", "neutral"}
        db.session.remove()
    for text in OVERRIDDEN:
        response = client.patch(f"/api/v1/monitors/{monitor_id}/mentions/{ids[text]}", json={"label": "positive"},
                                headers=auth)
        assert response.status_code == 200
    # one override that has nothing to do with "sick"
    client.patch(f"/api/v1/monitors/{monitor_id}/mentions/{ids['the shop was closed']}", json={"label": "negative"},
                 headers=auth)
    return monitor_id


def test_suggestion_with_its_backtest_then_applied(app, client, auth, overridden):
    monitor_id = overridden
    found = client.get(f"/api/v1/monitors/{monitor_id}/lexicon/suggestions", headers=auth)
    assert found.status_code == 200
    items = found.get_json()["items"]
    assert [i["word"] for i in items] == ["sick"]
    sick = items[0]
    assert (sick["moved_from"], sick["moved_to"], sick["moves"]) == ("negative", "positive", 5)
    assert sick["current_valence"] == sentiment.base_lexicon()["sick"] < 0
    assert sick["valence"] > 0
    assert sick["summary"] == f"'sick' was moved from negative to positive 5 times: suggest +{sick['valence']:g}"
    backtest = sick["backtest"]
    # 6 overrides: the 5 "sick" ones were scored non-positive, the shop one neutral; after: the 5 agree
    assert backtest["overrides"] == 6
    assert backtest["agreement_before"] == 0.0
    assert backtest["agreement_after"] == round(5 / 6, 4)
    # stored mentions holding "sick": 7; with the suggested valence, all but the really sick day turn positive
    assert backtest["scanned"] == 7
    trial = sentiment.score_texts(OVERRIDDEN + NOT_OVERRIDDEN, {"sick": sick["valence"]})
    assert [s.label for s in trial] == ["positive"] * 6 + ["negative"]
    assert backtest["changed"] == 6
    # nothing is applied by looking
    with app.app_context():
        assert lexicon.adjustments(db.session, monitor_id) == {}
        db.session.remove()
    assert client.post(f"/api/v1/monitors/{monitor_id}/lexicon/suggestions/nosuch", headers=auth).status_code == 404
    applied = client.post(f"/api/v1/monitors/{monitor_id}/lexicon/suggestions/sick", headers=auth)
    assert applied.status_code == 201, applied.get_json()
    assert applied.get_json()["adjustment"]["valence"] == sick["valence"]
    with app.app_context():
        assert lexicon.adjustments(db.session, monitor_id) == {"sick": sick["valence"]}
        db.session.remove()
    # applied: no longer suggested
    assert client.get(f"/api/v1/monitors/{monitor_id}/lexicon/suggestions", headers=auth).get_json()["items"] == []
