"""Rule kinds are a registry: a kind written and registered here (one module's worth of code, no
other module edited) is asked for by the web form, accepted and checked by the API shape,
documented in OpenAPI, evaluated live and backtested."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from webapp.alerting import evaluation
from webapp.alerting.conditions import evaluate
from webapp.alerting.kinds import REGISTRY, KindField, Observation, RuleKind, RuleParams, register, unregister
from webapp.alerting.kinds.base import number, window_details
from webapp.alerting.windows import WindowStats
from webapp.core.extensions import db

from tests.helpers import new_monitor


# -- the new kind: what one file in webapp/alerting/kinds/ would hold ---------------------------

class LowVolume(RuleKind):
    """Fires when a window holds fewer than `floor` mentions (a source went quiet)."""

    name = "low_volume"
    label = "Too few mentions"
    title = "Low volume"
    fields = (KindField("floor", "Fewer mentions than", "int", required=True, limits=(("ge", 1), ("le", 10_000)),
                        help="Alert when a window holds fewer mentions than this."),)

    def check_values(self, spec) -> dict[str, str]:
        return {"floor": "a floor above 1000 needs a longer window"} if (
            spec.floor and spec.floor > 1000 and spec.window == "15m") else {}

    def observe(self, params: RuleParams, stats: WindowStats, baseline=None) -> Observation:
        floor = params.setting("floor")
        return Observation(float(stats.count), stats.count < floor, float(floor), window_details(stats))

    def describe(self, params: RuleParams) -> str:
        return f"fewer than {number(params.setting('floor'))} mentions over {params.window}"


# ------------------------------------------------------------------------------------------------

@pytest.fixture
def low_volume():
    kind = register(LowVolume())
    yield kind
    unregister(kind.name)


def test_registering_is_one_line_and_unregistering_restores_the_kinds(low_volume):
    assert REGISTRY["low_volume"] is low_volume
    with pytest.raises(ValueError):
        register(LowVolume())                    # one name, one kind


def test_the_new_kind_evaluates():
    kind = register(LowVolume())
    try:
        start = datetime(2026, 6, 1, 12, tzinfo=timezone.utc)
        stats = WindowStats(start, start + timedelta(hours=1), count=2)
        params = RuleParams(kind="low_volume", settings={"floor": 3})
        assert evaluate(params, stats) == Observation(2.0, True, 3.0, window_details(stats))
        assert evaluate(params, WindowStats(start, start, count=3)).condition_met is False
        assert kind.describe(params) == "fewer than 3 mentions over 1h"
    finally:
        unregister("low_volume")
    assert "low_volume" not in REGISTRY


def test_the_form_asks_for_the_new_kinds_fields(app, logged_in, auth, low_volume):
    monitor_id, _ = new_monitor(app)
    url = f"/monitors/{monitor_id}/rules"
    page = logged_in.get(url).get_data(as_text=True)
    assert '<option value="low_volume">Too few mentions</option>' in page
    assert "<legend>Low volume</legend>" in page and 'name="floor"' in page and 'min="1"' in page

    missing = logged_in.post(url, data={"kind": "low_volume", "window": "1h", "action": "save"})
    assert missing.status_code == 400
    assert re.search(r'has-error">\s*<label for="floor"', missing.get_data(as_text=True))
    too_low = logged_in.post(url, data={"kind": "low_volume", "window": "1h", "floor": "0", "action": "save"})
    assert too_low.status_code == 400 and re.search(r'has-error">\s*<label for="floor"', too_low.get_data(as_text=True))

    tested = logged_in.post(url, data={"kind": "low_volume", "window": "1h", "floor": "2", "action": "backtest"})
    assert tested.status_code == 200 and 'id="backtest-fired">1<' in tested.get_data(as_text=True)
    saved = logged_in.post(url, data={"kind": "low_volume", "window": "1h", "floor": "2", "threshold": "9",
                                      "action": "save"})                 # threshold: another kind's, ignored
    assert saved.status_code == 302
    listing = logged_in.get(url).get_data(as_text=True)
    assert "Low volume over 1h" in listing and "fewer than 2 mentions over 1h" in listing


def test_the_api_shape_takes_and_checks_the_new_kinds_fields(app, client, auth, low_volume):
    monitor_id, _ = new_monitor(app)
    url = f"/api/v1/monitors/{monitor_id}/rules"

    def refused(body) -> list[str]:
        response = client.post(url, json=body, headers=auth)
        assert response.status_code == 422, response.json
        assert response.json["error"] == "validation_failed"
        return [d["loc"] for d in response.json["detail"]]

    assert refused({"kind": "low_volume"}) == ["floor"]                               # required
    assert refused({"kind": "low_volume", "floor": 0}) == ["floor"]                   # declared range
    assert refused({"kind": "low_volume", "floor": 2000, "window": "15m"}) == ["floor"]   # its own check
    assert refused({"kind": "low_volume", "floor": 5, "threshold": 1}) == ["threshold"]  # another kind's field
    assert refused({"kind": "avg_sentiment", "threshold": -0.2, "floor": 5}) == ["floor"]
    created = client.post(url, json={"kind": "low_volume", "floor": 5, "window": "6h"}, headers=auth)
    assert created.status_code == 201, created.json
    assert (created.json["kind"], created.json["floor"], created.json["name"]) == ("low_volume", 5, "Low volume over 6h")

    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]["RuleIn"]
    assert "low_volume" in schema["properties"]["kind"]["enum"]
    assert schema["properties"]["floor"]["description"].startswith("low_volume: ")

    with app.app_context():                      # no mentions at all: fewer than 5, so it fires
        now = datetime.now(timezone.utc)
        report = evaluation.evaluate_rule(db.session, created.json["id"], evaluation.slot_for("low_volume", now),
                                          now=now)
        db.session.remove()
    assert (report.status, report.state, report.notification) == ("evaluated", "firing", "firing")


def test_without_the_new_kind_the_api_refuses_it(app, client, auth):
    monitor_id, _ = new_monitor(app)
    response = client.post(f"/api/v1/monitors/{monitor_id}/rules", json={"kind": "low_volume", "floor": 5},
                           headers=auth)
    assert response.status_code == 422 and response.json["detail"][0]["loc"] == "kind"


def test_a_rule_of_a_kind_this_release_does_not_know_is_skipped_not_fatal(app, client, auth):
    """After a rolled-back upgrade a rule's kind may be unknown: the other rules are still due."""
    monitor_id, _ = new_monitor(app)
    url = f"/api/v1/monitors/{monitor_id}/rules"
    kind = register(LowVolume())
    try:
        unknown = client.post(url, json={"kind": "low_volume", "floor": 5}, headers=auth).json["id"]
    finally:
        unregister(kind.name)
    known = client.post(url, json={"kind": "avg_sentiment", "threshold": -0.2}, headers=auth).json["id"]
    with app.app_context():
        due = evaluation.due(db.session, datetime.now(timezone.utc))
        db.session.remove()
    assert [rule_id for rule_id, _slot in due] == [known] and unknown not in dict(due)
