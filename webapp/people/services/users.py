"""Running the people of an installation: users (create, role, deactivate) and their API tokens.

Plain functions on a session, no request globals; each use case commits once. The one rule
that needs care is that an installation always keeps at least one active admin: demoting or
deactivating the last one would lock everybody out of these pages. The check locks the admin
rows (FOR UPDATE on PostgreSQL; SQLite serialises writers), so two admins demoting each other
at once cannot both succeed.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from webapp.people.models import ROLES, ApiToken, User
from webapp.people.services import tokens
from webapp.people.services.passwords import password_problem


class UserAdminError(ValueError):
    """A request the rules refuse; `field` names the form field it belongs to (or None)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class UserRow:
    user: User
    tokens: int  # live (not revoked) tokens


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def removes_last_admin(user_is_active_admin: bool, active_admins: int, new_role: str,
                       new_active: bool) -> bool:
    """True when the change leaves no active admin (pure, so it is easy to test)."""
    stays_admin = new_role == "admin" and new_active
    return user_is_active_admin and not stays_admin and active_admins <= 1


def list_users(session) -> list[UserRow]:
    """Every user, admins first, with the number of live tokens each holds."""
    counts = dict(session.execute(
        select(ApiToken.user_id, func.count()).where(ApiToken.revoked_at.is_(None))
        .group_by(ApiToken.user_id)).all())
    users = session.execute(select(User).order_by(User.email)).scalars().all()
    order = {role: -i for i, role in enumerate(ROLES)}
    users.sort(key=lambda u: (not u.active, order.get(u.role, 0), u.email))
    return [UserRow(u, counts.get(u.id, 0)) for u in users]


def create_user(session, email: str, role: str, password: str) -> User:
    """Create an active user. Raises UserAdminError (duplicate email, unknown role, short password)."""
    email = normalize_email(email)
    if "@" not in email:
        raise UserAdminError("Enter an email address.", "email")
    if role not in ROLES:
        raise UserAdminError(f"Role must be one of {', '.join(ROLES)}.", "role")
    problem = password_problem(password)
    if problem:
        raise UserAdminError(problem, "password")
    if session.execute(select(User.id).where(User.email == email)).first() is not None:
        raise UserAdminError("A user with this email exists.", "email")
    user = User(email=email, role=role, active=True)
    user.set_password(password)
    session.add(user)
    session.commit()
    return user


def _active_admins(session) -> int:
    ids = session.execute(
        select(User.id).where(User.role == "admin", User.active.is_(True)).with_for_update()
    ).scalars().all()
    return len(ids)


def update_user(session, user_id: int, *, role: str | None = None, active: bool | None = None) -> User | None:
    """Change a user's role and/or active flag; None when there is no such user.

    Refuses (UserAdminError) to leave the installation without an active admin. Commits.
    """
    user = session.get(User, user_id)
    if user is None:
        return None
    new_role = user.role if role is None else role
    new_active = user.active if active is None else active
    if new_role not in ROLES:
        raise UserAdminError(f"Role must be one of {', '.join(ROLES)}.", "role")
    is_active_admin = user.role == "admin" and user.active
    if removes_last_admin(is_active_admin, _active_admins(session) if is_active_admin else 2,
                          new_role, new_active):
        session.rollback()
        raise UserAdminError("This is the last active admin; make another user admin first.")
    user.role, user.active = new_role, new_active
    session.commit()
    return user


def tokens_of(session, user_id: int | None = None) -> list[ApiToken]:
    """Tokens of one user (or of everybody), live ones first, newest first."""
    query = select(ApiToken).order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(),
                                      ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user_id == user_id)
    return list(session.execute(query).scalars())


def issue_token(session, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a token for an active `user` (services.tokens.issue_token); returns row and secret.

    The secret must be shown once and never again (only its prefix is kept in clear). Commits.
    """
    if not user.active:
        raise UserAdminError("A deactivated user cannot get tokens.")
    return tokens.issue_token(session, user, name)
