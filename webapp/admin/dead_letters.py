"""Dead letters: records the consumer set aside after they kept failing, and their replay.

Both buses keep every dead letter in the `dead_letters` table (Kafka also writes it to
`<topic>.dlt`, the raw archive), so this one service lists and replays them whichever bus runs.
Replaying publishes the record again to its topic through the bus, where the consumers pick
it up like any other; the payload can be corrected first (a malformed time, an empty text).
A replay is claimed before it is published (a conditional UPDATE of `replayed_at`), so two
people pressing *Replay* at once publish it once; if the publish fails the claim is undone.
Ingest is idempotent, so even a replay of something stored in the meantime adds nothing.

Bulk actions work on the waiting letters that match a `LetterFilter` (error text contains,
topic, older than an age): `count_matching`, `replay_all` (each letter claimed and published as
above, up to BULK_LIMIT per call) and `discard_matching` (one DELETE, one commit).
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update

from webapp.ingest.bus.models import DeadLetter
from webapp.core.types import utcnow
from webapp.ingest.bus import Bus, decode


class ReplayError(ValueError):
    """The dead letter cannot be replayed as asked (unknown, already replayed, bad payload)."""


BULK_LIMIT = 1000   # letters replayed per press: each is claimed and published on its own
AGES = {"": None, "1h": timedelta(hours=1), "24h": timedelta(days=1), "7d": timedelta(days=7),
        "30d": timedelta(days=30)}
MAX_FILTER_TEXT = 200


@dataclass(frozen=True)
class LetterFilter:
    """Which waiting dead letters a bulk action takes: all of them when every field is empty."""

    contains: str = ""   # in the error text, case-insensitive
    topic: str = ""
    age: str = ""        # a key of AGES: only letters older than that

    def conditions(self, now: datetime) -> list:
        found = [DeadLetter.replayed_at.is_(None)]
        if self.contains:
            found.append(func.lower(DeadLetter.error).contains(self.contains.lower(), autoescape=True))
        if self.topic:
            found.append(DeadLetter.topic == self.topic)
        if AGES.get(self.age):
            found.append(DeadLetter.created_at <= now - AGES[self.age])
        return found

    def args(self) -> dict[str, str]:
        """The filter as query/form fields (empty ones left out)."""
        return {k: v for k, v in (("contains", self.contains), ("topic", self.topic), ("age", self.age)) if v}


def read_filter(args: Mapping[str, str]) -> tuple[LetterFilter, dict[str, str]]:
    """The filter in a query string or form (pure), and a message per field that was refused
    (a refused field is left empty: a bulk action never widens silently, see the views)."""
    errors, values = {}, {}
    for name in ("contains", "topic"):
        text = (args.get(name) or "").strip()
        if len(text) > MAX_FILTER_TEXT:
            errors[name] = f"at most {MAX_FILTER_TEXT} characters"
        else:
            values[name] = text
    age = (args.get("age") or "").strip()
    if age in AGES:
        values["age"] = age
    else:
        errors["age"] = f"age must be one of {', '.join(a for a in AGES if a)}"
    return LetterFilter(**values), errors


def count_matching(session, letters: LetterFilter, now: datetime) -> int:
    return session.execute(select(func.count()).select_from(DeadLetter)
                           .where(*letters.conditions(now))).scalar() or 0


def topics(session) -> list[str]:
    """The topics that have waiting dead letters (for the filter's choices)."""
    return list(session.execute(select(DeadLetter.topic).where(DeadLetter.replayed_at.is_(None))
                                .distinct().order_by(DeadLetter.topic)).scalars())


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


def replay_all(session, bus: Bus, limit: int = BULK_LIMIT, letters: LetterFilter | None = None,
               now: datetime | None = None) -> int:
    """Replay up to `limit` waiting dead letters (those matching `letters`, or all) as they are,
    oldest first; returns how many were published."""
    now = now or utcnow()
    ids = session.execute(select(DeadLetter.id).where(*(letters or LetterFilter()).conditions(now))
                          .order_by(DeadLetter.id).limit(limit)).scalars().all()
    done = 0
    for letter_id in ids:
        try:
            replay(session, bus, letter_id)
        except ReplayError:
            continue  # replayed by someone else meanwhile, or an undecodable payload
        done += 1
    return done


def discard_matching(session, letters: LetterFilter, now: datetime | None = None) -> int:
    """Delete every waiting dead letter that matches `letters` (one statement, commits); how many."""
    deleted = session.execute(delete(DeadLetter).where(*letters.conditions(now or utcnow()))
                              .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return deleted


def discard(session, letter_id: int) -> bool:
    """Delete a dead letter that should never be stored (commits); False when there is none."""
    letter = session.get(DeadLetter, letter_id)
    if letter is None:
        return False
    session.delete(letter)
    session.commit()
    return True
