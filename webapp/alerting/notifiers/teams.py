"""Microsoft Teams through a Workflows (Power Automate) webhook: an Adaptive Card 1.4 in a message.

The body is `{"type": "message", "attachments": [{"contentType":
"application/vnd.microsoft.card.adaptive", "content": <AdaptiveCard>}]}`, which the “Send webhook
alerts to a channel” workflow posts as is. Teams takes about 28 KB per message: texts are cut
and samples dropped to stay under it. Workflows answer 202 Accepted; errors are JSON
`{"error": {"code", "message"}}`.
"""
from __future__ import annotations

import json

from webapp.alerting.notifiers.chat import ChatChannel
from webapp.alerting.notifiers.chat_view import ChatView, clip

MAX_BYTES = 27_000
TEXT = 2000
CARD = "application/vnd.microsoft.card.adaptive"
STYLES = {"firing": "attention", "reminder": "attention", "resolved": "good"}


def _text(text: str, **style) -> dict:
    return {"type": "TextBlock", "text": clip(text, TEXT), "wrap": True, **style}


def card(v: ChatView, samples: int) -> dict:
    body = [_text(v.title, size="Medium", weight="Bolder", color=STYLES.get(v.status, "default"))]
    if v.facts:
        body.append({"type": "FactSet", "facts": [{"title": clip(k, 100), "value": clip(val, 500)}
                                                  for k, val in v.facts]})
    body += [_text(line) for line in [v.text, *v.notes] if line]
    if v.samples[:samples]:
        body.append(_text("Sample mentions", weight="Bolder", spacing="Medium"))
        body += [_text(f"{s.label}: {s.text}" + (f" ({s.url})" if s.url else ""), isSubtle=True)
                 for s in v.samples[:samples]]
        if v.more:
            body.append(_text(f"… and {v.more} more", isSubtle=True))
    content = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
               "version": "1.4", "body": body, "msteams": {"width": "Full"}}
    if v.link:
        content["actions"] = [{"type": "Action.OpenUrl", "title": v.link_text, "url": v.link}]
    return {"type": "message", "attachments": [{"contentType": CARD, "contentUrl": None, "content": content}]}


def render(v: ChatView) -> dict:
    for samples in range(len(v.samples), -1, -1):   # drop samples until the message fits
        message = card(v, samples)
        if len(json.dumps(message, ensure_ascii=False).encode()) <= MAX_BYTES:
            return message
    return message


CHANNEL = ChatChannel(
    KIND="teams", LABEL="Microsoft Teams", render=render,
    hosts=(".logic.azure.com", ".powerplatform.com", ".powerautomate.com", ".flow.microsoft.com"),
    PLACEHOLDER="https://prod-00.westus.logic.azure.com:443/workflows/…",
    HELP="In Teams: the channel's ⋯ → Workflows → “Send webhook alerts to a channel”; paste the "
         "workflow's HTTP POST URL (…logic.azure.com or …powerplatform.com) here.")
