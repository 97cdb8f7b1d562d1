"""A failed delivery in words for the pages (“Send test”): never a raw Python error.

The delivery log keeps the technical `last_error` for admins; people who press “Send test” get
what went wrong and what to check. Pure: it reads the notifier kind, the stored error and the
HTTP (or SMTP) status.
"""
from __future__ import annotations

from http import HTTPStatus

from webapp.core.egress import ALLOW_HINT

_CREDENTIALS = "check the secret or token the receiver expects"
_HTTP_ADVICE = {401: _CREDENTIALS, 403: _CREDENTIALS, 404: "check the URL", 410: "the receiver is gone: check the URL",
                429: "the receiver is rate limiting requests"}


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "unexpected status"


def failure_sentence(kind: str, error: str | None, status: int | None) -> str:
    """Why a delivery to a notifier of `kind` failed, as a sentence (ends with a full stop)."""
    from webapp.alerting.notifiers import CHAT_KINDS

    error = (error or "").strip()
    low = error.lower()
    if kind in CHAT_KINDS and error:   # the chat channels store the service's reason in words (chat.py)
        return error if error.endswith(".") else f"{error}."
    if kind == "email":
        if low.startswith("recipients refused"):
            return f"the mail server refused the recipients (SMTP {status or '5xx'}); check the addresses."
        if low.startswith("smtp ") and status:
            return f"the mail server refused the message (SMTP {status}); see its log."
        if "timed out" in low:
            return "the mail server did not answer in time; check SMTP_URL and that the server is running."
        if "smtp_url" in low or "scheme" in low:
            return f"SMTP_URL is not usable ({error.rstrip('.')}); fix the setting and restart."
        return ("the mail server set in SMTP_URL could not be reached (connection refused or closed); "
                "check SMTP_URL and that the server is running.")
    if status:
        advice = _HTTP_ADVICE.get(status) or ("the receiver had an error" if status >= 500 else "check the receiver")
        return f"HTTP {status} ({_phrase(status)}) from the receiver: {advice}."
    if "non-public address" in low or "is a local address" in low:
        return f"{error.rstrip('.')}. {ALLOW_HINT}"
    if "did not answer" in low or "deadline" in low or "timed out" in low:
        return "the receiver did not answer in time."
    if "cannot resolve" in low or "no ip address" in low:
        return "the receiver's host name could not be found; check the URL."
    if "cannot connect" in low or "tls" in low:
        return "no connection could be made to the receiver (refused, unreachable or a TLS problem)."
    return "the delivery failed; the delivery log on the alert's page has the details."
