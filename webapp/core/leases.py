"""Coordination in the app's own database (SQLite and PostgreSQL): leader leases, delivery counts.

A process holds a lease while it renews it before `expires_at`; when it dies, another takes
over after at most `ttl` seconds. Both the check and the take-over are one conditional UPDATE,
so two contenders can never both win.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from sqlalchemy import delete, or_, select, update
from sqlalchemy.engine import Engine

from webapp.core.models import Lease, TaskDelivery
from webapp.core.sql import insert_for


def acquire(engine: Engine, name: str, owner: str, ttl: float, now: datetime | None = None) -> bool:
    """Take or renew lease `name` for `owner`; True when `owner` holds it afterwards."""
    now = now or datetime.now(timezone.utc)
    until = now + timedelta(seconds=ttl)
    with engine.begin() as conn:
        insert = insert_for(conn)
        created = conn.execute(
            insert(Lease).values(name=name, owner=owner, expires_at=until).on_conflict_do_nothing()
        )
        if created.rowcount == 1:
            return True
        taken = conn.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.owner == owner, Lease.expires_at < now))
            .values(owner=owner, expires_at=until)
        )
        return taken.rowcount == 1


def release(engine: Engine, name: str, owner: str) -> None:
    """Give the lease up at once (a clean shutdown), so a standby takes over without waiting."""
    with engine.begin() as conn:
        conn.execute(
            update(Lease).where(Lease.name == name, Lease.owner == owner)
            .values(expires_at=datetime(1970, 1, 1, tzinfo=timezone.utc))
        )


def count_start(engine: Engine, key: str, task_name: str, now: datetime | None = None) -> int:
    """Record one more start of the task delivery `key`; returns how many starts it has had."""
    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        insert = insert_for(conn)
        stmt = insert(TaskDelivery).values(key=key, task_name=task_name, starts=1, first_at=now)
        stmt = stmt.on_conflict_do_update(
            index_elements=["key"], set_={"starts": TaskDelivery.__table__.c.starts + 1})
        conn.execute(stmt)
        return conn.execute(select(TaskDelivery.starts).where(TaskDelivery.key == key)).scalar_one()


def prune_deliveries(engine: Engine, older_than: timedelta = timedelta(days=1),
                     now: datetime | None = None) -> int:
    now = now or datetime.now(timezone.utc)
    with engine.begin() as conn:
        return conn.execute(
            delete(TaskDelivery).where(TaskDelivery.first_at < now - older_than)
        ).rowcount or 0
