"""API tokens: issue, list and revoke (the admin tokens page, the API and the CLI call these).

A token is shown once when issued and stored only as its SHA-256 (`ApiToken.token_hash`); it acts
with its user's role and only for that user. Revoking sets `revoked_at`: from then on
`webapp.people.auth.user_for_token` no longer finds it, in every process at once (the check is a SQL read
per request). Users revoke their own tokens; admins revoke anyone's.
"""
from __future__ import annotations

from sqlalchemy import select

from webapp.people.models import ApiToken, User, hash_token
from webapp.core.types import utcnow

MAX_NAME = 100


def issue_token(session, user: User, name: str = "") -> tuple[ApiToken, str]:
    """A new token for `user`; returns the row and the secret (shown once, stored hashed). Commits."""
    secret = ApiToken.new_secret()
    token = ApiToken(user_id=user.id, token_hash=hash_token(secret), prefix=secret[:8],
                     name=(name or "").strip()[:MAX_NAME])
    session.add(token)
    session.commit()
    return token, secret


def list_tokens(session, user: User | None = None, include_revoked: bool = True) -> list[ApiToken]:
    """Tokens of `user` (every user's when None), newest first."""
    query = select(ApiToken).order_by(ApiToken.id.desc())
    if user is not None:
        query = query.where(ApiToken.user_id == user.id)
    if not include_revoked:
        query = query.where(ApiToken.revoked_at.is_(None))
    return list(session.execute(query).scalars())


def can_manage(by_user: User, token: ApiToken) -> bool:
    return token.user_id == by_user.id or by_user.can("admin")


def revoke_token(session, token_id: int, by_user: User | None = None, *,
                 owner_id: int | None = None) -> ApiToken | None:
    """Revoke a token; None (and nothing changed) when there is no such token or it is not allowed.

    `by_user`: only their own token, or any token when they are an admin. `owner_id`: only a token
    of that user. Neither: any token (the caller has checked that an admin asks). Revoking twice
    keeps the first time (idempotent). Commits.
    """
    if not 0 < token_id < 2**31:   # beyond the column's range: none (and no SQL overflow error)
        return None
    token = session.get(ApiToken, token_id)
    if token is None or (owner_id is not None and token.user_id != owner_id) \
            or (by_user is not None and not can_manage(by_user, token)):
        return None
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    session.commit()
    return token


def token_dict(token: ApiToken) -> dict:
    """A token as the API and pages show it: never the secret nor its hash."""
    return {"id": token.id, "user_id": token.user_id, "user": token.user.email if token.user else None,
            "name": token.name, "prefix": token.prefix,
            "created_at": token.created_at.isoformat() if token.created_at else None,
            "last_used_at": token.last_used_at.isoformat() if token.last_used_at else None,
            "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None}
