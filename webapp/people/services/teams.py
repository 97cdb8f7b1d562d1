"""Teams: who belongs to which team with which role, and what each user may see.

Plain functions on a session, no request globals; each use case that changes something commits
once. Installation admins (User.role == "admin") act as owners of every team and see every
team (visible_team_ids -> None). A team always keeps at least one owner: the last owner can be
neither removed nor demoted (the check locks the owner rows, FOR UPDATE on PostgreSQL).
"""
from __future__ import annotations

from functools import cache

from sqlalchemy import bindparam, select

from webapp.core import sql
from webapp.people.models import DEFAULT_TEAM, TEAM_ROLES, Membership, Team, User
from webapp.people.services.users import UserAdminError, normalize_email

__all__ = ["TEAM_ROLES", "DEFAULT_TEAM", "TeamError", "team_role", "visible_team_ids", "members",
           "is_member", "teams_of", "create_team", "add_member", "change_role", "remove_member",
           "default_team_for", "ensure_team", "at_least"]

MAX_NAME = 120


class TeamError(UserAdminError):
    """A team change the rules refuse; `field` names the form field (or None)."""


def at_least(role: str | None, needed: str) -> bool:
    """True when team role `role` is `needed` or above (viewer < editor < owner)."""
    return role in TEAM_ROLES and TEAM_ROLES.index(role) >= TEAM_ROLES.index(needed)


def team_role(session, user: User, team_id: int | None) -> str | None:
    """The user's role in the team: "owner" for installation admins, None when not a member."""
    if user is None or team_id is None:
        return None
    if user.is_admin:
        return "owner" if session.get(Team, team_id) is not None else None
    found = sql.raw_rows(session, _role_statement(), {"team_id": team_id, "user_id": user.id})   # (team, user) is a key
    return found[0][0] if found else None


@cache
def _role_statement():
    """A member's role, built once (every page and API request asks it)."""
    return select(Membership.role).where(Membership.team_id == bindparam("team_id"),
                                         Membership.user_id == bindparam("user_id"))


def visible_team_ids(session, user: User) -> set[int] | None:
    """The ids of the teams whose objects the user sees; None means every team (admins)."""
    if user.is_admin:
        return None
    return set(session.execute(select(Membership.team_id).where(Membership.user_id == user.id)).scalars())


def teams_of(session, user: User) -> list[tuple[Team, str]]:
    """(team, role) pairs of the user's teams by name; every team as owner for admins."""
    if user.is_admin:
        return [(t, "owner") for t in session.execute(select(Team).order_by(Team.name)).scalars()]
    rows = session.execute(select(Team, Membership.role).join(Membership, Membership.team_id == Team.id)
                           .where(Membership.user_id == user.id).order_by(Team.name)).all()
    return [(team, role) for team, role in rows]


def memberships_of(session, user: User) -> list[int]:
    """The ids of the teams the user is really a member of, by team name (admins included)."""
    return list(session.execute(select(Team.id).join(Membership, Membership.team_id == Team.id)
                                .where(Membership.user_id == user.id).order_by(Team.name)).scalars())


def members(session, team_id: int) -> list[User]:
    """The members of a team, by email."""
    return list(session.execute(select(User).join(Membership, Membership.user_id == User.id)
                                .where(Membership.team_id == team_id).order_by(User.email)).scalars())


def memberships(session, team_id: int) -> list[Membership]:
    """The team's memberships (with .user), by email: what the members page lists."""
    return list(session.execute(select(Membership).join(User, Membership.user_id == User.id)
                                .where(Membership.team_id == team_id).order_by(User.email)).scalars())


def is_member(session, team_id: int, user_id: int) -> bool:
    return session.execute(select(Membership.id).where(
        Membership.team_id == team_id, Membership.user_id == user_id)).first() is not None


def _clean_name(name) -> str:
    name = " ".join(str(name or "").split())
    if not name:
        raise TeamError("Give the team a name.", "name")
    if len(name) > MAX_NAME or "\x00" in name:
        raise TeamError(f"Use at most {MAX_NAME} printable characters.", "name")
    return name


def _check_role(role) -> str:
    if role not in TEAM_ROLES:
        raise TeamError(f"Role must be one of {', '.join(TEAM_ROLES)}.", "role")
    return role


def ensure_team(session, name: str) -> Team:
    """The team called `name`, created (not committed) when missing."""
    name = _clean_name(name)
    team = session.execute(select(Team).where(Team.name == name)).scalar_one_or_none()
    if team is None:
        team = Team(name=name)
        session.add(team)
        session.flush()
    return team


def join(session, team: Team, user: User, role: str) -> Membership:
    """Put the user in the team with `role` (changes the role of a member); not committed."""
    _check_role(role)
    found = session.execute(select(Membership).where(
        Membership.team_id == team.id, Membership.user_id == user.id)).scalar_one_or_none()
    if found is None:
        found = Membership(team_id=team.id, user_id=user.id, role=role)
        session.add(found)
    else:
        found.role = role
    session.flush()
    return found


def create_team(session, name: str, creator: User) -> Team:
    """A new team whose creator becomes its owner. Raises TeamError (empty or taken name). Commits."""
    name = _clean_name(name)
    if session.execute(select(Team.id).where(Team.name == name)).first() is not None:
        raise TeamError("A team with this name exists.", "name")
    team = Team(name=name)
    session.add(team)
    session.flush()
    session.add(Membership(team_id=team.id, user_id=creator.id, role="owner"))
    session.commit()
    return team


def add_member(session, team_id: int, email: str, role: str) -> Membership:
    """Add an existing user (by email) to the team, or change the role of a member. Commits."""
    _check_role(role)
    user = session.execute(select(User).where(User.email == normalize_email(email))).scalar_one_or_none()
    if user is None:
        raise TeamError("No user with this email; an admin creates users first.", "email")
    team = session.get(Team, team_id)
    found = session.execute(select(Membership).where(
        Membership.team_id == team_id, Membership.user_id == user.id)).scalar_one_or_none()
    if found is not None and found.role == "owner" and role != "owner":
        _refuse_last_owner(session, team_id)
    membership = join(session, team, user, role)
    session.commit()
    return membership


def _refuse_last_owner(session, team_id: int) -> None:
    owners = session.execute(select(Membership.id).where(
        Membership.team_id == team_id, Membership.role == "owner").with_for_update()).scalars().all()
    if len(owners) <= 1:
        session.rollback()
        raise TeamError("This is the team's last owner; make another member owner first.")


def change_role(session, team_id: int, user_id: int, role: str) -> Membership | None:
    """Change a member's role (None when not a member); never demotes the last owner. Commits."""
    _check_role(role)
    found = session.execute(select(Membership).where(
        Membership.team_id == team_id, Membership.user_id == user_id)).scalar_one_or_none()
    if found is None:
        return None
    if found.role == "owner" and role != "owner":
        _refuse_last_owner(session, team_id)
    found.role = role
    session.commit()
    return found


def remove_member(session, team_id: int, user_id: int) -> bool:
    """Take a user out of the team (False when not a member); never the last owner. Commits."""
    found = session.execute(select(Membership).where(
        Membership.team_id == team_id, Membership.user_id == user_id)).scalar_one_or_none()
    if found is None:
        return False
    if found.role == "owner":
        _refuse_last_owner(session, team_id)
    session.delete(found)
    session.commit()
    return True


def default_team_for(session, user: User, team_id=None) -> int:
    """The team a new monitor or notifier goes to (CONTRACT.md, Teams).

    `team_id` given: it must be a team where the user is editor or above (else TeamError, whose
    message does not tell a foreign team from a missing one). Not given: the user's only team;
    for an installation admin in no team, `Default`. Raises TeamError when it is ambiguous.
    """
    if team_id is not None:
        if isinstance(team_id, bool) or not isinstance(team_id, int) or not 0 < team_id < 2 ** 63:
            raise TeamError("team_id must be the id of one of your teams.", "team_id")
        if not at_least(team_role(session, user, team_id), "editor"):
            raise TeamError("team_id must be the id of a team where you are editor or owner.", "team_id")
        return team_id
    mine = session.execute(select(Membership.team_id, Membership.role).where(
        Membership.user_id == user.id)).all()
    if len(mine) == 1:
        only, role = mine[0]
        if user.is_admin or at_least(role, "editor"):
            return only
        raise TeamError("You are a viewer of your team; an editor or owner adds things.", "team_id")
    if not mine and user.is_admin:
        team = ensure_team(session, DEFAULT_TEAM)
        return team.id
    if not mine:
        raise TeamError("You belong to no team; ask a team owner to add you.", "team_id")
    raise TeamError("You belong to several teams: give team_id.", "team_id")
