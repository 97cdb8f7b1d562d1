"""Alerts on the monitor itself: `source_down` (a source failing for `for_seconds`, from the fetch
records) and `silence` (no mention for the window), through the same state machine, outbox and
notifiers as the other kinds, with the clock injected; their pure decisions; API, form and
backtests built from the registry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.alerting.kinds import RuleParams, get_kind
from webapp.alerting.models import Delivery
from webapp.alerting.windows import WindowStats
from webapp.monitors.models import Source, SourceFetch
from webapp.monitors.services.health import Gap

from tests.alert_fixtures import at, push
from tests.alerting.test_alerts_delivery import attempt
from tests.alerting.test_alerts_evaluation import counts, evaluated_at, hour_ago, run
from tests.fake_chat import chat_fake  # noqa: F401  (fixture)
from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

T = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


# -- pure decisions -----------------------------------------------------------------------------

def test_source_down_observes_the_longest_current_failure():
    kind = get_kind("source_down")
    params = RuleParams("source_down", for_seconds=900)
    gaps = [Gap(1, T - timedelta(minutes=20), T, "HTTP 503"),             # ongoing (ends at `until`)
            Gap(2, T - timedelta(hours=3), T - timedelta(hours=2), "old"),  # over
            Gap(3, T - timedelta(minutes=5), T, "timeout")]
    names = {1: "#1 rss a", 2: "#2 rss b", 3: "#3 rss c"}
    obs = kind.observe_health(params, gaps, T, T, names)
    assert (obs.value, obs.condition_met, obs.threshold) == (1200.0, True, 900.0)
    assert [s["id"] for s in obs.details["sources"]] == [1, 3] and obs.details["sources"][0]["error"] == "HTTP 503"
    assert kind.observe_health(params, gaps, T, T, {3: "#3"}).condition_met is False      # 5 min < 15
    assert kind.observe_health(params, gaps, T, T, {2: "#2"}).value == 0.0               # disabled ones left out
    assert kind.state_params(params).for_seconds == 0                                     # no second wait
    at_two = kind.observe_health(params, gaps, T - timedelta(hours=2, minutes=30), T, names)
    assert at_two.condition_met is True and at_two.value == 1800.0                       # replayed in the past


def test_silence_is_zero_mentions_after_the_monitor_had_some():
    kind = get_kind("silence")
    params = RuleParams("silence", window="1h")
    empty = WindowStats(T - timedelta(hours=1), T, 0)
    assert kind.observe(params, empty, T - timedelta(days=2)).condition_met is True
    assert kind.observe(params, WindowStats(T - timedelta(hours=1), T, 3), T - timedelta(days=2)).condition_met is False
    assert kind.observe(params, empty, None).condition_met is None                       # never had mentions
    assert kind.observe(params, empty, T - timedelta(minutes=10)).condition_met is None   # began inside the window


# -- through the evaluation use case --------------------------------------------------------------

def add_fetches(app, source_id: int, monitor_id: int, rows: list[tuple[datetime, str, str | None]]) -> None:
    with app.app_context():
        db.session.add_all(SourceFetch(source_id=source_id, monitor_id=monitor_id, started_at=when, status=status,
                                       error=error, duration_ms=5) for when, status, error in rows)
        db.session.commit()
        db.session.remove()


def chat_rule(client, auth, fake, monitor_id: int, rule: dict) -> int:
    notifier = client.post("/api/v1/notifiers", json={"kind": fake.kind, "url": fake.url}, headers=auth).json
    created = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth,
                          json={"notifiers": [notifier["id"]], **rule})
    assert created.status_code == 201, created.json
    return created.json["id"]


def send_all(app, delivery_ids, now) -> None:
    for delivery_id in delivery_ids:
        assert attempt(app, delivery_id, now).outcome == "sent"


def test_source_down_fires_after_for_seconds_and_resolves_when_a_fetch_succeeds(app, client, auth, chat_fake):
    fake = chat_fake("slack")
    monitor_id, _ = new_monitor(app, name="Feeds", sources=[{"kind": "rss", "url": "http://127.0.0.1:9/feed"}])
    with app.app_context():
        source_id = db.session.execute(select(Source.id).where(Source.monitor_id == monitor_id,
                                                               Source.kind == "rss")).scalar_one()
        db.session.remove()
    rule_id = chat_rule(client, auth, fake, monitor_id, {"kind": "source_down", "for_seconds": 900})
    now = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=5)
    add_fetches(app, source_id, monitor_id, [(now - timedelta(minutes=40), "ok", None),
                                             (now - timedelta(minutes=10), "error", "HTTP 503 from feed")])
    early = run(app, rule_id, now)                                  # failing for 10 minutes: not yet
    assert (early.state, early.notification) == ("normal", None)
    add_fetches(app, source_id, monitor_id, [(now - timedelta(minutes=5), "error", "HTTP 503 from feed")])
    later = now + timedelta(minutes=6)                              # 16 minutes now
    fired = run(app, rule_id, later)
    assert (fired.state, fired.notification, len(fired.deliveries)) == ("firing", "firing", 1)
    assert run(app, rule_id, later).status == "skipped"            # the same minute twice: once
    send_all(app, fired.deliveries, later)
    message = fake.posts[-1].json
    assert message["blocks"][0]["text"]["text"].startswith("FIRING: A source failing for 15 min · Feeds")
    assert "HTTP 503 from feed" in message["text"] and "rss http://127.0.0.1:9/feed" in message["text"]
    add_fetches(app, source_id, monitor_id, [(later + timedelta(seconds=30), "ok", None)])
    resolved = run(app, rule_id, later + timedelta(minutes=1))
    assert (resolved.state, resolved.notification) == ("resolved", "resolved")
    send_all(app, resolved.deliveries, later + timedelta(minutes=1))
    assert fake.posts[-1].json["blocks"][0]["text"]["text"].startswith("RESOLVED: ")
    assert run(app, rule_id, later + timedelta(minutes=2)).state == "normal"


def test_a_disabled_source_does_not_count(app, client, auth, chat_fake):
    fake = chat_fake("discord")
    monitor_id, _ = new_monitor(app, name="Off", sources=[{"kind": "rss", "url": "http://127.0.0.1:9/feed"}])
    with app.app_context():
        source = db.session.execute(select(Source).where(Source.monitor_id == monitor_id,
                                                         Source.kind == "rss")).scalar_one()
        source.enabled, source_id = False, source.id
        db.session.commit()
        db.session.remove()
    rule_id = chat_rule(client, auth, fake, monitor_id, {"kind": "source_down"})
    now = datetime.now(timezone.utc) + timedelta(minutes=5)
    add_fetches(app, source_id, monitor_id, [(now - timedelta(hours=2), "error", "gone")])
    assert run(app, rule_id, now).state == "normal"


def test_silence_fires_for_an_empty_window_and_resolves_with_a_mention(app, client, auth, drain, chat_fake):
    fake = chat_fake("google_chat")
    monitor_id, _ = new_monitor(app, name="Quiet shop")
    rule_id = chat_rule(client, auth, fake, monitor_id, {"kind": "silence", "window": "1h"})
    start = hour_ago()
    push(client, auth, drain, monitor_id, at(start - timedelta(hours=20), "a fine day", 2))
    fired = run(app, rule_id, evaluated_at(start + timedelta(hours=1)))
    assert (fired.state, fired.notification) == ("firing", "firing") and counts(app, rule_id)[2] == "firing"
    send_all(app, fired.deliveries, evaluated_at(start + timedelta(hours=1)))
    assert fake.posts[-1].json["text"].startswith("*FIRING: No mentions for an hour · Quiet shop*")
    push(client, auth, drain, monitor_id, at(start + timedelta(hours=1, minutes=5), "hello again", 1))
    resolved = run(app, rule_id, evaluated_at(start + timedelta(hours=1, minutes=15)))
    assert (resolved.state, resolved.notification) == ("resolved", "resolved")


def test_a_new_monitor_without_mentions_is_no_data_not_silence(app, client, auth, chat_fake):
    monitor_id, _ = new_monitor(app, name="Brand new")
    rule_id = chat_rule(client, auth, chat_fake("teams"), monitor_id, {"kind": "silence", "window": "15m"})
    report = run(app, rule_id, evaluated_at(hour_ago()))
    assert (report.state, report.deliveries) == ("nodata", [])
    with app.app_context():
        assert db.session.execute(select(Delivery)).first() is None


# -- API, form, backtests (from the registry) ----------------------------------------------------------

def test_api_form_and_backtests_know_the_new_kinds(app, client, auth, logged_in):
    monitor_id, _ = new_monitor(app, name="Kinds")
    for body in ({"kind": "source_down", "for_seconds": 1800}, {"kind": "silence", "window": "6h"}):
        made = client.post(f"/api/v1/monitors/{monitor_id}/rules", json={**body, "notifiers": []}, headers=auth)
        assert made.status_code == 201, made.json
        backtest = client.post(f"/api/v1/rules/{made.json['id']}/backtest", headers=auth)
        assert backtest.status_code == 200 and backtest.json["summary"]["fired"] == 0
        assert logged_in.get(f"/monitors/{monitor_id}/rules/{made.json['id']}/backtest").status_code == 200
    assert client.get(f"/api/v1/monitors/{monitor_id}/rules", headers=auth).json[0]["name"] == "A source failing for 30 min"
    bad = client.post(f"/api/v1/monitors/{monitor_id}/rules", headers=auth,
                      json={"kind": "silence", "threshold": 3, "notifiers": []})
    assert bad.status_code == 422 and bad.json["detail"][0]["loc"] == "threshold"
    page = logged_in.get(f"/monitors/{monitor_id}/rules").get_data(as_text=True)
    assert 'value="source_down"' in page and 'value="silence"' in page and "no mention for 6 hours" in page
    saved = logged_in.post(f"/monitors/{monitor_id}/rules", data={"kind": "silence", "window": "24h",
                                                                   "action": "save"})
    assert saved.status_code == 302
    spec = client.get("/api/v1/openapi.json").json["components"]["schemas"]["RuleIn"]
    assert {"source_down", "silence"} <= set(spec["properties"]["kind"]["enum"])
