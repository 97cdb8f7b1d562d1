"""Per-monitor lexicon adjustments: validation, API and page, and scoring of new mentions with them."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.scoring import lexicon, sentiment
from webapp.ingest.store import store_batch

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases


def labels(app, monitor_id: int) -> dict[str, tuple[str, float]]:
    with app.app_context():
        rows = db.session.execute(select(Mention).where(Mention.monitor_id == monitor_id)).scalars()
        out = {m.external_id: (m.label, m.compound) for m in rows}
        db.session.remove()
        return out


def test_clean_checks_words_and_valences():
    assert lexicon.clean("  Sick ", "2.5") == ("sick", 2.5)
    assert lexicon.clean("killer", -4) == ("killer", -4.0)
    for word, valence, field in (("", 1, "word"), ("two words", 1, "word"), ("x", 1, "word"), ("w" * 65, 1, "word"),
                                 ("ok", 4.5, "valence"), ("ok", "high", "valence"), ("ok", None, "valence"),
                                 ("ok", float("nan"), "valence"), ("ok", True, "valence")):
        with pytest.raises(lexicon.LexiconInvalid) as info:
            lexicon.clean(word, valence)
        assert field in info.value.errors, (word, valence)


def test_adjusted_analyzers_share_one_analyzer_per_content_and_leave_vader_alone():
    first = lexicon.adjusted_vader({"sick": 2.5})
    assert sentiment.fast_analyzer({"sick": 2.5}) is sentiment.fast_analyzer({"SICK ": 2.5})
    assert sentiment.fast_analyzer({"sick": 3.0}) is not sentiment.fast_analyzer({"sick": 2.5})
    assert first.score_batch(["that trick was sick"])[0].label == "positive"
    assert sentiment.score_text("that trick was sick").label == "negative"  # the process-wide one is untouched
    assert sentiment.analyzer().lexicon["sick"] == -2.3
    assert dict(first.explain("that trick was sick"))["sick"] == 2.5


def test_sick_is_negative_before_and_positive_after_an_adjustment(app, client, auth, drain):
    monitor_id, _ = new_monitor(app, name="Skate brand")
    other_id, _ = new_monitor(app, name="Hospital")
    url = f"/api/v1/monitors/{monitor_id}"
    client.post(f"{url}/mentions", json=[mention(1, "That kickflip was sick")], headers=auth)
    client.post(f"/api/v1/monitors/{other_id}/mentions", json=[mention(1, "That kickflip was sick")], headers=auth)
    drain()
    assert labels(app, monitor_id)["m1"][0] == "negative"

    response = client.post(f"{url}/lexicon", json={"word": "Sick", "valence": 2.5}, headers=auth)
    assert response.status_code == 201, response.get_json()
    assert response.get_json() | {"created_at": None} == {
        "word": "sick", "valence": 2.5, "base_valence": -2.3, "created_by": "token@example.com", "created_at": None}
    # a mix of both monitors in one batch: each is scored with its own lexicon
    client.post(f"{url}/mentions", json=[mention(2, "Your new deck is SICK"), mention(3, "sick and tired")], headers=auth)
    client.post(f"/api/v1/monitors/{other_id}/mentions", json=[mention(2, "Your new deck is SICK")], headers=auth)
    drain()
    after = labels(app, monitor_id)
    assert after["m1"][0] == "negative"                # stored mentions keep their scores
    assert after["m2"][0] == "positive" and after["m3"][1] > 0
    assert labels(app, other_id) == {"m1": ("negative", after["m1"][1]), "m2": labels(app, other_id)["m2"]}
    assert labels(app, other_id)["m2"][0] == "negative"

    # changing the valence reaches the next batch (the cache is keyed by the adjustments themselves)
    assert client.post(f"{url}/lexicon", json={"word": "sick", "valence": -1}, headers=auth).status_code == 200
    client.post(f"{url}/mentions", json=[mention(4, "Your new deck is sick")], headers=auth)
    drain()
    assert labels(app, monitor_id)["m4"][0] == "negative"
    listed = client.get(f"{url}/lexicon", headers=auth).get_json()["items"]
    assert [(i["word"], i["valence"]) for i in listed] == [("sick", -1.0)]
    assert client.delete(f"{url}/lexicon/SICK", headers=auth).status_code == 204
    assert client.delete(f"{url}/lexicon/sick", headers=auth).status_code == 404
    assert client.get(f"{url}/lexicon", headers=auth).get_json() == {"items": []}


def test_a_change_made_elsewhere_is_seen_at_the_next_batch(app):
    """Workers on other machines: the adjustments are read once per batch, never cached stale."""
    monitor_id, push_id = new_monitor(app, name="Workers")
    with app.app_context():
        def store(i: int) -> str:
            store_batch(db.session, [{"monitor_id": monitor_id, "source_id": push_id, "external_id": f"w{i}",
                                      "text": "this is sick"}])
            db.session.commit()
            return db.session.execute(select(Mention.label).where(Mention.external_id == f"w{i}")).scalar_one()

        assert store(1) == "negative"
        lexicon.set_adjustment(db.session, monitor_id, "sick", 3)
        assert store(2) == "positive"
        lexicon.remove_adjustment(db.session, monitor_id, "sick")
        assert store(3) == "negative"
        db.session.remove()


def test_lexicon_api_validation_and_roles(app, client, auth):
    monitor_id, _ = new_monitor(app, name="Validation")
    url = f"/api/v1/monitors/{monitor_id}/lexicon"
    for body in ({"word": "sick"}, {"word": "sick", "valence": 5}, {"word": "", "valence": 1},
                 {"word": "two words", "valence": 1}, {"word": "ok", "valence": 1, "extra": 1}):
        response = client.post(url, json=body, headers=auth)
        assert response.status_code == 422 and response.get_json()["error"] == "validation_failed", body
    assert client.post("/api/v1/monitors/9999/lexicon", json={"word": "ok", "valence": 1}, headers=auth).status_code == 404
    assert client.get(url).status_code == 401
    from tests.helpers import make_user
    from webapp.people.auth import create_token
    from webapp.people.models import User

    make_user(app, email="viewer@example.com", role="viewer")
    with app.app_context():
        token = create_token(db.session.execute(select(User).where(User.email == "viewer@example.com")).scalar_one())
    viewer = {"Authorization": f"Bearer {token}"}
    assert client.get(url, headers=viewer).status_code == 200
    assert client.post(url, json={"word": "ok", "valence": 1}, headers=viewer).status_code == 403
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/monitors/{monitor_id}/lexicon"])
    assert "delete" in paths["/api/v1/monitors/{monitor_id}/lexicon/{word}"]


def test_lexicon_page(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app, name="Page")
    url = f"/monitors/{monitor_id}/lexicon"
    page = logged_in.get(url)
    assert page.status_code == 200 and 'id="lexicon-empty"' in page.get_data(as_text=True)
    bad = logged_in.post(url, data={"word": "sick", "valence": "9"})
    assert bad.status_code == 400 and 'class="error"' in bad.get_data(as_text=True)
    bad = logged_in.post(url, data={"word": "two words", "valence": "1"})
    assert bad.status_code == 400 and "one word only" in bad.get_data(as_text=True)
    done = logged_in.post(url, data={"word": "<b>sick</b>", "valence": "2.5"})
    assert done.status_code == 302
    html = logged_in.get(url).get_data(as_text=True)
    assert "<code>&lt;b&gt;sick&lt;/b&gt;</code>" in html and "+2.50" in html
    assert logged_in.post(f"{url}/remove", data={"word": "<b>sick</b>"}).status_code == 302
    logged_in.post(url, data={"word": "sick", "valence": "2.5"})
    # new mentions are explained with the adjusted valence on the mentions page
    logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=[mention(1, "that was sick")], headers=auth)
    drain()
    mentions = logged_in.get(f"/monitors/{monitor_id}/mentions").get_data(as_text=True)
    assert '<mark class="hl pos-3" title="valence +2.50" data-valence="2.5">sick</mark>' in mentions


def test_one_score_rows_serves_plain_adjusted_and_broken_scorers(app, caplog):
    from webapp.monitors.models import Monitor
    from webapp.scoring import scorers

    plain_id, _ = new_monitor(app, name="Plain")
    adjusted_id, _ = new_monitor(app, name="Adjusted")
    broken_id, _ = new_monitor(app, name="Broken")
    with app.app_context():
        lexicon.set_adjustment(db.session, adjusted_id, "sick", 3)
        lexicon.set_adjustment(db.session, broken_id, "sick", 3)
        db.session.get(Monitor, broken_id).scorer = "model:gone"   # a trained model removed since
        db.session.commit()
        rows = [{"monitor_id": m, "text": "That kickflip was sick"} for m in (plain_id, adjusted_id, broken_id)]
        plain, adjusted, broken = scorers.score_rows(db.session, rows)
        assert plain == sentiment.score_texts(["That kickflip was sick"])[0] and plain.label == "negative"
        assert adjusted.label == "positive" and broken == adjusted   # the fallback keeps the adjustments
        assert "cannot be loaded" in caplog.text
        assert scorers.score_rows(db.session, []) == []
