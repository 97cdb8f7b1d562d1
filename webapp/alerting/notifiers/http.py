"""One HTTP POST of a notification through the egress guard, shared by webhooks and chat services.

No redirects are followed (a moved endpoint is a failure to look at, not a place to send the
alert), 3 s to connect, 10 s in all, and the answer is read up to 1 MiB. The result carries the
status, the latency, the first part of the answer and the Retry-After delay, for the delivery
use case to decide about retries.
"""
from __future__ import annotations

import time

from webapp.core import egress
from webapp.alerting.notifiers.base import Context, NotifierInvalid, SendResult, excerpt
from webapp.alerting.notifiers.retry import parse_retry_after

CONNECT_TIMEOUT = 3.0
DEADLINE = 10.0
MAX_RESPONSE = 1024 * 1024
MAX_URL = 2048


def clean_url(value, policy: egress.EgressPolicy, what: str = "a webhook") -> str:
    """The stripped URL from a request if the egress guard could send to it (NotifierInvalid if not)."""
    if not isinstance(value, str) or not value.strip():
        raise NotifierInvalid("url", f"{what} needs a url")
    url = value.strip()
    if len(url) > MAX_URL:
        raise NotifierInvalid("url", f"the url is longer than {MAX_URL} characters")
    try:
        egress.check_url(url, policy, resolve=False)
    except egress.EgressError as exc:
        raise NotifierInvalid("url", str(exc)) from None
    return url


def post(url: str, body: bytes, headers: dict, ctx: Context) -> tuple[SendResult, egress.EgressResponse | None]:
    """POST `body` to `url`; (result, response) where a 2xx is ok and the response is None
    when none came (refused address, timeout, connection error)."""
    policy = ctx.with_policy(connect_timeout=CONNECT_TIMEOUT, deadline=DEADLINE, max_redirects=0).policy
    started = time.monotonic()
    try:
        response = egress.fetch(url, policy=policy, method="POST", body=body, headers=headers,
                                follow_redirects=False, deadline=DEADLINE, max_bytes=MAX_RESPONSE)
    except egress.EgressError as exc:
        return SendResult(False, error_code=exc.code, error=str(exc),
                          latency_ms=round(1000 * (time.monotonic() - started))), None
    ok = 200 <= response.status <= 299
    return SendResult(ok, status=response.status, latency_ms=round(1000 * (time.monotonic() - started)),
                      excerpt=excerpt(response.text), error=None if ok else f"HTTP {response.status}",
                      retry_after=parse_retry_after(response.headers.get("Retry-After"))), response
