"""Who may see and change what: every page and API view fetches objects through these helpers.

Objects belong to teams through their monitor (mentions, rules, alert events, silences,
backfills, lexicon entries...) or directly (monitors, notifiers). Anyone outside the object's
team gets a 404, exactly as for a missing object, so ids of other teams reveal nothing;
inside the team, the member's team role decides what they may change (403 below `role`).
Installation admins act as owners of every team (services/teams.py).

The caller is the API token's user (`g.api_user`, set by auth.api_user) or the signed-in user.
"""
from __future__ import annotations

from collections import namedtuple
from functools import cache

from flask import abort, g, has_request_context, request, session
from flask_login import current_user
from sqlalchemy import false

from webapp.core import sql
from webapp.core.api_errors import MAX_ID
from webapp.core.extensions import db
from webapp.people.models import User
from webapp.people.services import teams
from webapp.core.numbers import whole_number


def caller() -> User:
    """The user of this request: the API token's, else the signed-in one."""
    user = g.get("api_user")
    if user is None and current_user.is_authenticated:
        user = current_user._get_current_object()
    if user is None:
        abort(401)
    return user


def _missing(what: str, object_id) -> None:
    abort(404, f"no {what} with id {object_id}")


def _team_role(user: User, team_id) -> str | None:
    """teams.team_role, asked once per request for a GET (a page asks it for the monitor, then
    again for each edit button); other methods may change memberships, so they always ask."""
    if not has_request_context() or request.method not in ("GET", "HEAD"):
        return teams.team_role(db.session, user, team_id)
    known = g.setdefault("team_roles", {})
    key = (user.id, team_id)
    if key not in known:
        known[key] = teams.team_role(db.session, user, team_id)
    return known[key]


def check_team(team_id: int | None, role: str, what: str, object_id, user: User | None = None) -> str:
    """The caller's role in the team; 404 outside it, 403 inside it below `role`."""
    in_range = isinstance(team_id, int) and -MAX_ID <= team_id <= MAX_ID
    team_role = _team_role(user or caller(), team_id) if in_range else None
    if team_role is None:
        _missing(what, object_id)
    if not teams.at_least(team_role, role):
        abort(403, f"your role in this team is {team_role}; this needs {role}")
    return team_role


def _get(model, object_id: int, what: str):
    found = db.session.get(model, object_id) if -MAX_ID <= object_id <= MAX_ID else None
    if found is None:
        _missing(what, object_id)
    return found


def monitor_or_404(monitor_id: int, role: str = "viewer", user: User | None = None):
    """The monitor if the caller's team role on it is at least `role`; else 404 (or 403)."""
    from webapp.monitors.models import Monitor

    monitor = _get(Monitor, monitor_id, "monitor")
    check_team(monitor.team_id, role, "monitor", monitor_id, user)
    return monitor


MonitorFacts = namedtuple("MonitorFacts", "id team_id name query scorer pruned_before")


@cache
def _facts_statement():
    """The monitor's MonitorFacts columns and the user's role in its team (None outside it)."""
    from sqlalchemy import and_, bindparam, select

    from webapp.monitors.models import Monitor
    from webapp.people.models import Membership

    member = and_(Membership.team_id == Monitor.team_id, Membership.user_id == bindparam("user_id"))
    return (select(Monitor.id, Monitor.team_id, Monitor.name, Monitor.query, Monitor.scorer,
                   Monitor.pruned_before, Membership.role)
            .outerjoin(Membership, member).where(Monitor.id == bindparam("monitor_id")))


def monitor_facts_or_404(monitor_id: int, role: str = "viewer", user: User | None = None) -> MonitorFacts:
    """`monitor_or_404` for a page that only shows the monitor (the dashboard, on every request):
    its columns as a plain row, no ORM object loaded, read with the caller's team role in the
    same statement (remembered for the request as `_team_role` would be)."""
    user = user or caller()
    found = sql.raw_rows(db.session, _facts_statement(), {"monitor_id": monitor_id, "user_id": user.id}) \
        if -MAX_ID <= monitor_id <= MAX_ID else ()
    if not found:
        _missing("monitor", monitor_id)
    *columns, member_role = found.processed()[0]
    facts = MonitorFacts(*columns)
    if not user.is_admin and has_request_context() and request.method in ("GET", "HEAD"):
        g.setdefault("team_roles", {}).setdefault((user.id, facts.team_id), member_role)   # teams.team_role's answer
    check_team(facts.team_id, role, "monitor", monitor_id, user)
    return facts


def notifier_or_404(notifier_id: int, role: str = "viewer", user: User | None = None):
    """The notifier if the caller's team role on it is at least `role`; else 404 (or 403)."""
    from webapp.alerting.models import Notifier

    notifier = _get(Notifier, notifier_id, "notifier")
    check_team(notifier.team_id, role, "notifier", notifier_id, user)
    return notifier


def of_monitor_or_404(model, object_id: int, what: str, role: str = "viewer", monitor_id: int | None = None,
                      user: User | None = None):
    """A row that belongs to a monitor (has `monitor_id`: rules, events, silences, backfills...)
    when the caller may act on that monitor with `role`; with `monitor_id`, the row must also
    belong to that monitor (the URL names both)."""
    found = _get(model, object_id, what)
    if monitor_id is not None and found.monitor_id != monitor_id:
        _missing(what, object_id)
    try:
        monitor_or_404(found.monitor_id, role, user)
    except Exception as exc:  # a 404 must name the object asked for, not its monitor
        if getattr(exc, "code", None) == 404:
            _missing(what, object_id)
        raise
    return found


def delivery_or_404(delivery_id: int, role: str = "viewer", user: User | None = None):
    """A delivery of an alert event of a monitor the caller may act on with `role`."""
    from webapp.alerting.models import AlertEvent, Delivery

    delivery = _get(Delivery, delivery_id, "delivery")
    event = db.session.get(AlertEvent, delivery.event_id)
    if event is None:
        _missing("delivery", delivery_id)
    of_monitor_or_404(AlertEvent, event.id, "delivery", role, user=user)
    return delivery


def visible(query, team_column, user: User | None = None):
    """`query` narrowed to the rows whose `team_column` is one of the caller's teams."""
    ids = teams.visible_team_ids(db.session, user or caller())
    if ids is None:
        return query
    return query.where(team_column.in_(ids)) if ids else query.where(false())


def visible_monitors(query, user: User | None = None):
    """`query` (over Monitor) narrowed to the caller's teams' monitors."""
    from webapp.monitors.models import Monitor

    return visible(query, Monitor.team_id, user)


def visible_notifiers(query, user: User | None = None):
    from webapp.alerting.models import Notifier

    return visible(query, Notifier.team_id, user)


def team_for_new(team_id=None, user: User | None = None) -> int:
    """The team a new monitor or notifier goes to (teams.default_team_for); TeamError if none."""
    return teams.default_team_for(db.session, user or caller(), team_id)


def require(obj, role: str, what: str = "monitor", user: User | None = None) -> None:
    """403 unless the caller's role in `obj`'s team (a monitor or notifier) is at least `role`."""
    check_team(obj.team_id, role, what, obj.id, user)


def can(obj, role: str, user: User | None = None) -> bool:
    """Does the caller's role in `obj`'s team reach `role`? (for showing or hiding buttons)"""
    return teams.at_least(_team_role(user or caller(), obj.team_id), role)


def can_change(obj, user: User | None = None) -> bool:
    """May the caller change `obj` (a monitor or notifier)? Both their installation role and
    their role in its team must be editor or above, as the views require; the pages show their
    edit buttons and forms by it (a Jinja global, `can_change(monitor)`)."""
    user = user or caller()
    return user.can("editor") and can(obj, "editor", user)


CURRENT_TEAM = "team_id"   # the session key of the team chosen on /teams (pages only)


def current_team_id(user: User | None = None) -> int | None:
    """The signed-in user's current team (chosen on the team pages, kept in the session) when
    they still belong to it, else the first team they are a member of by name; None for a user
    in no team (an admin in no team then sees every team's monitors)."""
    user = user or caller()
    chosen = session.get(CURRENT_TEAM)
    if isinstance(chosen, int) and teams.team_role(db.session, user, chosen) is not None:
        return chosen
    mine = teams.memberships_of(db.session, user)   # an admin's own teams, not every team
    return mine[0] if mine else None


def set_current_team(team_id: int, user: User | None = None) -> bool:
    """Make `team_id` the current team (False, nothing kept, when the user is not in it)."""
    if teams.team_role(db.session, user or caller(), team_id) is None:
        return False
    session[CURRENT_TEAM] = team_id
    return True


def current_team(team_id: int | None):
    """The Team row of `team_id` (None stays None), for page headings."""
    from webapp.people.models import Team

    return db.session.get(Team, team_id) if team_id is not None else None


class TeamChooser:
    """The team select of the new-monitor and new-notifier forms: the teams where the user may
    add things (editor or owner), the current team chosen by default. `error` is the message to
    show next to the select when the posted team is not one of them."""

    def __init__(self, posted: str | None, user: User | None = None):
        user = user or caller()
        self.choices = [(t.id, t.name) for t, role in teams.teams_of(db.session, user)
                        if teams.at_least(role, "editor")]
        current = current_team_id(user)
        self.error = None
        self.team_id = current if any(i == current for i, _ in self.choices) else (
            self.choices[0][0] if self.choices else None)
        if posted not in (None, ""):
            wanted = whole_number(str(posted))
            if wanted is None or all(i != wanted for i, _ in self.choices):
                self.error = "Choose one of your teams where you are editor or owner."
            else:
                self.team_id = wanted
        if self.team_id is None and not self.error:
            try:
                self.team_id = teams.default_team_for(db.session, user)
            except teams.TeamError as exc:
                self.error = str(exc)
