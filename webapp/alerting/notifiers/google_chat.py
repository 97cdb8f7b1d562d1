"""Google Chat incoming webhooks: one `text` message (at most 4,096 characters).

Google Chat formats *bold* and <url|links>, and `<users/all>` would notify a whole space, so
`<` in untrusted text becomes ‹. Success is 200 with the created message; errors
are JSON `{"error": {"code", "message", "status"}}`, 429 RESOURCE_EXHAUSTED when rate limited.
"""
from __future__ import annotations

from webapp.alerting.notifiers.chat import ChatChannel
from webapp.alerting.notifiers.chat_view import ChatView, Markup, body_lines, fit

TEXT = 4096


def escape(text: str) -> str:
    return text.replace("<", "‹")


def link(url: str, text: str) -> str:
    return f"<{url.replace('|', '%7C').replace('>', '%3E')}|{escape(text).replace('|', '¦')}>"


MARKUP = Markup(escape, lambda text: f"*{text}*", link)


def render(v: ChatView) -> dict:
    return {"text": fit([f"*{escape(v.title)}*", *body_lines(v, MARKUP)], TEXT)}


CHANNEL = ChatChannel(
    KIND="google_chat", LABEL="Google Chat", render=render, hosts=("chat.googleapis.com",),
    PLACEHOLDER="https://chat.googleapis.com/v1/spaces/AAAA/messages?key=…&token=…",
    HELP="In Google Chat: the space's name → Apps & integrations → Webhooks → Add webhook; paste the "
         "https://chat.googleapis.com/v1/spaces/… URL here.")
