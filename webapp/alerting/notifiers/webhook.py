"""Webhooks, signed per Standard Webhooks (https://www.standardwebhooks.com/).

Each request carries `webhook-id` (the same on every attempt of one delivery), `webhook-timestamp`
(Unix seconds of the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
"{id}.{timestamp}.{body}" with the key that is base64-encoded after `whsec_` in the secret.
Requests go through the egress client only (notifiers/http.py): 3 s to connect, 10 s in all, no redirects.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from urllib.parse import urlsplit

from webapp.core.crypto import reveal
from webapp.alerting.notifiers import http
from webapp.alerting.notifiers.base import Context, NotifierInvalid, Outbound, SendResult, Target

KIND = "webhook"
FIELDS = ("url", "secret")     # what a request may give besides kind and name
LABEL = "Webhook"
GENERATES_SECRET = True      # a secret made here is shown once to its creator
SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(24)).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key: the base64-decoded part after `whsec_` (ValueError if it is not base64)."""
    raw = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the secret is not base64 after 'whsec_'") from exc


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header value for one request."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def body_bytes(payload: dict) -> bytes:
    """The JSON body, byte-for-byte the same on every attempt."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_headers(secret: str, msg_id: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"Content-Type": "application/json", "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp), "webhook-signature": sign(secret, msg_id, timestamp, body)}


def clean_settings(data: dict, policy) -> tuple[dict, str]:
    """({"url"}, secret) from a request; a secret is generated when none is given."""
    url = http.clean_url(data.get("url"), policy)
    secret = data.get("secret")
    if secret in (None, ""):
        return {"url": url}, new_secret()
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        raise NotifierInvalid("secret", "the secret must start with 'whsec_' followed by base64")
    try:
        size = len(secret_key(secret))
    except ValueError as exc:
        raise NotifierInvalid("secret", str(exc)) from None
    if not 24 <= size <= 64:
        raise NotifierInvalid("secret", "the secret must decode to 24 to 64 bytes")
    return {"url": url}, secret


def send(target: Target, message: Outbound, ctx: Context) -> SendResult:
    body = body_bytes(message.payload)
    headers = signed_headers(reveal(target.secret) or "", message.webhook_id, body)  # stored sealed
    result, _ = http.post(target.settings["url"], body, headers, ctx)
    if result.status == 410:
        result.gone = "the endpoint answered 410 Gone"
    return result


def default_name(settings: dict) -> str:
    return f"webhook {urlsplit(settings['url']).hostname}"[:120]


def shown(settings: dict) -> dict:
    """What the API and the pages show of the settings."""
    return {"url": settings.get("url")}


def target(settings: dict) -> str:
    return settings.get("url", "")


def sent_sentence(name: str, status, latency_ms) -> str:
    return f"Test sent to “{name}” (HTTP {status}, {latency_ms} ms)."
