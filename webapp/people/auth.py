"""Who is asking: session logins for pages, bearer tokens for the API, and role checks."""
from __future__ import annotations

from datetime import timedelta
from functools import cache, wraps

from flask import abort, g, request
from flask_login import current_user
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload, make_transient_to_detached

from webapp.core import sql
from webapp.core.extensions import db, login_manager
from webapp.people.models import ApiToken, User, hash_token
from webapp.core.numbers import whole_number
from webapp.core.types import utcnow

LAST_USED_EVERY = timedelta(minutes=1)  # how finely a token's last use is recorded

@login_manager.user_loader
def load_user(user_id: str):
    """The user of a session cookie holding "<id>.<session version>" (User.get_id): a cookie from
    before a sign-out or a password change names an old version and loads nobody."""
    number, version = (whole_number(part) for part in user_id.partition(".")[::2])
    user = _user(db.session, number) if number is not None and version is not None else None
    if user is None or not user.is_active or version != (user.session_version or 0):
        return None  # deactivation, sign-out elsewhere or a new password end the session
    return user


@cache
def _user_statement() -> tuple:
    """(the statement of one user's columns, their attribute names), built once."""
    attributes = User.__mapper__.column_attrs
    return (select(*(a.columns[0] for a in attributes)).where(User.__table__.c.id == bindparam("user_id")),
            tuple(a.key for a in attributes))


def _user(session, user_id: int) -> User | None:
    """`session.get(User, user_id)` for every page request: the row read as a plain row on the
    DBAPI connection (core.sql.raw_rows) and put into the session as a loaded, unchanged User
    (the same object a query gives; about half the CPU of the ORM's load)."""
    if session.identity_key(User, user_id) in session.identity_map:   # loaded already: as get does
        return session.get(User, user_id)
    statement, keys = _user_statement()
    found = sql.raw_rows(session, statement, {"user_id": user_id}).processed()
    if not found:
        return None
    user = User(**dict(zip(keys, found[0])))
    make_transient_to_detached(user)   # as if loaded: no history, nothing to write
    return session.merge(user, load=False)


@cache
def _token_statement():
    """A live token with its user (in the same query), built once: every API request asks it."""
    return (select(ApiToken).options(joinedload(ApiToken.user))
            .where(ApiToken.token_hash == bindparam("token_hash"), ApiToken.revoked_at.is_(None)))


def user_for_token(token: str) -> User | None:
    """The user that a live (not revoked) API token belongs to; records its last use."""
    found = db.session.execute(_token_statement(), {"token_hash": hash_token(token)}).scalar_one_or_none()
    if found is None or not found.user.is_active:  # a deactivated user's tokens stop working
        return None
    now = utcnow()
    if found.last_used_at is None or now - found.last_used_at >= LAST_USED_EVERY:
        found.last_used_at = now  # to the minute: not a write and commit on every API request
        db.session.commit()
    return found.user


def create_token(user: User, name: str = "") -> str:
    """Create an API token for `user`; returns the secret, which is stored only as a hash
    (services/tokens.issue_token, in the request's session)."""
    from webapp.people.services.tokens import issue_token

    return issue_token(db.session, user, name)[1]


def api_user(role: str = "viewer"):
    """Decorator for API views: a valid bearer token whose user has at least `role`."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            header = request.headers.get("Authorization", "")
            scheme, _, token = header.partition(" ")
            user = user_for_token(token.strip()) if scheme.lower() == "bearer" and token.strip() else None
            if user is None:
                abort(401)
            if not user.can(role):
                abort(403)
            g.api_user = user
            return view(*args, **kwargs)
        return wrapper
    return decorate


def page_role(role: str):
    """Decorator for page views: a logged-in user with at least `role`."""
    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.can(role):
                abort(403)
            return view(*args, **kwargs)
        return wrapper
    return decorate
