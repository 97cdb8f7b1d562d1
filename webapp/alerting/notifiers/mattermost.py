"""Mattermost incoming webhooks: one Markdown `text` (at most 16,383 characters).

Mattermost is self-hosted, so any https URL is accepted (the egress guard still refuses private
addresses unless EGRESS_ALLOW opens them). Untrusted text is Markdown-escaped and every `@` gets
a zero-width joiner, so no mention can notify @channel or @all. Success is 200 `ok`; errors are
JSON with `id` and `message` (`web.incoming_webhook.invalid.app_error`: the hook is gone).
"""
from __future__ import annotations

import re

from webapp.alerting.notifiers.chat import ChatChannel, body_message, body_json
from webapp.alerting.notifiers.chat_view import ChatView, Markup, body_lines, fit

TEXT = 16383
_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-!|>~])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text).replace("@", "@\u200d")


def link(url: str, text: str) -> str:
    return f"[{escape(text)}](<{url.replace('>', '%3E').replace(' ', '%20')}>)"


MARKDOWN = Markup(escape, lambda text: f"**{text}**", link, bullet="-")


def render(v: ChatView) -> dict:
    return {"text": fit([f"#### {escape(v.title)}", *body_lines(v, MARKDOWN)], TEXT)}


def explain(status: int, text: str) -> tuple[str, bool]:
    found = body_json(text)
    gone = status in (404, 410) or (isinstance(found, dict) and "incoming_webhook.invalid" in str(found.get("id")))
    return body_message(text) or f"HTTP {status}", gone


CHANNEL = ChatChannel(
    KIND="mattermost", LABEL="Mattermost", render=render, explain=explain, hosts=(), any_https_host=True,
    PLACEHOLDER="https://chat.example.com/hooks/xxx-generatedkey-xxx",
    HELP="In Mattermost: Integrations → Incoming Webhooks → Add, pick the channel; paste the "
         "https://<your server>/hooks/… URL here.")
