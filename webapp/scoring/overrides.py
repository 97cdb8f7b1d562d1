"""An editor's label override of one mention, with the rollups following in the same transaction.

`Mention.label` is always the effective label, so every reader (rollups, filters, alerts, the
API) follows an override without knowing about it; `scored_label` keeps the scorer's label
while the override is in place. Overriding moves one count from the old label to the new one
in each rollup row the mention is counted in (each bucket size, its source and all sources);
compound sums and counts do not change. Clearing restores the scored label the same way.

The mention row is changed with a compare-and-set UPDATE (WHERE label and scored_label are
still what was read), so two editors overriding at once cannot move a rollup count twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update

from webapp.ingest.models import ALL_SOURCES, LABELS, Mention
from webapp.core.types import utcnow
from webapp.ingest import rollups

ATTEMPTS = 5


class OverrideInvalid(ValueError):
    """An override that cannot be applied (unknown label, mention not of this monitor)."""


@dataclass(frozen=True)
class OverrideResult:
    mention_id: int
    label: str                 # the effective label now
    scored_label: str          # what the scorer said
    overridden: bool
    previous: str              # the effective label before
    overridden_by_id: int | None = None
    overridden_at: datetime | None = None

    @property
    def changed(self) -> bool:
        return self.label != self.previous

    def as_dict(self) -> dict:
        return {"id": self.mention_id, "label": self.label, "scored_label": self.scored_label,
                "overridden": self.overridden, "previous_label": self.previous,
                "overridden_by_id": self.overridden_by_id,
                "overridden_at": self.overridden_at.isoformat() if self.overridden_at else None}


def label_moves(monitor_id: int, source_id: int, published_at: datetime, old: str,
                new: str) -> dict[tuple, rollups.Delta]:
    """The rollup deltas of moving one mention from label `old` to `new` (pure).

    One per bucket size, for its source and for all sources: -1 on the old label, +1 on the
    new; count and compound sum unchanged. Empty when the label does not change.
    """
    if old == new:
        return {}
    out = {}
    for bucket in rollups.BUCKETS:
        start = rollups.bucket_start(published_at, bucket)
        for source in (source_id, ALL_SOURCES):
            delta = rollups.Delta()
            setattr(delta, old, -1)
            setattr(delta, new, 1)
            out[(monitor_id, source, bucket, start)] = delta
    return out


def set_label(session, monitor_id: int, mention_id: int, label: str | None,
              user_id: int | None = None, now: datetime | None = None) -> OverrideResult:
    """Override the mention's label with `label`, or clear the override with None; commits.

    Raises LookupError when the monitor has no such mention and OverrideInvalid for a label
    other than positive / neutral / negative.
    """
    if label is not None and label not in LABELS:
        raise OverrideInvalid(f"label must be one of {', '.join(LABELS)} (or empty to restore the scored label)")
    for _ in range(ATTEMPTS):
        row = session.execute(
            select(Mention.id, Mention.source_id, Mention.published_at, Mention.label, Mention.scored_label,
                   Mention.overridden_at, Mention.overridden_by_id, Mention.muted, Mention.scored, Mention.lang)
            .where(Mention.id == mention_id, Mention.monitor_id == monitor_id)
        ).first()
        if row is None:
            raise LookupError(f"no mention {mention_id} in monitor {monitor_id}")
        if not row.scored:  # no compound to go with a label: it would enter averages as a guess
            session.rollback()
            raise OverrideInvalid(f"this mention is unscored (language {row.lang!r}: no scorer of the monitor "
                                  "reads it), so it has no label to override")
        overridden = row.overridden_at is not None
        scored = (row.scored_label or row.label) if overridden else row.label
        if label is None:
            if not overridden:
                session.rollback()
                return OverrideResult(row.id, row.label, scored, False, row.label)
            values = {"label": scored, "scored_label": None, "overridden_by_id": None, "overridden_at": None}
        else:
            values = {"label": label, "scored_label": scored, "overridden_by_id": user_id,
                      "overridden_at": now or utcnow()}
        same = (Mention.scored_label.is_(None) if row.scored_label is None
                else Mention.scored_label == row.scored_label)
        done = session.execute(
            update(Mention).where(Mention.id == row.id, Mention.label == row.label, same,
                                  Mention.muted.is_(bool(row.muted)))  # a mute change moved its rollups
            .values(**values).execution_options(synchronize_session=False)
        )
        if done.rowcount != 1:  # changed by someone else since we read it: read again
            session.rollback()
            continue
        if not row.muted:  # a muted mention is counted in no rollup (webapp/mentions/noise.py)
            rollups.apply(session, label_moves(monitor_id, row.source_id, row.published_at, row.label,
                                               values["label"]))
        session.commit()
        return OverrideResult(row.id, values["label"], scored, label is not None, row.label,
                              values["overridden_by_id"], values["overridden_at"])
    raise RuntimeError(f"mention {mention_id} kept changing; try again")
