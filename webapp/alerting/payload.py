"""The message every notifier receives (pure): {type, timestamp, data}, as in CONTRACT.md.

`data` has the rule, the monitor, the status, the value and threshold (with the comparison),
the window, up to five sample mentions and a link back to the monitor's alerts page.
"""
from __future__ import annotations

from datetime import datetime

from webapp.alerting.kinds import get_kind

SAMPLES = 5
TEXT_CHARS = 500
TYPES = {"firing": "alert.firing", "reminder": "alert.firing", "resolved": "alert.resolved"}


def mention_sample(m) -> dict:
    return {"id": m.id, "text": m.text[:TEXT_CHARS], "author": m.author, "url": m.url,
            "published_at": m.published_at.isoformat(), "label": m.label, "compound": m.compound}


def monitor_link(public_url: str, monitor_id: int) -> str:
    return f"{public_url.rstrip('/')}/monitors/{monitor_id}/alerts"


def alert_payload(*, notification: str, at: datetime, rule, monitor, value, threshold,
                  samples: list[dict], public_url: str, event_id: int, details: dict | None = None,
                  more: int = 0) -> dict:
    """The payload of a firing / reminder / resolved notification of `rule`."""
    condition = get_kind(rule.kind).condition(rule)
    data = {
        "rule": {"id": rule.id, "name": rule.name, "kind": rule.kind},
        "monitor": {"id": monitor.id, "name": monitor.name},
        "status": "resolved" if notification == "resolved" else "firing",
        "value": value,
        "threshold": threshold,
        "op": condition["op"],
        "window": condition["window"],
        "sample_mentions": samples[:SAMPLES],
        "link": monitor_link(public_url, monitor.id),
        "event_id": event_id,
        "reminder": notification == "reminder",
    }
    if more:
        data["more_mentions"] = more
    if details:
        data["details"] = details
    return {"type": TYPES[notification], "timestamp": at.isoformat(), "data": data}
