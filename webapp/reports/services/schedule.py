"""When a report is sent and which period it covers (pure functions).

A daily report is sent every day at `hour` in the team's time zone and covers the 24 hours (one
local calendar day, 23 or 25 hours across a daylight-saving change) before that; a weekly one is
sent on `weekday` (0 Monday) at `hour` and covers the 7 days before. The slot of a period is its
send time in UTC: one run per (report, slot).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = {"daily": 1, "weekly": 7}


@dataclass(frozen=True)
class Period:
    start: datetime      # UTC
    end: datetime        # UTC; the send time

    @property
    def slot(self) -> str:
        return self.end.strftime("%Y-%m-%dT%H:%MZ")

    def previous(self) -> "Period":
        return Period(self.start - (self.end - self.start), self.start)


def zone(name: str | None):
    """The team's time zone; UTC when it is empty or unknown."""
    try:
        return ZoneInfo(name) if name else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.utc


def _at(day: date, hour: int, tz) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=tz).astimezone(timezone.utc)


def latest(every: str, hour: int, weekday: int, tz, now: datetime) -> Period:
    """The most recent period whose send time is at or before `now`."""
    today = now.astimezone(tz).date()
    back = 0 if every == "daily" else (today.weekday() - weekday) % 7
    day = today - timedelta(days=back)
    if _at(day, hour, tz) > now:
        day -= timedelta(days=DAYS[every])
    return Period(_at(day - timedelta(days=DAYS[every]), hour, tz), _at(day, hour, tz))


def following(every: str, hour: int, tz, period: Period) -> datetime:
    """The send time after `period`'s."""
    day = period.end.astimezone(tz).date() + timedelta(days=DAYS[every])
    return _at(day, hour, tz)


def due(every: str, hour: int, weekday: int, tz, now: datetime, created_at: datetime,
        grace: timedelta = timedelta(days=1)) -> Period | None:
    """The period to send now, if its send time has come since the report was made, within
    `grace` (a scheduler that was down for days sends the latest period, not a backlog)."""
    period = latest(every, hour, weekday, tz, now)
    if period.end < created_at or now - period.end > grace:
        return None
    return period


def last_hours(now: datetime, every: str) -> Period:
    """*Send now*: the period of the report's length that ends at the current hour."""
    end = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return Period(end - timedelta(days=DAYS[every]), end)
