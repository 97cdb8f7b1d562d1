"""Webhooks, signed per Standard Webhooks (https://www.standardwebhooks.com/).

Each request carries `webhook-id` (the same on every attempt of one delivery), `webhook-timestamp`
(Unix seconds of the attempt) and `webhook-signature: v1,<base64 HMAC-SHA256>` over
"{id}.{timestamp}.{body}" with the key that is base64-encoded after `whsec_` in the secret.
Requests go through the egress client only: 3 s to connect, 10 s in all, no redirects.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time

from webapp.core.crypto import reveal
from webapp.core import egress
from webapp.alerting.notifiers.base import Context, NotifierInvalid, Outbound, SendResult, Target, excerpt
from webapp.alerting.notifiers.retry import parse_retry_after

KIND = "webhook"
SECRET_PREFIX = "whsec_"
CONNECT_TIMEOUT = 3.0
DEADLINE = 10.0
MAX_RESPONSE = 1024 * 1024
MAX_URL = 2048


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
    url = data.get("url")
    if not isinstance(url, str) or not url.strip():
        raise NotifierInvalid("url", "a webhook needs a url")
    url = url.strip()
    if len(url) > MAX_URL:
        raise NotifierInvalid("url", f"the url is longer than {MAX_URL} characters")
    try:
        egress.check_url(url, policy, resolve=False)
    except egress.EgressError as exc:
        raise NotifierInvalid("url", str(exc)) from None
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
    policy = ctx.with_policy(connect_timeout=CONNECT_TIMEOUT, deadline=DEADLINE, max_redirects=0).policy
    started = time.monotonic()
    try:
        response = egress.fetch(target.settings["url"], policy=policy, method="POST", body=body,
                                headers=headers, follow_redirects=False, deadline=DEADLINE,
                                max_bytes=MAX_RESPONSE)
    except egress.EgressError as exc:
        return SendResult(False, error_code=exc.code, error=str(exc),
                          latency_ms=round(1000 * (time.monotonic() - started)))
    latency = round(1000 * (time.monotonic() - started))
    ok = 200 <= response.status <= 299
    return SendResult(ok, status=response.status, latency_ms=latency, excerpt=excerpt(response.text),
                      error=None if ok else f"HTTP {response.status}",
                      retry_after=parse_retry_after(response.headers.get("Retry-After")))
