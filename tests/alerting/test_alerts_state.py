"""The pure parts of alerting: every state transition, digests, silences, windows, evaluation, retries."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from webapp.alerting.baseline import Baseline
from webapp.alerting.conditions import Observation, RuleParams, evaluate
from webapp.alerting.state import StateSnapshot, active_silence, next_digest, next_state
from webapp.alerting.windows import BucketSeries, WindowStats, slot_end, window_slot
from webapp.alerting.notifiers.retry import parse_retry_after, retry_decision

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
MET, CLEAR, NODATA = Observation(-0.5, True), Observation(0.2, False), Observation(None, None)


def rule(**kw) -> RuleParams:
    return RuleParams(**{"kind": "avg_sentiment", "op": "<", "threshold": -0.3, **kw})


def ago(minutes):
    return None if minutes is None else NOW - timedelta(minutes=minutes)


def snap(state, since_min=30, fired_min=None, notified_min=None) -> StateSnapshot:
    return StateSnapshot(state, ago(since_min), ago(fired_min), ago(notified_min))


# -- next_state: one case per (state, observation) and each timing rule ------------------------

@pytest.mark.parametrize("state,obs,params,expected", [
    # condition met
    (snap("normal"), MET, rule(), ("firing", True, "firing", True)),
    (snap("normal"), MET, rule(for_seconds=900), ("pending", True, None, False)),
    (snap("nodata"), MET, rule(), ("firing", True, "firing", True)),
    (snap("nodata"), MET, rule(for_seconds=900), ("pending", True, None, False)),
    (snap("resolved"), MET, rule(), ("firing", True, "firing", True)),
    (snap("pending", since_min=10), MET, rule(for_seconds=900), ("pending", False, None, False)),
    (snap("pending", since_min=15), MET, rule(for_seconds=900), ("firing", True, "firing", True)),
    (snap("firing", notified_min=30), MET, rule(), ("firing", False, None, False)),
    # condition not met
    (snap("normal"), CLEAR, rule(), ("normal", False, None, False)),
    (snap("pending"), CLEAR, rule(for_seconds=900), ("normal", True, None, False)),
    (snap("firing", since_min=30, notified_min=30), CLEAR, rule(), ("resolved", True, "resolved", False)),
    (snap("resolved"), CLEAR, rule(), ("normal", True, None, False)),
    (snap("nodata"), CLEAR, rule(), ("normal", True, None, False)),
    # no data
    (snap("normal"), NODATA, rule(), ("nodata", True, None, False)),
    (snap("pending"), NODATA, rule(), ("nodata", True, None, False)),
    (snap("resolved"), NODATA, rule(), ("nodata", True, None, False)),
    (snap("nodata"), NODATA, rule(), ("nodata", False, None, False)),
    (snap("firing", since_min=30, notified_min=30), NODATA, rule(), ("resolved", True, "resolved", False)),
])
def test_every_transition(state, obs, params, expected):
    step = next_state(state, obs, NOW, params)
    assert (step.state, step.changed, step.notify, step.fired) == expected
    if step.changed:
        assert step.since == NOW
    else:
        assert step.since == state.since


def test_cooldown_holds_a_new_firing_in_pending_until_it_passes():
    params = rule(cooldown_seconds=3600)
    recently = snap("resolved", since_min=5, fired_min=20, notified_min=20)
    step = next_state(recently, MET, NOW, params)
    assert (step.state, step.notify, step.reason) == ("pending", None, "cooldown")
    pending = StateSnapshot("pending", NOW, recently.last_fired_at, recently.last_notified_at)
    assert next_state(pending, MET, NOW + timedelta(minutes=30), params).state == "pending"
    later = next_state(pending, MET, NOW + timedelta(minutes=40), params)
    assert (later.state, later.notify, later.fired) == ("firing", "firing", True)
    assert next_state(snap("resolved", fired_min=61), MET, NOW, params).state == "firing"


def test_repeat_reminders_while_firing():
    params = rule(repeat_seconds=3600)
    assert next_state(snap("firing", since_min=90, notified_min=59), MET, NOW, params).notify is None
    step = next_state(snap("firing", since_min=90, notified_min=60), MET, NOW, params)
    assert (step.state, step.changed, step.notify, step.fired) == ("firing", False, "reminder", False)
    assert next_state(snap("firing", notified_min=600), MET, NOW, rule()).notify is None   # no reminders set


def test_a_firing_that_was_never_announced_resolves_quietly():
    silenced = snap("firing", since_min=30, notified_min=None)
    assert next_state(silenced, CLEAR, NOW, rule()).notify is None
    announced_before = snap("firing", since_min=30, notified_min=120)   # an earlier firing's notice
    step = next_state(announced_before, CLEAR, NOW, rule())
    assert (step.state, step.notify) == ("resolved", None)
    # after a silence ends, a reminder (if configured) goes out counted from the firing's start
    assert next_state(silenced, MET, NOW, rule(repeat_seconds=1800)).notify == "reminder"


# -- digests (mention_match) -------------------------------------------------------------------

DIGEST = RuleParams(kind="mention_match", settings={"query": "acme", "digest_wait_seconds": 300})


@pytest.mark.parametrize("state,matches,params,expected", [
    (snap("normal"), 0, DIGEST, ("normal", False, False, True)),
    (snap("normal"), 3, DIGEST, ("pending", True, False, False)),
    (snap("pending", since_min=2), 5, DIGEST, ("pending", False, False, False)),
    (snap("pending", since_min=5), 5, DIGEST, ("firing", True, True, True)),
    (snap("pending", since_min=5), 0, DIGEST, ("normal", True, False, True)),
    (snap("firing"), 0, DIGEST, ("normal", True, False, True)),
    (snap("firing"), 2, DIGEST, ("pending", True, False, False)),
    (snap("normal"), 1, RuleParams(kind="mention_match", settings={"digest_wait_seconds": 0}),
     ("firing", True, True, True)),
    (snap("pending", since_min=10, fired_min=20),
     4, RuleParams(kind="mention_match", cooldown_seconds=3600, settings={"digest_wait_seconds": 300}),
     ("pending", False, False, False)),
])
def test_digest_steps(state, matches, params, expected):
    step = next_digest(state, matches, NOW, params)
    assert (step.state, step.changed, step.send, step.advance) == expected


def test_silences_cover_their_rule_or_whole_monitor_until_they_end():
    def s(rule_id, end_min):
        return SimpleNamespace(monitor_id=1, rule_id=rule_id, starts_at=NOW - timedelta(hours=1),
                               ends_at=NOW + timedelta(minutes=end_min))

    assert active_silence([s(7, 10)], 7, 1, NOW) is not None
    assert active_silence([s(8, 10)], 7, 1, NOW) is None
    assert active_silence([s(None, 10)], 7, 1, NOW) is not None
    assert active_silence([s(None, 0)], 7, 1, NOW) is None          # ended exactly now
    assert active_silence([s(None, 10)], 7, 2, NOW) is None         # another monitor's


# -- windows and evaluation --------------------------------------------------------------------

def test_slots_are_closed_lagged_15_minute_boundaries():
    at = datetime(2026, 6, 1, 12, 1, 59, tzinfo=timezone.utc)
    assert slot_end(window_slot(at, 120)) == datetime(2026, 6, 1, 11, 45, tzinfo=timezone.utc)
    assert slot_end(window_slot(at + timedelta(seconds=1), 120)) == datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)


def test_bucket_series_sums_15_minute_buckets_into_windows():
    start = datetime(2026, 6, 1, tzinfo=timezone.utc)
    buckets = {start + timedelta(minutes=15 * i): (2, -0.5, 0, 1, 1) for i in range(8)}
    series = BucketSeries(start, start + timedelta(hours=2), buckets, start)
    one_hour = series.window(start + timedelta(hours=2), timedelta(hours=1))
    assert (one_hour.count, one_hour.negative, round(one_hour.sum_compound, 6)) == (8, 4, -2.0)
    assert series.window(start + timedelta(minutes=15), timedelta(hours=24)).count == 2   # clipped
    assert series.count(start + timedelta(hours=2), timedelta(hours=6)) == 16


def stats(count, sum_compound=0.0, negative=0):
    return WindowStats(NOW - timedelta(hours=1), NOW, count, sum_compound, 0, count - negative, negative)


def test_evaluate_sentiment_and_negative_share_with_a_minimum():
    avg = rule(min_mentions=5)
    assert evaluate(avg, stats(10, -4.0)) == Observation(-0.4, True, -0.3, evaluate(avg, stats(10, -4.0)).details)
    assert evaluate(avg, stats(10, 1.0)).condition_met is False
    assert evaluate(avg, stats(4, -4.0)).condition_met is None        # too few: no data
    assert evaluate(avg, stats(0)).condition_met is None
    share = RuleParams(kind="negative_share", op=">=", threshold=40, min_mentions=5)
    assert evaluate(share, stats(10, negative=4)).value == 40.0
    assert evaluate(share, stats(10, negative=4)).condition_met is True
    assert evaluate(share, stats(10, negative=3)).condition_met is False


def test_volume_spike_needs_z_ratio_and_count_together():
    spike = RuleParams(kind="volume_spike", settings={"z": 3.5, "ratio": 2.0, "min_count": 10})
    base = Baseline(median=20, mad=2, samples=4, method="hour_of_week")
    assert evaluate(spike, stats(25), base).condition_met is False   # z 3.4
    assert evaluate(spike, stats(39), base).condition_met is False   # ratio 1.95
    obs = evaluate(spike, stats(40), base)
    assert obs.condition_met is True and obs.threshold == 40.0 and obs.details["z"] == pytest.approx(6.745)
    low = Baseline(median=1, mad=1, samples=4, method="hour_of_week")
    assert evaluate(spike, stats(9), low).condition_met is False     # below min_count
    assert evaluate(spike, stats(10), low).condition_met is True
    assert evaluate(spike, stats(50), None).condition_met is None    # no history: no data


# -- retries -------------------------------------------------------------------------------------

@pytest.mark.parametrize("outcome,retry", [
    (500, True), (502, True), (503, True), (599, True), (408, True), (429, True),
    ("timeout", True), ("connect", True), ("smtp_temporary", True),
    (400, False), (401, False), (403, False), (404, False), (410, False), (422, False), (301, False),
    ("blocked", False), ("smtp_permanent", False), (200, False), (204, False),
])
def test_retry_decision_by_outcome(outcome, retry):
    assert retry_decision(outcome, 1, rand=lambda: 0.5)[0] is retry


def test_retry_backoff_grows_with_jitter_and_honours_retry_after():
    delays = [retry_decision(503, n, rand=lambda: 0.0)[1] for n in range(1, 10)]
    assert delays[:4] == [15.0, 30.0, 60.0, 120.0] and delays[-1] == 1800.0   # d/2 at rand 0
    assert retry_decision(503, 3, rand=lambda: 1.0)[1] == 120.0                # d at rand 1
    assert retry_decision(429, 1, 90, rand=lambda: 0.0) == (True, 90.0)
    assert retry_decision(429, 1, 10 ** 9)[1] == 86400.0
    assert retry_decision(404, 1, 90) == (False, 0.0)
    assert retry_decision(503, 40)[0] is False                                 # attempts exhausted


def test_parse_retry_after():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Mon, 01 Jun 2026 12:02:00 GMT", NOW) == 120.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_smtp_urls():
    from webapp.alerting.notifiers.email import SmtpTarget, parse_smtp_url

    assert parse_smtp_url("smtp://127.0.0.1:1025") == SmtpTarget(False, "127.0.0.1", 1025)
    assert parse_smtp_url("smtps://mailer%40example.com:p%3Ass@mail.example.com") == SmtpTarget(
        True, "mail.example.com", 465, "mailer@example.com", "p:ss")
    assert parse_smtp_url("smtp://u:p@relay:587?starttls=1").starttls is True
    assert parse_smtp_url("smtp://relay").port == 25
    with pytest.raises(ValueError):
        parse_smtp_url("http://relay")
