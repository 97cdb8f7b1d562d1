"""Re-encrypt every stored secret with the first `ENCRYPTION_KEY` (`flask rotate-secrets`).

Rotation: put a new Fernet key in front of ENCRYPTION_KEY (`new,old`), run this once, then drop
the old key. Webhook secrets, notifier URLs and the sealed credential values of source settings are re-sealed
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
    for notifier in session.execute(select(Notifier)).scalars():
        secret, settings = is_sealed(notifier.secret), _rotated(notifier.settings)
        if secret:
            notifier.secret = rotate(notifier.secret)
        if settings is not None:
            notifier.settings = settings
        counts["notifiers"] += bool(secret or settings is not None)
    for source in session.execute(select(Source)).scalars():
        settings = _rotated(source.settings)
        if settings is not None:
            source.settings = settings
            counts["sources"] += 1
    session.commit()
    return counts


def _rotated(settings: dict | None) -> dict | None:
    """A copy of `settings` with every sealed value re-sealed; None when none is sealed."""
    settings = settings or {}
    if not any(is_sealed(value) for value in settings.values()):
        return None
    return {k: rotate(v) if is_sealed(v) else v for k, v in settings.items()}
