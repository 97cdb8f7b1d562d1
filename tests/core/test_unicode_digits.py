"""Numbers read from text take ASCII digits only, of a bounded length (core.numbers): "²" is a
digit to `str.isdigit` that `int` refuses, and `int` refuses 5,000 digits; each place that read
`isdigit` then `int` answered such input with a 500 or an exception. Now each is a 400, a 404, a
message naming the field or the default, as that place answers other bad input."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from webapp.alerting.notifiers.retry import parse_retry_after
from webapp.core.pagination import MAX_PAGE, page_number
from webapp.core.web.serve import plan
from webapp.ingest.importer import to_mention
from webapp.monitors.sources.base import SourceSettingsError
from webapp.monitors.sources.demo import parse_per_fetch
from webapp.monitors.sources.http import retry_after_seconds
from webapp.monitors.sources.json_source import check_max_pages
from webapp.monitors.sources.settings_checks import clean_int

from tests.helpers import new_monitor

HOSTILE = ("²", "١٢", "9" * 5_000)
NOW = datetime(2026, 12, 3, tzinfo=timezone.utc)


@pytest.mark.parametrize("value", HOSTILE, ids=["superscript", "arabic-indic", "5000-digits"])
def test_headers_settings_and_page_numbers(value):
    assert parse_retry_after(value, NOW) is None if value != "9" * 5_000 else parse_retry_after(value, NOW) > 0
    assert retry_after_seconds({"Retry-After": value}, NOW) in (None, pytest.approx(retry_after_seconds(
        {"Retry-After": "999999999"}, NOW)))
    assert page_number({"page": value}) in (1, MAX_PAGE)
    assert plan({"WEB_CONCURRENCY": value, "WEB_THREADS": value}) == ("waitress", 4)
    for check in (lambda v: clean_int(v, "limit", 10, 1, 100), parse_per_fetch, check_max_pages):
        with pytest.raises(SourceSettingsError):
            check(value)


def test_a_csv_cell_of_odd_digits_is_refused_by_the_row_check_not_raised():
    with pytest.raises(ValueError, match="reach: Input should be a valid integer"):   # the row's own message
        to_mention({"external_id": "x", "text": "hello", "reach": "²"})
    assert to_mention({"external_id": "x", "text": "hello", "reach": " 42 "})["reach"] == 42


def test_pages_answer_odd_digits_with_a_4xx(app, logged_in, auth):
    monitor_id, _ = new_monitor(app)
    mentions = f"/monitors/{monitor_id}/mentions"
    for name in ("page", "per_page", "source", "assignee"):
        for value in HOSTILE:
            answer = logged_in.get(mentions, query_string={name: value})
            assert answer.status_code == 400 and 'id="filter-errors"' in answer.get_data(as_text=True), (name, value)
    for value in HOSTILE:
        assert logged_in.post(f"{mentions}/bulk", data={"action": "read", "mention_id": value}).status_code == 404
        assert logged_in.get(f"/monitors/{monitor_id}/series.csv", query_string={"source_id": value}).status_code == 400
        answer = logged_in.get(f"/api/v1/monitors/{monitor_id}/series/export", query_string={"source_id": value},
                               headers=auth)
        assert answer.status_code == 400 and "source_id" in answer.get_json()["detail"]
        edit = logged_in.post(f"/monitors/{monitor_id}/edit", data={"name": "Test", "query": "", "enabled": value,
                                                                     "remove": value})
        assert edit.status_code in (200, 302, 400), value
