"""A Celery beat scheduler that only sends tasks while it holds the scheduler lease.

Start as many beats as you like (`celery -A tasks beat`, the default scheduler here): one is
the leader and sends; the others stand by and take over within BEAT_LEASE_SECONDS when the
leader dies. Every scheduled unit is also idempotent on (thing, slot), so a brief overlap
could not send anything twice either.
"""
from __future__ import annotations

import logging
import os
import socket
import uuid

from celery.beat import PersistentScheduler

from webapp.core import leases

log = logging.getLogger(__name__)
LEASE_NAME = "celery-beat"


class LeaderScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.leading = False
        self.ttl = float(self.app.flask_app.config["BEAT_LEASE_SECONDS"])

    def _engine(self):
        from webapp.core.extensions import db

        with self.app.flask_app.app_context():
            return db.engine

    def is_leader(self) -> bool:
        try:
            leading = leases.acquire(self._engine(), LEASE_NAME, self.owner, self.ttl)
        except Exception:
            log.warning("cannot reach the database to renew the scheduler lease", exc_info=True)
            leading = False
        if leading != self.leading:
            log.warning("beat %s is now %s", self.owner, "the leader" if leading else "standing by")
            self.leading = leading
        return leading

    def tick(self, *args, **kwargs):
        # Renew on every tick (at most beat_max_loop_interval apart), not only when sending.
        self.is_leader()
        return super().tick(*args, **kwargs)

    def apply_entry(self, entry, producer=None):
        if self.is_leader():
            return super().apply_entry(entry, producer=producer)
        log.debug("standby beat %s skips %s", self.owner, entry.name)
        return None

    def close(self):
        if self.leading:
            try:
                leases.release(self._engine(), LEASE_NAME, self.owner)
            except Exception:
                log.warning("could not release the scheduler lease", exc_info=True)
        super().close()
