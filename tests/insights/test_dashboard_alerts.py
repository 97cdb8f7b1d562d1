"""The dashboard's alert markers from one statement (state changes in the range, then the rules
firing since before it), on both databases: raw and processed rows give the same spans."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.helpers import new_monitor
from webapp.alerting.models import AlertEvent, AlertState, Rule
from webapp.core.extensions import db
from webapp.insights import dashboard

pytestmark = pytest.mark.both_databases


def test_alert_rows_in_one_statement_give_the_spans(app):
    monitor_id, _ = new_monitor(app, name="Alerts")
    now = datetime.now(timezone.utc)
    start, end = now - timedelta(days=1), now
    with app.app_context():
        assert dashboard.alert_rows(db.session, monitor_id, start, end, raw=True) == ()
        assert dashboard.alert_spans(db.session, monitor_id, start, end) == []
        before, within = (Rule(monitor_id=monitor_id, name=name, kind="volume_spike", window="1h")
                          for name in ("before", "within"))
        db.session.add_all([before, within])
        db.session.flush()
        db.session.add(AlertState(rule_id=before.id, state="firing", since=now - timedelta(days=3)))
        changes = [("pending", "firing", timedelta(hours=6)), ("firing", "resolved", timedelta(hours=3)),
                   ("resolved", "firing", timedelta(days=2))]     # the last before the range: not read
        db.session.add_all([AlertEvent(rule_id=within.id, monitor_id=monitor_id, from_state=old, to_state=new,
                                       at=now - ago) for old, new, ago in changes])
        db.session.commit()
        wanted = [(start.isoformat(), end.isoformat(), "alert: before"),
                  ((now - timedelta(hours=6)).isoformat(), (now - timedelta(hours=3)).isoformat(), "alert: within")]
        assert dashboard.alert_spans(db.session, monitor_id, start, end) == wanted
        raw = dashboard.alert_rows(db.session, monitor_id, start, end, raw=True)
        assert [r[0] for r in raw] == [0, 0, 1]          # the changes oldest first, then the firing rule
        assert dashboard.spans_of(raw.processed(), start, end) == wanted
        db.session.remove()
