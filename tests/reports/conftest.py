"""Fixtures of the report tests: a real SMTP server and a webhook receiver on loopback (shared
with the alerting tests), an email notifier, and a monitor with mentions in the last two days."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.alert_fixtures import push, smtp_server, webhook_server  # noqa: F401  (fixtures)
from tests.helpers import new_monitor

NOW = datetime.now(timezone.utc).replace(microsecond=0)
END = NOW.replace(minute=0, second=0)   # the daily report at NOW's hour: its period ends here

TEXTS = ("I love this, it is wonderful and great", "I hate this, it is awful and broken",
         "It is a table", "Absolutely fantastic support, thank you", "Terrible outage, worst day")


@pytest.fixture
def reported(app, client, auth, drain, smtp_server):  # noqa: F811
    """(monitor id, email notifier id) with mentions in this period and in the one before."""
    app.config.update(SMTP_URL=smtp_server.url, SMTP_FROM="reports@sentimon.example",
                      PUBLIC_URL="http://sentimon.example")
    monitor_id, _ = new_monitor(app, "Acme <Launch> & Co")
    items = [{"external_id": f"r{i}", "text": TEXTS[i % len(TEXTS)], "author": f"author{i % 3}",
              "url": f"https://example.com/{i}",
              "published_at": (END - timedelta(hours=1 + (i * 37) % 47)).isoformat()} for i in range(40)]
    push(client, auth, drain, monitor_id, items)
    answer = client.post("/api/v1/notifiers", json={"kind": "email", "to": ["team@example.com"]}, headers=auth)
    assert answer.status_code == 201, answer.get_json()
    return monitor_id, answer.get_json()["id"]
