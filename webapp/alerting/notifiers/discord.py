"""Discord webhooks: `content` (≤ 2,000) and one embed, with `allowed_mentions: {"parse": []}`.

Embed limits: title 256, description 4,096, up to 25 fields (name 256, value 1,024), footer
2,048, 6,000 characters in all; counted in UTF-16 units as Discord does. Untrusted text is
Markdown-escaped; no mention can notify anyone. Success is 204; a 429 carries `retry_after`
(seconds, fractional) in its JSON body; an unknown webhook is 404 `{"code": 10015}`.
"""
from __future__ import annotations

import re

from webapp.alerting.notifiers.chat import ChatChannel, body_json, body_message
from webapp.alerting.notifiers.chat_view import ChatView, Markup, body_lines, clip, fit, units

CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FIELDS = 25
TOTAL = 6000
GONE_CODES = {10015, 50027}     # Unknown Webhook, Invalid Webhook Token
_SPECIAL = re.compile(r"([\\`*_~|>\[\]()#])")


def escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def link(url: str, text: str) -> str:
    return f"[{escape(text)}](<{url.replace('>', '%3E').replace(' ', '%20')}>)"


MARKDOWN = Markup(escape, lambda text: f"**{text}**", link)


def render(v: ChatView) -> dict:
    title = clip(v.title, TITLE)
    fields = [{"name": clip(k, FIELD_NAME), "value": clip(val, FIELD_VALUE) or "–", "inline": True}
              for k, val in v.facts[:FIELDS]]
    used = units(title) + sum(units(f["name"]) + units(f["value"]) for f in fields)
    embed = {"title": title, "color": int(v.color.lstrip("#"), 16), "fields": fields,
             "description": fit(body_lines(v, MARKDOWN, facts=False), min(DESCRIPTION, TOTAL - used), bool(v.link))}
    if v.link:
        embed["url"] = v.link
    return {"content": clip(f"**{escape(v.title)}**", CONTENT), "embeds": [embed],
            "allowed_mentions": {"parse": []}}


def explain(status: int, text: str) -> tuple[str, bool]:
    found = body_json(text)
    code = found.get("code") if isinstance(found, dict) else None
    reason = body_message(text) or f"HTTP {status}"
    return (f"{reason} (code {code})" if code else reason), code in GONE_CODES or status == 410


CHANNEL = ChatChannel(
    KIND="discord", LABEL="Discord", render=render, explain=explain,
    hosts=("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com"),
    PLACEHOLDER="https://discord.com/api/webhooks/123/abc",
    HELP="In Discord: channel settings → Integrations → Webhooks → New Webhook → Copy Webhook URL; "
         "paste the https://discord.com/api/webhooks/… URL here.")
