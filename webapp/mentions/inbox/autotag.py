"""Auto-tag rules: "tag `support` when the text matches `support OR help OR broken`".

Rules are written in the monitor query language (core/query.py) and tested on a mention's text.
`tag_new` runs inside ingest's storing transaction (ingest/store.py) on the mentions a batch
really inserted: one SELECT of the batch's rules, each compiled once (compile_query is cached),
and one INSERT executed with every tag of the batch as its parameter list. `apply_stored` tags
a monitor's stored mentions on demand, reading them in bounded id-ordered batches so memory
stays flat (10,000 mentions and two rules: about 0.5 s on SQLite, 1.4 s on PostgreSQL).
"""
from __future__ import annotations

from sqlalchemy import select

from webapp.core.query import QueryError, compile_query
from webapp.core.sql import insert_for
from webapp.ingest.models import Mention
from webapp.mentions.inbox.service import InboxInvalid, ensure_tag
from webapp.mentions.inbox.models import AutoTagRule, MentionTag, Tag
from webapp.mentions.search import clean_tag

MAX_RULES = 50
BATCH = 2000


def rule_dict(rule: AutoTagRule) -> dict:
    return {"id": rule.id, "tag": rule.tag.name, "query": rule.query,
            "created_at": rule.created_at.isoformat()}


def list_rules(session, monitor_id: int) -> list[AutoTagRule]:
    return session.execute(select(AutoTagRule).where(AutoTagRule.monitor_id == monitor_id)
                           .order_by(AutoTagRule.id)).scalars().all()


def create_rule(session, monitor_id: int, tag, query, user_id: int | None) -> AutoTagRule:
    """A new rule; InboxInvalid with the query language's own message for a bad query. Commits."""
    errors = {}
    try:
        name = clean_tag(tag)
    except ValueError as exc:
        errors["tag"] = str(exc)
    if not isinstance(query, str) or not query.strip():
        errors["query"] = "write a query, e.g. support OR help OR broken"
    else:
        try:
            compile_query(query.strip())
        except QueryError as exc:
            errors["query"] = str(exc)
    if not errors and len(list_rules(session, monitor_id)) >= MAX_RULES:
        errors["query"] = f"a monitor has at most {MAX_RULES} auto-tag rules"
    if errors:
        raise InboxInvalid(errors)
    rule = AutoTagRule(monitor_id=monitor_id, tag_id=ensure_tag(session, monitor_id, name),
                       query=query.strip(), created_by_id=user_id)
    session.add(rule)
    session.commit()
    return rule


def delete_rule(session, monitor_id: int, rule_id: int) -> bool:
    rule = session.get(AutoTagRule, rule_id) if 0 < rule_id < 2**63 else None
    if rule is None or rule.monitor_id != monitor_id:
        return False
    session.delete(rule)
    session.commit()
    return True


def _compiled(session, monitor_ids) -> dict[int, list[tuple[int, object]]]:
    """monitor id -> [(tag id, compiled query)]; a stored query that no longer parses is skipped."""
    out: dict[int, list] = {}
    for monitor_id, tag_id, text in session.execute(
            select(AutoTagRule.monitor_id, AutoTagRule.tag_id, AutoTagRule.query)
            .where(AutoTagRule.monitor_id.in_(monitor_ids))):
        try:
            out.setdefault(monitor_id, []).append((tag_id, compile_query(text)))
        except QueryError:
            continue
    return out


def matches(rules: dict, mentions) -> list[dict]:
    """{mention_id, tag_id} pairs for (id, monitor_id, text, lang) mentions that rules match (pure)."""
    return [{"mention_id": mid, "tag_id": tag_id}
            for mid, monitor_id, text, lang in mentions
            for tag_id, query in rules.get(monitor_id, ())
            if query.matches(text, lang)]


def _insert(session, pairs: list[dict]) -> int:
    """INSERT the pairs in one executemany, skipping tags a mention has; how many were new."""
    if not pairs:
        return 0
    stmt = insert_for(session.get_bind())(MentionTag.__table__).on_conflict_do_nothing()
    return session.execute(stmt.execution_options(preserve_rowcount=True), pairs).rowcount


def tag_new(session, rows: list[dict]) -> int:
    """Tag freshly inserted mention rows (dicts with id, monitor_id, text); no commit."""
    if not rows:
        return 0
    rules = _compiled(session, {r["monitor_id"] for r in rows})
    if not rules:
        return 0
    return _insert(session, matches(rules, ((r["id"], r["monitor_id"], r["text"], r.get("lang")) for r in rows)))


def apply_stored(session, monitor_id: int, batch: int = BATCH) -> int:
    """Apply the monitor's rules to all its stored mentions, `batch` at a time; commits once.
    How many tags were added (a tag a mention already has is not counted)."""
    rules = _compiled(session, [monitor_id])
    added, after = 0, 0
    while rules:
        chunk = session.execute(select(Mention.id, Mention.monitor_id, Mention.text, Mention.lang)
                                .where(Mention.monitor_id == monitor_id, Mention.id > after)
                                .order_by(Mention.id).limit(batch)).all()
        if not chunk:
            break
        added += _insert(session, matches(rules, chunk))
        after = chunk[-1][0]
    session.commit()
    return added


def tag_names(session, monitor_id: int) -> list[str]:
    return list(session.execute(select(Tag.name).where(Tag.monitor_id == monitor_id).order_by(Tag.name)).scalars())
