"""Login throttling: at most N failed sign-ins per account and per client address per window.

The counts live where every web process sees them: Redis when one is configured
(RATELIMIT_STORAGE_URL, or CELERY_BROKER_URL when that is redis://), else a SQL table
(`login_throttle`), so the two gunicorn workers of the embedded mode share them too.

A window opens with the first failure of a key and lasts LOGIN_WINDOW_SECONDS; the
attempt after LOGIN_MAX_ATTEMPTS failures (per account) or LOGIN_MAX_ATTEMPTS_PER_IP failures
(per address) is refused until the window ends, before the password is even checked. Unknown
email addresses count like known ones, so a refusal tells nothing about which accounts exist.
A successful sign-in clears its account's count, never the address's (an attacker with an
account of their own could otherwise reset it between guesses).

`decide` is the pure decision; the stores only count.
"""
from __future__ import annotations

import hashlib
import logging
import math
import time
from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import case, delete, select

from webapp.people.models import LoginThrottle
from webapp.core.sql import insert_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Counter:
    """Failures counted for one key and the seconds until its window ends."""

    failures: int
    resets_in: float


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: int = 0          # whole seconds, for the Retry-After header
    scope: str = ""               # "account" or "ip": which limit refused


@dataclass(frozen=True)
class Limits:
    per_account: int = 20
    per_ip: int = 20
    window: int = 900             # seconds

    @classmethod
    def from_config(cls, config) -> "Limits":
        return cls(per_account=int(config.get("LOGIN_MAX_ATTEMPTS", 20)),
                   per_ip=int(config.get("LOGIN_MAX_ATTEMPTS_PER_IP", config.get("LOGIN_MAX_ATTEMPTS", 20))),
                   window=int(config.get("LOGIN_WINDOW_SECONDS", 900)))


def decide(account: Counter, ip: Counter, limits: Limits) -> Decision:
    """Refuse when either count has reached its limit inside its window (pure)."""
    refused = [(scope, c) for scope, c, limit in (("account", account, limits.per_account),
                                                   ("ip", ip, limits.per_ip))
               if limit > 0 and c.failures >= limit and c.resets_in > 0]
    if not refused:
        return Decision(True)
    scope, counter = max(refused, key=lambda item: item[1].resets_in)
    return Decision(False, retry_after=max(1, math.ceil(counter.resets_in)), scope=scope)


def keys(email: str, ip: str) -> tuple[str, str]:
    """(account key, address key); the email is hashed so no address is stored in the clear."""
    digest = hashlib.sha256((email or "").strip().lower().encode("utf-8")).hexdigest()[:40]
    return f"account:{digest}", f"ip:{(ip or 'unknown')[:64]}"


class SqlStore:
    """Counts in the `login_throttle` table (atomic upserts; SQLite and PostgreSQL)."""

    def __init__(self, session):
        self.session = session

    def get(self, key: str, window: int, now: float) -> Counter:
        row = self.session.execute(
            select(LoginThrottle.failures, LoginThrottle.started).where(LoginThrottle.key == key)
        ).first()
        if row is None or row.started <= now - window:
            return Counter(0, 0.0)
        return Counter(row.failures, row.started + window - now)

    def hit(self, key: str, window: int, now: float) -> Counter:
        table = LoginThrottle.__table__
        live = table.c.started > now - window
        insert = insert_for(self.session.get_bind())(table).values(key=key, started=now, failures=1)
        stmt = insert.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={"failures": case((live, table.c.failures + 1), else_=1),
                  "started": case((live, table.c.started), else_=now)},
        ).returning(table.c.failures, table.c.started)
        failures, started = self.session.execute(stmt).one()
        # Old rows of other keys are dead weight: drop a few now and then.
        if failures == 1:
            self.session.execute(delete(LoginThrottle).where(LoginThrottle.started < now - 2 * window))
        self.session.commit()
        return Counter(failures, started + window - now)

    def clear(self, key: str) -> None:
        self.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
        self.session.commit()


class RedisStore:
    """Counts in Redis: SET key 0 EX window NX, then INCR, in one MULTI (every process shares them)."""

    def __init__(self, client, prefix: str = "sentimon:login:"):
        self.client, self.prefix = client, prefix

    def get(self, key: str, window: int, now: float) -> Counter:
        with self.client.pipeline() as pipe:
            raw, ttl = pipe.get(self.prefix + key).pttl(self.prefix + key).execute()
        if raw is None or ttl is None or ttl <= 0:
            return Counter(0, 0.0)
        return Counter(int(raw), ttl / 1000)

    def hit(self, key: str, window: int, now: float) -> Counter:
        name = self.prefix + key
        with self.client.pipeline(transaction=True) as pipe:
            _, failures, ttl = pipe.set(name, 0, ex=window, nx=True).incr(name).pttl(name).execute()
        return Counter(int(failures), max(ttl, 0) / 1000)

    def clear(self, key: str) -> None:
        self.client.delete(self.prefix + key)


@lru_cache(maxsize=8)
def _redis(url: str):
    import redis

    return redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)


def storage_url(config) -> str:
    """RATELIMIT_STORAGE_URL, else the Celery broker when it is Redis, else "" (the SQL store)."""
    url = (config.get("RATELIMIT_STORAGE_URL") or "").strip()
    if url:
        return url
    broker = config.get("CELERY_BROKER_URL") or ""
    return broker if broker.startswith(("redis://", "rediss://")) else ""


def store_for(config, session):
    url = storage_url(config)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisStore(_redis(url), config.get("RATELIMIT_KEY_PREFIX") or "sentimon:login:")
    if url and url not in ("sql", "sql://"):
        raise ValueError(f"RATELIMIT_STORAGE_URL must be redis://... or sql://, not {url!r}")
    return SqlStore(session)


class Throttle:
    """The login page's view of the limits: check before the password, record after it."""

    def __init__(self, store, limits: Limits, clock=time.time):
        self.store, self.limits, self.clock = store, limits, clock

    @classmethod
    def for_config(cls, config, session) -> "Throttle":
        return cls(store_for(config, session), Limits.from_config(config))

    def check(self, email: str, ip: str) -> Decision:
        account, address = keys(email, ip)
        now, window = self.clock(), self.limits.window
        try:
            return decide(self.store.get(account, window, now), self.store.get(address, window, now),
                          self.limits)
        except Exception as exc:  # noqa: BLE001 - a store outage must not lock everyone out
            self._recover(exc, "not throttling")
            return Decision(True)

    def failed(self, email: str, ip: str) -> None:
        account, address = keys(email, ip)
        now, window = self.clock(), self.limits.window
        try:
            self.store.hit(account, window, now)
            self.store.hit(address, window, now)
        except Exception as exc:  # noqa: BLE001
            self._recover(exc, "failure not counted")

    def succeeded(self, email: str) -> None:
        try:
            self.store.clear(keys(email, "")[0])
        except Exception as exc:  # noqa: BLE001
            self._recover(exc, "count not cleared")

    def _recover(self, exc: Exception, consequence: str) -> None:
        log.error("login throttle store unavailable, %s: %s", consequence, type(exc).__name__)
        session = getattr(self.store, "session", None)
        if session is not None:
            session.rollback()
