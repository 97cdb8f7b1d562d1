"""Dead letters: records the consumer set aside after they kept failing, and their replay.

Both buses keep every dead letter in the `dead_letters` table (Kafka also writes it to
`<topic>.dlt`, the raw archive), so this one service lists and replays them whichever bus runs.
Replaying publishes the record again to its topic through the bus, where the consumers pick
it up like any other; the payload can be corrected first (a malformed time, an empty text).
A replay is claimed before it is published (a conditional UPDATE of `replayed_at`), so two
people pressing *Replay* at once publish it once; if the publish fails the claim is undone.
Ingest is idempotent, so even a replay of something stored in the meantime adds nothing.
"""
from __future__ import annotations

import json

from sqlalchemy import func, select, update

from webapp.ingest.bus.models import DeadLetter
from webapp.core.types import utcnow
from webapp.ingest.bus import Bus, decode


class ReplayError(ValueError):
    """The dead letter cannot be replayed as asked (unknown, already replayed, bad payload)."""


def list_letters(session, *, replayed: bool = False, limit: int = 100, offset: int = 0) -> tuple[list[DeadLetter], int]:
    """Dead letters waiting (or, with `replayed`, those replayed), newest first, and their total."""
    where = DeadLetter.replayed_at.is_not(None) if replayed else DeadLetter.replayed_at.is_(None)
    total = session.execute(select(func.count()).select_from(DeadLetter).where(where)).scalar() or 0
    rows = session.execute(select(DeadLetter).where(where).order_by(DeadLetter.id.desc())
                           .limit(limit).offset(offset)).scalars().all()
    return list(rows), total


def pretty_payload(letter: DeadLetter) -> str:
    """The payload as indented JSON for editing (as stored when it is not JSON)."""
    try:
        return json.dumps(json.loads(letter.payload), indent=2, ensure_ascii=False, sort_keys=True)
    except ValueError:
        return letter.payload


def parse_payload(text: str) -> dict:
    """A corrected payload from the page: a JSON object, else ReplayError with the reason."""
    try:
        return decode(text)
    except ValueError as exc:
        raise ReplayError(f"The payload must be a JSON object: {exc}") from exc


def replay(session, bus: Bus, letter_id: int, payload: dict | None = None) -> DeadLetter:
    """Publish dead letter `letter_id` again (its stored payload, or `payload`), mark it replayed.

    Commits. Raises ReplayError when there is no such letter or it was replayed already.
    """
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        raise ReplayError("No such dead letter.")
    value = payload if payload is not None else parse_payload(letter.payload)
    now = utcnow()
    claimed = session.execute(
        update(DeadLetter).where(DeadLetter.id == letter_id, DeadLetter.replayed_at.is_(None))
        .values(replayed_at=now).execution_options(synchronize_session=False)).rowcount == 1
    session.commit()
    if not claimed:
        raise ReplayError("This dead letter was replayed already.")
    try:
        bus.publish(letter.topic, [(letter.key, value)])
    except Exception:
        session.execute(update(DeadLetter).where(DeadLetter.id == letter_id, DeadLetter.replayed_at == now)
                        .values(replayed_at=None).execution_options(synchronize_session=False))
        session.commit()
        raise
    session.refresh(letter)
    return letter


def replay_all(session, bus: Bus, limit: int = 1000) -> int:
    """Replay up to `limit` waiting dead letters as they are, oldest first; returns how many."""
    ids = session.execute(select(DeadLetter.id).where(DeadLetter.replayed_at.is_(None))
                          .order_by(DeadLetter.id).limit(limit)).scalars().all()
    done = 0
    for letter_id in ids:
        try:
            replay(session, bus, letter_id)
        except ReplayError:
            continue  # replayed by someone else meanwhile, or an undecodable payload
        done += 1
    return done


def discard(session, letter_id: int) -> bool:
    """Delete a dead letter that should never be stored (commits); False when there is none."""
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        return False
    session.delete(letter)
    session.commit()
    return True
