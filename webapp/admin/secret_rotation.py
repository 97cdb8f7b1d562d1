"""Re-encrypt every stored secret with the first `ENCRYPTION_KEY` (`flask rotate-secrets`).

Rotation: put a new Fernet key in front of ENCRYPTION_KEY (`new,old`), run this once, then drop
the old key. Webhook secrets and the sealed credential values of source settings are re-sealed
(MultiFernet.rotate: decrypted with whichever key fits, encrypted with the first); nothing is
shown or logged. One transaction: either every secret moves to the new key or none does.
"""
from __future__ import annotations

from sqlalchemy import select

from webapp.core.crypto import is_sealed, rotate
from webapp.alerting.models import Notifier
from webapp.monitors.models import Source


def rotate_all(session) -> dict[str, int]:
    """Re-seal all stored secrets with the first key; commits. Returns counts per kind of row."""
    counts = {"notifiers": 0, "sources": 0}
    for notifier in session.execute(select(Notifier).where(Notifier.secret.is_not(None))).scalars():
        if is_sealed(notifier.secret):
            notifier.secret = rotate(notifier.secret)
            counts["notifiers"] += 1
    for source in session.execute(select(Source)).scalars():
        settings = source.settings or {}
        if any(is_sealed(value) for value in settings.values()):
            source.settings = {k: rotate(v) if is_sealed(v) else v for k, v in settings.items()}
            counts["sources"] += 1
    session.commit()
    return counts
