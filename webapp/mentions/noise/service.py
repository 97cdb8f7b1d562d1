"""Noise control: a monitor's mute list (authors, URL domains, a query) and what it mutes.

A muted mention is stored (nothing accepted is lost) but counted in no rollup, so it is in no
count, chart, series, insight or alert; the mentions page and API show it under the "muted"
filter. A mention is muted when the mute list matches it, or when the monitor's relevance model
(webapp/scoring/relevance.py), while enabled, predicted it irrelevant at ingest.

Ingest (webapp/ingest/store.py) calls `mark` on a batch inside its transaction; changing the
list (`set_mutes`) or switching the relevance model (`reapply`) re-decides every stored mention
of the monitor and moves the rollup counts of those that changed, in one transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import select, update

from webapp.core.limits import MAX_AUTHOR
from webapp.core.query import Query, QueryError, parse
from webapp.core.types import utcnow
from webapp.ingest import rollups, term_rollups
from webapp.ingest.models import Mention, MuteList

MAX_ENTRIES = 500
MAX_MUTE_QUERY = 1000
CHUNK = 2000
_DOMAIN = re.compile(r"(?=.{1,253}$)([a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?")


class MutesInvalid(ValueError):
    """A mute list that cannot be saved; `errors` maps a field to its problem."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


@dataclass(frozen=True)
class MuteRules:
    """A checked mute list, ready to match (pure)."""

    authors: frozenset[str] = frozenset()
    domains: tuple[str, ...] = ()
    query: Query | None = None

    @property
    def empty(self) -> bool:
        return not self.authors and not self.domains and self.query is None

    def as_dict(self) -> dict:
        return {"authors": sorted(self.authors), "domains": list(self.domains),
                "query": self.query.source if self.query else ""}


def domain_of(url: str | None) -> str | None:
    """The lower-case host of `url` without a leading "www.", or None."""
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def is_muted(rules: MuteRules, author: str | None, url: str | None, text: str | None) -> bool:
    """Does the mute list match this mention? (pure) A domain matches itself and its subdomains."""
    if rules.empty:
        return False
    if author and author.strip().lower() in rules.authors:
        return True
    host = domain_of(url) if rules.domains else None
    if host and any(host == d or host.endswith("." + d) for d in rules.domains):
        return True
    return rules.query is not None and rules.query.matches(text)


def _strings(value, name: str, errors: dict) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors[name] = f"{name} must be a list of strings"
        return []
    items = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(items) > MAX_ENTRIES:
        errors[name] = f"at most {MAX_ENTRIES} {name}"
    return items


def check_mutes(authors, domains, query) -> MuteRules:
    """A MuteRules from user input (lists or one-per-line text); raises MutesInvalid (pure)."""
    errors: dict[str, str] = {}
    author_list = _strings(authors, "authors", errors)
    long = [a for a in author_list if len(a) > MAX_AUTHOR or "\x00" in a]
    if long and "authors" not in errors:
        errors["authors"] = f"an author is at most {MAX_AUTHOR} characters, without NUL: {long[0][:40]!r}"
    domain_list = []
    for raw in _strings(domains, "domains", errors):
        host = raw.lower()
        if "://" in host:
            host = domain_of(host) or ""
        host = host[4:] if host.startswith("www.") else host
        if not _DOMAIN.fullmatch(host):
            errors.setdefault("domains", f"{raw[:60]!r} is not a domain such as example.com")
        domain_list.append(host)
    if query is not None and not isinstance(query, str):
        errors["query"] = "query must be a string"
        query = ""
    query = (query or "").strip()
    parsed = None
    if "\x00" in query or len(query) > MAX_MUTE_QUERY:
        errors["query"] = f"the query is at most {MAX_MUTE_QUERY} characters, without NUL"
    elif query:
        try:
            parsed = parse(query)
        except QueryError as exc:
            errors["query"] = str(exc)
    if errors:
        raise MutesInvalid(errors)
    return MuteRules(frozenset(a.lower() for a in author_list), tuple(dict.fromkeys(domain_list)), parsed)


def rules_of(row: MuteList | None) -> MuteRules:
    """The MuteRules of a stored list (stored lists were checked when saved)."""
    if row is None:
        return MuteRules()
    return MuteRules(frozenset(row.authors or ()), tuple(row.domains or ()),
                     parse(row.query) if row.query else None)


def get_rules(session, monitor_id: int) -> MuteRules:
    return rules_of(session.get(MuteList, monitor_id))


def mark(session, batch: list[dict]) -> None:
    """Set `muted` and `predicted_irrelevant` on each row of a batch about to be stored.

    Reads each monitor's mute list and, only for monitors that enabled one, its relevance model
    (scikit-learn is imported then and only then).
    """
    from webapp.scoring import relevance

    monitor_ids = {row["monitor_id"] for row in batch}
    # FOR SHARE (PostgreSQL): a mute list being changed (set_mutes locks it FOR UPDATE) is read
    # once that change commits, so a batch is never marked by a list its re-application missed.
    lists = {r.monitor_id: rules_of(r) for r in session.execute(
        select(MuteList).where(MuteList.monitor_id.in_(monitor_ids)).with_for_update(read=True)).scalars()}
    predicted = relevance.predict_rows(session, batch)
    for row, irrelevant in zip(batch, predicted):
        rules = lists.get(row["monitor_id"], MuteRules())
        row["predicted_irrelevant"] = irrelevant
        row["muted"] = bool(irrelevant) or is_muted(rules, row.get("author"), row.get("url"), row["text"])


def reapply(session, monitor_id: int, rules: MuteRules | None = None,
            model_enabled: bool | None = None) -> dict:
    """Re-decide `muted` for every stored mention of the monitor; move the rollups; no commit.

    Newly muted mentions leave the rollups, newly unmuted ones join them, in the caller's
    transaction. Returns {"muted": n, "unmuted": n}.
    """
    from webapp.scoring import relevance

    rules = get_rules(session, monitor_id) if rules is None else rules
    if model_enabled is None:
        model_enabled = relevance.is_enabled(session, monitor_id)
    to_mute, to_unmute = [], []
    last_id = 0
    while True:
        rows = session.execute(
            select(Mention.id, Mention.author, Mention.url, Mention.text, Mention.muted,
                   Mention.predicted_irrelevant)
            .where(Mention.monitor_id == monitor_id, Mention.id > last_id).order_by(Mention.id).limit(CHUNK)
        ).mappings().all()
        if not rows:
            break
        last_id = rows[-1]["id"]
        for row in rows:
            now_muted = (model_enabled and row["predicted_irrelevant"] is True) or \
                is_muted(rules, row["author"], row["url"], row["text"])
            if now_muted and not row["muted"]:
                to_mute.append(row)
            elif row["muted"] and not now_muted:
                to_unmute.append(row)
    # The UPDATE returns each row as it is when changed (a label overridden meanwhile included:
    # PostgreSQL re-reads a row another transaction changed), so the rollups move by what it is.
    moved = {True: [], False: []}
    for rows, value in ((to_mute, True), (to_unmute, False)):
        ids = [r["id"] for r in rows]
        for start in range(0, len(ids), CHUNK):
            moved[value] += session.execute(
                update(Mention).where(Mention.id.in_(ids[start:start + CHUNK]), Mention.muted.is_(not value))
                .values(muted=value)
                .returning(Mention.monitor_id, Mention.source_id, Mention.published_at, Mention.compound,
                           Mention.label, Mention.text)
                .execution_options(synchronize_session=False)).mappings().all()
    changes = rollups.combined(rollups.deltas(moved[False]), rollups.negated(rollups.deltas(moved[True])))
    rollups.apply(session, changes)
    term_rollups.apply(session, term_rollups.moved(moved[False], moved[True]))   # the terms move too
    return {"muted": len(moved[True]), "unmuted": len(moved[False])}


def set_mutes(session, monitor_id: int, rules: MuteRules) -> dict:
    """Save the monitor's mute list and re-apply it to its stored mentions; commits once.

    Returns the list and how many stored mentions were muted and unmuted by the change.
    """
    row = session.get(MuteList, monitor_id, with_for_update=True)
    if row is None:
        row = MuteList(monitor_id=monitor_id)
        session.add(row)
    stored = rules.as_dict()
    row.authors, row.domains, row.query = stored["authors"], stored["domains"], stored["query"]
    row.updated_at = utcnow()
    session.flush()
    moved = reapply(session, monitor_id, rules)
    session.commit()
    return {**stored, **moved}


def counts(session, monitor_id: int) -> dict:
    """How many of the monitor's stored mentions are muted."""
    from sqlalchemy import func

    muted = session.execute(select(func.count()).select_from(Mention).where(
        Mention.monitor_id == monitor_id, Mention.muted.is_(True))).scalar()
    return {"muted_mentions": muted}
