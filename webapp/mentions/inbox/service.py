"""The mention inbox: tags, status, assignee, notes and read marks, one mention or many at once.

Bulk actions work on every mention that a filter selects (search.conditions, the same filter
as the mentions page, the API and the exports), not only the page shown, and each is one SQL
statement over that selection (`INSERT ... SELECT ... ON CONFLICT`, `UPDATE`/`DELETE ... WHERE
mention_id IN (SELECT ...)`), so 10,000 mentions take one round trip. Each use case commits
once; the answer is how many mentions changed. No Flask here: callers pass the session and user.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import lru_cache

from sqlalchemy import bindparam, delete, func, literal, null, select, update

from webapp.core import sql
from webapp.core.sql import insert_for
from webapp.ingest.models import Mention
from webapp.mentions import search
from webapp.mentions.inbox.models import MAX_NOTE, MentionNote, MentionRead, MentionState, MentionTag, Tag
from webapp.monitors.models import Monitor, Source
from webapp.people.models import User
from webapp.people.services import teams

ACTIONS = ("tag", "untag", "assign", "unassign", "done", "open", "read", "unread")


class InboxInvalid(ValueError):
    """Input the inbox refuses; `errors` maps a field to a message for people."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


class BulkTooSlow(Exception):
    """A bulk action stopped after the time it was given (`bulk`'s `seconds`): nothing changed."""


@dataclass
class Row:
    """The inbox side of one mention, as the list and the API show it."""
    tags: list[str] = field(default_factory=list)
    status: str = "open"
    assignee_id: int | None = None
    assignee: str | None = None
    read: bool = False
    notes: int = 0

    def as_dict(self) -> dict:
        return {"tags": self.tags, "status": self.status, "assignee_id": self.assignee_id,
                "assignee": self.assignee, "read": self.read, "notes": self.notes}


def rows(session, mention_ids: list[int], viewer_id: int | None) -> dict[int, Row]:
    """Inbox fields of the given mentions (four small queries for a page of them)."""
    out = {i: Row() for i in mention_ids}
    if not mention_ids:
        return out
    for mid, name in session.execute(select(MentionTag.mention_id, Tag.name).join(Tag, Tag.id == MentionTag.tag_id)
                                     .where(MentionTag.mention_id.in_(mention_ids)).order_by(Tag.name)):
        out[mid].tags.append(name)
    for mid, status, uid, email in session.execute(
            select(MentionState.mention_id, MentionState.status, MentionState.assignee_id, User.email)
            .outerjoin(User, User.id == MentionState.assignee_id).where(MentionState.mention_id.in_(mention_ids))):
        out[mid].status, out[mid].assignee_id, out[mid].assignee = status, uid, email
    if viewer_id is not None:
        for mid in session.execute(select(MentionRead.mention_id).where(
                MentionRead.user_id == viewer_id, MentionRead.mention_id.in_(mention_ids))).scalars():
            out[mid].read = True
    for mid, n in session.execute(select(MentionNote.mention_id, func.count()).where(
            MentionNote.mention_id.in_(mention_ids)).group_by(MentionNote.mention_id)):
        out[mid].notes = n
    return out


def get_mention(session, monitor_id: int, mention_id: int) -> Mention:
    found = session.get(Mention, mention_id) if 0 < mention_id < 2**63 else None
    if found is None or found.monitor_id != monitor_id:
        raise LookupError(f"monitor {monitor_id} has no mention {mention_id}")
    return found


def notes(session, mention_id: int) -> list[dict]:
    found = session.execute(select(MentionNote, User.email).outerjoin(User, User.id == MentionNote.author_id)
                            .where(MentionNote.mention_id == mention_id).order_by(MentionNote.id)).all()
    return [{"id": n.id, "body": n.body, "author": email, "author_id": n.author_id,
             "created_at": n.created_at.isoformat()} for n, email in found]


def add_note(session, monitor_id: int, mention_id: int, body, author_id: int) -> MentionNote:
    """A note by `author_id` on the mention (1 to MAX_NOTE characters); commits."""
    get_mention(session, monitor_id, mention_id)
    text = body.strip() if isinstance(body, str) else ""
    if not text:
        raise InboxInvalid({"body": "write a note"})
    if len(text) > MAX_NOTE or "\x00" in text:
        raise InboxInvalid({"body": f"a note is at most {MAX_NOTE} characters of text"})
    note = MentionNote(mention_id=mention_id, author_id=author_id, body=text)
    session.add(note)
    session.commit()
    return note


def team_members(session, monitor: Monitor) -> list[tuple[int, str]]:
    """(user id, email) of the people a mention of `monitor` may be assigned to: its team's members."""
    return sorted(((u.id, u.email) for u in teams.members(session, monitor.team_id)), key=lambda r: r[1])


def check_assignee(session, monitor: Monitor, user_id) -> int:
    """`user_id` if it names a member of the monitor's team, else InboxInvalid."""
    if isinstance(user_id, bool) or not isinstance(user_id, int) or not 0 < user_id < 2**63:
        raise InboxInvalid({"assignee": "assignee must be a user id"})
    if user_id not in {uid for uid, _ in team_members(session, monitor)}:
        raise InboxInvalid({"assignee": f"user {user_id} is not a member of this monitor's team"})
    return user_id


def ensure_tag(session, monitor_id: int, name: str) -> int:
    """The id of the monitor's tag `name`, created if new (no commit)."""
    stmt = insert_for(session.get_bind())(Tag).values(monitor_id=monitor_id, name=name,
                                                      created_at=datetime.now(timezone.utc))
    session.execute(stmt.on_conflict_do_nothing())
    return session.execute(select(Tag.id).where(Tag.monitor_id == monitor_id, Tag.name == name)).scalar_one()


def selection(monitor_id: int, spec: search.MentionFilter):
    """SELECT mentions.id of every mention the filter matches (no paging, no order)."""
    return (select(Mention.id).join(Source, Source.id == Mention.source_id)
            .where(*search.conditions(monitor_id, spec)))


def bulk(session, monitor: Monitor, spec: search.MentionFilter, action: str, *, user_id: int,
         tag=None, assignee=None, seconds: float = 0) -> int:
    """Apply `action` (ACTIONS) to every mention `spec` selects; commits; how many changed.

    `tag` for tag/untag, `assignee` (a team member's id) for assign; read/unread are the
    marks of `user_id`. On PostgreSQL its statements are stopped once `seconds` have passed (0: never;
    core.sql.time_bound): BulkTooSlow, nothing changed. A word the trigram index cannot narrow
    over millions of mentions would otherwise hold the request past the web server's worker
    timeout, which ends it with no answer."""
    if action not in ACTIONS:
        raise InboxInvalid({"action": f"action must be one of {', '.join(ACTIONS)}"})
    if action in ("tag", "untag"):
        try:
            tag = search.clean_tag(tag)
        except ValueError as exc:
            raise InboxInvalid({"tag": str(exc)}) from exc
    if action == "assign":
        assignee = check_assignee(session, monitor, assignee)
    try:
        with sql.time_bound(session, seconds):
            changed = _run(session, monitor.id, spec, action, user_id, tag, assignee)
    except sql.TimedOut as exc:
        session.rollback()
        raise BulkTooSlow(
            f"the action took more than {exc.seconds:g} s and was stopped; nothing changed: narrow the "
            "filter (a longer or rarer word, a shorter time range, a label or a source) and apply it part by "
            "part") from None
    session.commit()
    return changed


def _run(session, monitor_id: int, spec, action: str, user_id: int, tag, assignee) -> int:
    bind = session.get_bind()   # tables, not ORM classes: Core statements report their rowcount
    tags, states, reads = MentionTag.__table__, MentionState.__table__, MentionRead.__table__
    chosen = selection(monitor_id, spec)
    now = bindparam("now", datetime.now(timezone.utc), type_=MentionState.updated_at.type)
    if action == "tag":
        tag_id = ensure_tag(session, monitor_id, tag)
        stmt = insert_for(bind)(tags).from_select(
            ["mention_id", "tag_id"], chosen.add_columns(literal(tag_id))).on_conflict_do_nothing()
    elif action == "untag":
        tag_ids = select(Tag.id).where(Tag.monitor_id == monitor_id, Tag.name == tag)
        stmt = delete(tags).where(tags.c.tag_id.in_(tag_ids), tags.c.mention_id.in_(chosen))
    elif action in ("assign", "done"):
        column, value = ("assignee_id", assignee) if action == "assign" else ("status", "done")
        values = chosen.add_columns(literal("open" if action == "assign" else "done"),
                                    literal(assignee) if action == "assign" else null(), now)
        stmt = insert_for(bind)(states).from_select(["mention_id", "status", "assignee_id", "updated_at"],
                                                          values)
        current = states.c[column]
        stmt = stmt.on_conflict_do_update(
            index_elements=["mention_id"], set_={column: stmt.excluded[column], "updated_at": stmt.excluded.updated_at},
            where=current.is_distinct_from(value))
    elif action == "unassign":
        stmt = (update(states).where(states.c.assignee_id.is_not(None), states.c.mention_id.in_(chosen))
                .values(assignee_id=None, updated_at=now))
    elif action == "open":
        stmt = (update(states).where(states.c.status == "done", states.c.mention_id.in_(chosen))
                .values(status="open", updated_at=now))
    elif action == "read":
        stmt = insert_for(bind)(reads).from_select(
            ["user_id", "mention_id", "read_at"],
            select(literal(user_id), Mention.id, now).join(Source, Source.id == Mention.source_id)
            .where(*search.conditions(monitor_id, spec))).on_conflict_do_nothing()
    else:  # unread
        stmt = delete(reads).where(reads.c.user_id == user_id, reads.c.mention_id.in_(chosen))
    return session.execute(stmt.execution_options(preserve_rowcount=True)).rowcount


def mark_read(session, monitor_id: int, mention_id: int, user_id: int) -> None:
    """The detail view marks what it shows as read for the viewer; commits."""
    spec = search.MentionFilter(mention_ids=(mention_id,))
    _run(session, monitor_id, spec, "read", user_id, None, None)
    session.commit()


@lru_cache(maxsize=4)
def _tag_counts_statement(bounded_start: bool, bounded_end: bool):
    """The grouped tag count, built once per shape (the dashboard asks on every request)."""
    joined = Mention.id == MentionTag.mention_id
    if bounded_start:
        joined &= Mention.published_at >= bindparam("start")
    if bounded_end:
        joined &= Mention.published_at < bindparam("end")
    return (select(Tag.name, func.count(Mention.id)).select_from(Tag)
            .outerjoin(MentionTag, MentionTag.tag_id == Tag.id).outerjoin(Mention, joined)
            .where(Tag.monitor_id == bindparam("monitor_id")).group_by(Tag.name))


def tag_counts(session, monitor_id: int, start: datetime | None = None,
               end: datetime | None = None) -> list[tuple[str, int]]:
    """(tag, how many mentions published in [start, end) have it; all time without bounds) for
    every tag of the monitor, most used first (one grouped query)."""
    found = sql.raw_rows(session, _tag_counts_statement(start is not None, end is not None), {
        "monitor_id": monitor_id, "start": start, "end": end})   # names and counts: the driver's values
    return sorted(((name, n) for name, n in found), key=lambda r: (-r[1], r[0]))
