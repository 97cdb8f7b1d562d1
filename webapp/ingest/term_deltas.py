"""Term deltas: ingest appends its term counts, the fold moves them into the term rollups.

Ingest (`write`) stores, in the same transaction as the rollups and for the same inserted,
unmuted rows, one row per (monitor, 1h bucket) of the batch: every term of its mentions, how
many terms each mention has and each one's compound, each joined into one text column
(core.sql.SEP; a term is words, spaces, "#", "'" and "-", never a control character). Nothing
is counted at ingest and no unique index is checked, so a batch costs a few joins and a handful
of inserts instead of ~1,500 upserts; a replayed batch inserts no mentions, so it writes no
delta either (exactly once, as before).

The fold (`fold`) takes pending rows out (`DELETE ... RETURNING`), counts and sums each hour's
terms at once (the same term in many batches is one row: `_term_tally.c` reads the joined terms in
place, or term_rollups.tally with numpy where it is not built) and adds the sums to the term rollups with
term_rollups.apply (one upsert, folded days' 1d and 1w rows included), in one transaction: a
delta is folded exactly once, even by two folders at once (the second finds the rows gone).
It runs on a short beat (`terms.fold_deltas`, every TERMS_DELTAS_FOLD_EVERY seconds), before
the day fold, before a rebuild, and for their monitor before readers read (service.term_table,
term_rollups.window_totals), so answers are exact and fresh. A reader folds at most READER_FOLD
pending rows (`fold_for_reader`): a backlog larger than that (the fold job stopped for a long
time while ingest went on) is the job's to fold, in chunks, and a reader's answer says it is not
complete until then, instead of every page folding it again until the web server kills it.

Locking (PostgreSQL): monitors first (FOR KEY SHARE, term_fold.marks, as every writer of term
rollups), then the pending rows in id order (FOR UPDATE), then the rollup rows in key order
(apply): the same order everywhere, so two folders, ingest, the day fold and a rebuild (which
claims the monitor FOR UPDATE) wait for each other but never deadlock. SQLite has one writer.
"""
from __future__ import annotations

import logging
from functools import cache
from itertools import chain
from typing import Iterable

from sqlalchemy import bindparam, delete, insert, select
from sqlalchemy.exc import SQLAlchemyError

from webapp.core import sql
from webapp.core.sql import SEP
from webapp.ingest import term_fold, term_rollups
from webapp.ingest.models import TermDeltas

try:        # the tally in C (setup.py builds it where a C compiler is): no string per term first
    from webapp.ingest._term_tally import tally_joined
except ImportError:     # not built: term_rollups.tally on the split terms, the same sums
    tally_joined = None

log = logging.getLogger(__name__)
CHUNK = 1_000        # pending rows (batch-hours) folded per transaction by the job
READER_FOLD = 100    # pending rows a reader folds for its monitor (about 100 ingest batches)
_T = TermDeltas.__table__
_INSERT = insert(_T)


def write(session, rows: Iterable[dict]) -> int:
    """Append the terms of `rows` (as term_rollups.deltas reads them) as pending rows, one per
    (monitor, 1h bucket): every term of every row in order, each row's number of terms and its
    compound ("nan": not scored), each joined by SEP; does not commit. Returns the rows written."""
    groups = term_rollups.listed(rows)
    if not groups:
        return 0
    if session.get_bind().dialect.name == "postgresql":    # (SQLite: its one writer serialises them)
        term_fold.marks(session, {key[0] for key in groups})   # a rebuild's claim waits for this batch
    values = [{"monitor_id": monitor, "start": start, "terms": SEP.join(chain.from_iterable(lists)),
               "lengths": SEP.join(map(str, map(len, lists))),
               "compounds": SEP.join(["nan" if c is None else repr(float(c)) for c in compounds])}
              for (monitor, _bucket, start), (lists, compounds) in groups.items()]
    session.connection().execute(_INSERT, values)
    return len(values)


@cache
def _pending(of_monitor: bool, limited: bool):
    """The pending rows' (id, monitor) in id order, of one monitor and at most `limit` of them or
    not, built once per shape: every dashboard page asks it for its monitor (most often nothing)."""
    pending = select(_T.c.id, _T.c.monitor_id).order_by(_T.c.id)
    if of_monitor:
        pending = pending.where(_T.c.monitor_id == bindparam("monitor_id"))
    return pending.limit(bindparam("limit")) if limited else pending


def fold(session, monitor_id: int | None = None, limit: int | None = None) -> int:
    """Move the pending rows (of one monitor, or all; the oldest `limit` of them) into the term
    rollups; does not commit. Returns the pending rows folded (0: nothing was pending)."""
    params = {"monitor_id": monitor_id} if monitor_id is not None else {}
    if limit is not None:
        params["limit"] = limit
    found = sql.raw_rows(session, _pending(monitor_id is not None, limit is not None), params)
    if not found:
        return 0
    term_fold.marks(session, {m for _i, m in found})
    ids = [i for i, _m in found]
    if session.get_bind().dialect.name == "postgresql":    # in id order: two folders never deadlock
        ids = session.execute(select(_T.c.id).where(_T.c.id.in_(ids)).order_by(_T.c.id).with_for_update()).scalars().all()
    taken = session.execute(delete(_T).where(_T.c.id.in_(ids)).returning(
        _T.c.monitor_id, _T.c.start, _T.c.terms, _T.c.lengths, _T.c.compounds)).all()
    term_rollups.apply(session, summed(taken))
    return len(taken)


def fold_for_reader(session, monitor_id: int) -> bool:
    """Before a read of `monitor_id`'s term rollups: fold up to READER_FOLD of its oldest pending
    rows (not committed; marked for `sql.end_read` to keep, so a request that only reads commits
    the fold). True when nothing of the monitor is left pending (the answer is complete), False
    when more is (the job folds it)."""
    folded = fold(session, monitor_id, limit=READER_FOLD)
    if folded:
        sql.keep_writes(session)
    return folded < READER_FOLD or not sql.raw_rows(
        session, _pending(True, True), {"monitor_id": monitor_id, "limit": 1})


def summed(taken: Iterable[tuple]) -> dict[tuple, term_rollups.TermDelta]:
    """The (monitor, "1h", start, term) deltas of pending rows (monitor_id, start, terms, lengths,
    compounds): each (monitor, hour)'s rows joined and tallied at once, equal terms added up."""
    groups: dict[tuple, list[tuple]] = {}
    for monitor, start, *columns in taken:
        groups.setdefault((monitor, start), []).append(columns)
    out: dict[tuple, term_rollups.TermDelta] = {}
    TermDelta = term_rollups.TermDelta
    for (monitor, start), parts in groups.items():
        texts, lengths, compounds = zip(*parts)
        lengths = list(map(int, SEP.join(lengths).split(SEP)))
        compounds = list(map(float, SEP.join(compounds).split(SEP)))
        if tally_joined is not None:
            tallied = zip(*tally_joined(list(texts), lengths, compounds, SEP))
        else:
            tallied = term_rollups.tally(SEP.join(texts).split(SEP), lengths, compounds)
        for term, n, scored, total in tallied:
            out[(monitor, "1h", start, term)] = TermDelta(n, scored, total)
    return out


def fold_due(session, chunk: int = CHUNK) -> int:
    """Fold every pending row, `chunk` rows per transaction, committing each; returns the rows
    folded. A failure (a lock timeout) is logged and rolled back: the next run retries."""
    total = 0
    try:
        while True:
            n = fold(session, limit=chunk)
            session.commit()
            total += n
            if n < chunk:
                return total
    except SQLAlchemyError:
        session.rollback()
        log.exception("folding the pending term deltas failed; the next run retries")
        return total
