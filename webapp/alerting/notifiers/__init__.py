"""Notification channels, one module per channel behind a small registry.

A channel (a module, or a `chat.ChatChannel` declared in the chat service's module) has `KIND`,
`LABEL`, `clean_settings(data, policy) -> (settings, secret)` (raises NotifierInvalid),
`send(target, outbound, context) -> SendResult` (never raises for a delivery problem), and
`default_name(settings)`, `shown(settings)` (what the API shows), `target(settings)` (what the
pages show) and `sent_sentence(name, status, latency_ms)` (a successful *Send test*). Everything
else looks a kind up here instead of comparing kind strings. The outbox and retries live in
`delivery`, notifier records in `manage`.
"""
from __future__ import annotations

from webapp.alerting.notifiers import discord, email, google_chat, mattermost, slack, teams, webhook
from webapp.alerting.notifiers.base import Context, NotifierInvalid, Outbound, SendResult, Target

CHANNELS: dict = {c.KIND: c for c in (email, webhook, slack.CHANNEL, mattermost.CHANNEL, discord.CHANNEL,
                                      teams.CHANNEL, google_chat.CHANNEL)}
CHAT_KINDS = tuple(c.KIND for c in CHANNELS.values() if not isinstance(c, type(email)))


def get_channel(kind: str):
    try:
        return CHANNELS[kind]
    except (KeyError, TypeError):
        raise NotifierInvalid("kind", f"unknown notifier kind {kind!r}; use one of {', '.join(CHANNELS)}") from None


__all__ = ["CHANNELS", "CHAT_KINDS", "Context", "NotifierInvalid", "Outbound", "SendResult", "Target", "get_channel"]
