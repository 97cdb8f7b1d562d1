"""Slack incoming webhooks: `text` (the notification fallback) and Block Kit `blocks`.

Slack's mrkdwn escapes `&`, `<` and `>` (as &amp; &lt; &gt;) in every untrusted value, so a
mention's text can never become a link or an @channel. Limits: header text 150 characters,
section text 3,000, 10 fields of 2,000 each. Slack answers `ok` (200) or a 4xx with a short code
in the body (invalid_payload, no_service, channel_not_found, action_prohibited, ...).
"""
from __future__ import annotations

from webapp.alerting.notifiers.chat import ChatChannel, body_message
from webapp.alerting.notifiers.chat_view import ChatView, Markup, body_lines, clip, fit

HEADER = 150
SECTION = 3000
FIELD = 2000
FIELDS = 10

REASONS = {   # Slack's error codes: (what a person reads, the webhook is gone for good)
    "invalid_payload": ("the message is not in a format Slack accepts (invalid_payload)", False),
    "no_text": ("the message had no text (no_text)", False),
    "too_many_attachments": ("the message had too many attachments (too_many_attachments)", False),
    "user_not_found": ("the webhook's user was not found (user_not_found)", False),
    "action_prohibited": ("a Slack admin restricted posting with this webhook (action_prohibited)", False),
    "posting_to_general_channel_denied": ("only admins may post to this channel "
                                          "(posting_to_general_channel_denied)", False),
    "channel_not_found": ("the webhook's channel no longer exists (channel_not_found)", True),
    "channel_is_archived": ("the webhook's channel is archived (channel_is_archived)", True),
    "no_service": ("the webhook was disabled or removed in Slack (no_service)", True),
    "no_service_id": ("the webhook URL is incomplete (no_service_id)", True),
    "no_team": ("the Slack workspace no longer exists (no_team)", True),
    "team_disabled": ("the Slack workspace was disabled (team_disabled)", True),
    "invalid_token": ("the webhook's token is no longer valid (invalid_token)", True),
}


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link(url: str, text: str) -> str:
    safe = url.replace("&", "&amp;").replace("<", "%3C").replace(">", "%3E").replace("|", "%7C")
    return f"<{safe}|{escape(text)}>"


MRKDWN = Markup(escape, lambda text: f"*{text}*", link)


def render(v: ChatView) -> dict:
    blocks: list[dict] = [{"type": "header", "text": {"type": "plain_text", "text": clip(v.title, HEADER),
                                                      "emoji": False}}]
    if v.facts:
        blocks.append({"type": "section", "fields": [
            {"type": "mrkdwn", "text": clip(f"*{escape(k)}*\n{escape(val)}", FIELD)} for k, val in v.facts[:FIELDS]]})
    rest = body_lines(v, MRKDWN, facts=False)
    if rest:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": fit(rest, SECTION, bool(v.link))}})
    return {"text": fit([f"*{escape(v.title)}*", *body_lines(v, MRKDWN)], SECTION), "blocks": blocks}


def explain(status: int, text: str) -> tuple[str, bool]:
    code = (text or "").strip()
    if code in REASONS:
        return REASONS[code]
    return body_message(text) or f"HTTP {status}", status == 410


CHANNEL = ChatChannel(
    KIND="slack", LABEL="Slack", render=render, explain=explain,
    hosts=("hooks.slack.com", "hooks.slack-gov.com"),
    PLACEHOLDER="https://hooks.slack.com/services/T000/B000/XXXX",
    HELP="In Slack: create an app, turn on Incoming Webhooks, “Add New Webhook to Workspace” and pick "
         "the channel; paste the https://hooks.slack.com/services/… URL here.")
