"""When reports are due (pure): daily and weekly, in the team's time zone, across a DST change."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from webapp.reports.services import schedule
from webapp.reports.services.content import change

UTC = timezone.utc
BERLIN = schedule.zone("Europe/Berlin")


def test_daily_period_ends_at_the_hour_in_the_team_zone():
    now = datetime(2026, 6, 10, 7, 30, tzinfo=UTC)          # 09:30 in Berlin (CEST, +2)
    period = schedule.latest("daily", 8, 0, BERLIN, now)
    assert period.end == datetime(2026, 6, 10, 6, 0, tzinfo=UTC)
    assert period.start == datetime(2026, 6, 9, 6, 0, tzinfo=UTC)
    assert period.slot == "2026-06-10T06:00Z"
    before = schedule.latest("daily", 8, 0, BERLIN, datetime(2026, 6, 10, 5, 59, tzinfo=UTC))
    assert before.end == datetime(2026, 6, 9, 6, 0, tzinfo=UTC)


def test_weekly_period_is_seven_days_before_the_weekday():
    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)          # a Wednesday
    period = schedule.latest("weekly", 9, 0, schedule.zone("UTC"), now)   # Mondays 09:00
    assert period.end == datetime(2026, 6, 8, 9, 0, tzinfo=UTC) and period.end.weekday() == 0
    assert period.end - period.start == timedelta(days=7)
    assert period.previous().end == period.start
    assert schedule.following("weekly", 9, schedule.zone("UTC"), period) == datetime(2026, 6, 15, 9, tzinfo=UTC)


def test_a_dst_day_is_23_hours_long():
    now = datetime(2026, 3, 29, 12, 0, tzinfo=UTC)          # Berlin moves to CEST that night
    period = schedule.latest("daily", 8, 0, BERLIN, now)
    assert period.end - period.start == timedelta(hours=23)


def test_due_only_after_creation_and_within_grace():
    now = datetime(2026, 6, 10, 8, 5, tzinfo=UTC)
    assert schedule.due("daily", 8, 0, UTC, now, created_at=now - timedelta(days=1)).end.hour == 8
    assert schedule.due("daily", 8, 0, UTC, now, created_at=now) is None
    assert schedule.due("weekly", 8, 2, UTC, now, created_at=now - timedelta(days=30)) is not None
    # a scheduler that was down: the latest weekly period is 5 days old, not sent any more
    assert schedule.due("weekly", 8, 4, UTC, now, created_at=now - timedelta(days=30)) is None


def test_unknown_zones_fall_back_to_utc():
    assert schedule.zone("Mars/Olympus") is UTC and schedule.zone("") is UTC and schedule.zone("../etc") is UTC


def test_changes_read_well():
    assert change(120, 100, "count") == "+20 %"
    assert change(3, 0, "count") == "new" and change(0, 0, "count") == "±0"
    assert change(0.25, 0.2, "share") == "+5.0 pts"
    assert change(-0.1, 0.2, "score") == "-0.30"
    assert change(None, 0.2, "score") == "–"
