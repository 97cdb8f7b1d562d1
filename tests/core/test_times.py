"""One time reader (core/times.read_time) for query parameters, bus records and service times."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from webapp.core.times import parse_time, read_time
from webapp.ingest.store import BadRecord, record_time
from webapp.mentions.search import parse_filters

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=timezone.utc)


def test_read_time_takes_strings_numbers_and_datetimes():
    assert read_time(None) is None and read_time("") is None
    assert read_time("2026-05-01T14:00:00+02:00") == NOW == read_time("2026-05-01t12:00:00z")
    assert read_time(NOW.timestamp()) == NOW == read_time(NOW.replace(tzinfo=None))
    assert read_time("2026-05-01", end_of_day=True) == datetime(2026, 5, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", ["yesterday", "2026-02-30", "9999-12-31", "0001-01-01T00:00+01:00",
                                   1e20, float("nan"), [2026], True])
def test_read_time_refuses_with_value_error_only(value):
    with pytest.raises(ValueError):
        read_time(value, end_of_day=True)


def test_the_lenient_reader_and_the_record_reader_are_the_same_reader():
    assert parse_time("0001-01-01T00:00+01:00") is None and parse_time("  ") is None
    assert parse_time("2026-05-01T13:00:00Z", NOW) == NOW   # never later than now
    assert record_time(None, NOW) == NOW and record_time("2026-05-01T12:00:00", None) == NOW
    for bad in ("0001-01-01T00:00+01:00", 1e20, {"at": 1}):
        with pytest.raises(BadRecord, match="ISO 8601"):
            record_time(bad, NOW)


def test_an_out_of_range_filter_is_reported_not_raised():
    spec, errors = parse_filters({"until": "9999-12-31", "since": "0001-01-01T00:00+01:00"})
    assert set(errors) == {"since", "until"} and spec.since is None and spec.until is None
