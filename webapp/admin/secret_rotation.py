"""Re-encrypt every stored secret with the first `ENCRYPTION_KEY` (`flask rotate-secrets`).

Rotation: put a new Fernet key in front of ENCRYPTION_KEY (`new,old`), run this once, then drop
the old key. Webhook secrets, notifier URLs and the sealed credential values of source settings are re-sealed
(MultiFernet.rotate: decrypted with whichever key fits, encrypted with the first); nothing is
shown or logged. One transaction: either every secret moves to the new key or none does.
"""
from __future__ import annotations

from sqlalchemy import select

from webapp.core.crypto import is_sealed, rotate, rotate_settings
from webapp.alerting.models import Notifier
from webapp.monitors.models import Source


def rotate_all(session) -> dict[str, int]:
    """Re-seal all stored secrets with the first key; commits. Returns counts per kind of row."""
    counts = {"notifiers": 0, "sources": 0}
    for notifier in session.execute(select(Notifier)).scalars():
        secret, settings = is_sealed(notifier.secret), rotate_settings(notifier.settings)
        rotated = settings is not notifier.settings
        if secret:
            notifier.secret = rotate(notifier.secret)
        if rotated:
            notifier.settings = settings
        counts["notifiers"] += secret or rotated
    for source in session.execute(select(Source)).scalars():
        settings = rotate_settings(source.settings)
        if settings is not source.settings:
            source.settings = settings
            counts["sources"] += 1
    session.commit()
    return counts
