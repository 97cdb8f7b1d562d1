"""What every notification channel gets and returns.

Channels never touch the database or Flask: they get plain values (`Target`, `Outbound`,
`Context`) and return a `SendResult` describing what happened, without raising for delivery
problems. The delivery use case decides about retries from that result.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Mapping

from webapp.core.egress import EgressPolicy

EXCERPT_CHARS = 500


class NotifierInvalid(ValueError):
    """Settings that cannot make a notifier; `field` names the setting."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field, self.message = field, message


@dataclass(frozen=True)
class Context:
    """Settings a channel needs: the egress policy and SMTP, and where links point."""

    policy: EgressPolicy = field(default_factory=EgressPolicy)
    smtp_url: str = "smtp://127.0.0.1:1025"
    smtp_from: str = "sentimon@localhost"
    public_url: str = "http://127.0.0.1:5000"
    smtp_timeout: float = 10.0

    @classmethod
    def from_config(cls, config: Mapping, policy: EgressPolicy) -> "Context":
        return cls(policy=policy, smtp_url=config.get("SMTP_URL") or cls.smtp_url,
                   smtp_from=config.get("SMTP_FROM") or cls.smtp_from,
                   public_url=(config.get("PUBLIC_URL") or cls.public_url).rstrip("/"))

    def with_policy(self, **changes) -> "Context":
        return replace(self, policy=replace(self.policy, **changes))


@dataclass(frozen=True)
class Target:
    """A notifier as a channel sees it."""

    id: int
    kind: str
    name: str
    settings: dict
    secret: str | None = None


@dataclass(frozen=True)
class Outbound:
    """One message to send: the delivery it belongs to and its exact payload."""

    delivery_id: int
    webhook_id: str          # the same on every attempt; also the email's Message-ID
    payload: dict            # {"type", "timestamp", "data"}


@dataclass
class SendResult:
    ok: bool
    status: int | None = None          # HTTP status (webhooks) or SMTP reply code (email)
    error_code: str | None = None      # an egress error code, "smtp_temporary", "smtp_permanent", ...
    error: str | None = None
    latency_ms: int | None = None
    excerpt: str | None = None         # the first part of the response
    retry_after: float | None = None   # seconds, from a Retry-After header (or the service's body)
    gone: str | None = None            # the endpoint no longer exists: why the notifier is disabled

    @property
    def outcome(self) -> int | str:
        """What retry_decision looks at: the status if there was a response, else the error code."""
        return self.status if self.status is not None and self.error_code is None else (self.error_code or "protocol")


def excerpt(text: str | None) -> str | None:
    if not text:
        return None
    return text[:EXCERPT_CHARS]
