"""Notification channels, one module per channel behind a small registry.

A channel module has `KIND`, `clean_settings(data, policy) -> (settings, secret)` (raises
NotifierInvalid) and `send(target, outbound, context) -> SendResult` (never raises for a
delivery problem). The outbox and retries live in `delivery`, notifier records in `manage`.
"""
from __future__ import annotations

from types import ModuleType

from webapp.alerting.notifiers import email, webhook
from webapp.alerting.notifiers.base import Context, NotifierInvalid, Outbound, SendResult, Target

CHANNELS: dict[str, ModuleType] = {email.KIND: email, webhook.KIND: webhook}


def get_channel(kind: str) -> ModuleType:
    try:
        return CHANNELS[kind]
    except (KeyError, TypeError):
        raise NotifierInvalid("kind", f"unknown notifier kind {kind!r}; use one of {', '.join(CHANNELS)}") from None


__all__ = ["CHANNELS", "Context", "NotifierInvalid", "Outbound", "SendResult", "Target", "get_channel"]
