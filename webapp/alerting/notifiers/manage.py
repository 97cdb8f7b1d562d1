"""Notifier records: create (validating through the channel), describe, re-enable.

Secrets are write-only: `notifier_dict` never includes one; a generated webhook secret is
returned once, by `create_notifier`, for the creator to copy.
"""
from __future__ import annotations

from sqlalchemy import select

from webapp.alerting.models import Notifier
from webapp.core.sql import delete_cascading
from webapp.alerting.notifiers import get_channel
from webapp.alerting.notifiers.base import NotifierInvalid


def create_notifier(session, data: dict, policy, user=None, team_id: int | None = None
                    ) -> tuple[Notifier, str | None]:
    """Validate and store a notifier in team `team_id` (None: Default); returns it and the
    secret if one was generated. Commits."""
    channel = get_channel(data.get("kind"))
    settings, secret = channel.clean_settings(data, policy)
    name = data.get("name")
    if name is not None and (not isinstance(name, str) or len(name) > 120):
        raise NotifierInvalid("name", "the name must be a string of at most 120 characters")
    name = (name or "").strip() or channel.default_name(settings)
    notifier = Notifier(kind=channel.KIND, name=name, settings=settings, secret=secret,
                        created_by_id=getattr(user, "id", None), team_id=team_id)
    session.add(notifier)
    session.commit()
    made_here = getattr(channel, "GENERATES_SECRET", False) and not data.get("secret")
    generated = secret if secret is not None and made_here else None
    return notifier, generated


def notifier_dict(n: Notifier) -> dict:
    shown = get_channel(n.kind).shown(n.plain_settings)
    return {"id": n.id, "kind": n.kind, "name": n.name, **shown, "enabled": n.enabled,
            "disabled_reason": n.disabled_reason,
            "disabled_at": n.disabled_at.isoformat() if n.disabled_at else None,
            "failing_since": n.failing_since.isoformat() if n.failing_since else None,
            "created_at": n.created_at.isoformat() if n.created_at else None, "team_id": n.team_id}


def list_notifiers(session, team_ids: set[int] | None = None) -> list[Notifier]:
    """Every notifier, or those of the teams `team_ids` (teams.visible_team_ids)."""
    query = select(Notifier).order_by(Notifier.id)
    if team_ids is not None:
        query = query.where(Notifier.team_id.in_(team_ids))
    return list(session.execute(query).scalars())


def enable_notifier(session, notifier: Notifier) -> None:
    """Turn a disabled notifier back on (after its owner fixed the endpoint). Commits."""
    notifier.enabled = True
    notifier.disabled_reason = None
    notifier.disabled_at = None
    notifier.failing_since = None
    session.commit()


def delete_notifier(session, notifier: Notifier) -> None:
    """Delete a notifier; rules stop sending to it and its delivery log goes (ON DELETE CASCADE).
    Commits."""
    delete_cascading(session, notifier)
