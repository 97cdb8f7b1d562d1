"""Team pages: your teams (create one, switch the current team) and a team's members (its
owners add existing users by email, change roles, remove members), and `/account`, the
signed-in user's own page (change password, API tokens, teams).

Teams the user is not in answer 404 like missing ones (access.check_team).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.core.extensions import db
from webapp.people import access
from webapp.people.auth import page_role
from webapp.people.models import TEAM_ROLES, Team
from webapp.people.services import teams
from webapp.people.services.passwords import MIN_PASSWORD, password_problem

bp = Blueprint("teams", __name__)
bp.add_app_template_global(access.can_change, "can_change")


def _teams_page(errors: dict | None = None, status: int = 200):
    return render_template("people/teams.html", rows=teams.teams_of(db.session, current_user),
                           current=access.current_team_id(), errors=errors or {},
                           name=request.form.get("name", "")), status


@bp.get("/teams")
@page_role("viewer")
def index():
    return _teams_page()


@bp.post("/teams")
@page_role("viewer")
def create():
    try:
        team = teams.create_team(db.session, request.form.get("name", ""), current_user)
    except teams.TeamError as exc:
        return _teams_page({exc.field or "name": str(exc)}, 400)
    access.set_current_team(team.id)
    flash(f"Team “{team.name}” created; you are its owner and it is your current team.")
    return redirect(url_for("teams.members", team_id=team.id))


@bp.post("/teams/<int:team_id>/switch")
@page_role("viewer")
def switch(team_id: int):
    access.check_team(team_id, "viewer", "team", team_id)
    access.set_current_team(team_id)
    flash(f"Current team: {db.session.get(Team, team_id).name}.")
    return redirect(url_for("monitors.index"))


def _members_page(team_id: int, errors: dict | None = None, status: int = 200):
    role = access.check_team(team_id, "viewer", "team", team_id)
    return render_template("people/team.html", team=db.session.get(Team, team_id), my_role=role,
                           rows=teams.memberships(db.session, team_id), roles=TEAM_ROLES,
                           errors=errors or {}, email=request.form.get("email", "")), status


@bp.get("/teams/<int:team_id>")
@page_role("viewer")
def members(team_id: int):
    return _members_page(team_id)


def _owner_change(team_id: int, change, message, error_field: str = "member"):
    """Run `change()` (a teams service call) for an owner of the team; 404 when it finds no
    such member, the refusal next to `error_field`, else `message(result)` and back to the list."""
    access.check_team(team_id, "owner", "team", team_id)
    try:
        result = change()
    except teams.TeamError as exc:
        key = (exc.field or error_field) if error_field == "email" else error_field   # the add form's fields
        return _members_page(team_id, {key: str(exc)}, 400)
    if result is None or result is False:
        abort(404)
    flash(message(result))
    return redirect(url_for("teams.members", team_id=team_id))


@bp.post("/teams/<int:team_id>/members")
@page_role("viewer")
def add_member(team_id: int):
    return _owner_change(team_id, lambda: teams.add_member(
        db.session, team_id, request.form.get("email", ""), request.form.get("role", "editor")),
        lambda added: f"{added.user.email} is {added.role} of this team.", error_field="email")


@bp.post("/teams/<int:team_id>/members/<int:user_id>/role")
@page_role("viewer")
def change_role(team_id: int, user_id: int):
    return _owner_change(team_id, lambda: teams.change_role(
        db.session, team_id, user_id, request.form.get("role", "")),
        lambda changed: f"{changed.user.email} is now {changed.role}.")


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@page_role("viewer")
def remove_member(team_id: int, user_id: int):
    return _owner_change(team_id, lambda: teams.remove_member(db.session, team_id, user_id),
                         lambda _: "Removed from the team.")


# -- /account ---------------------------------------------------------------------------------

def _account_page(errors: dict | None = None, status: int = 200):
    return render_template("people/account.html", rows=teams.teams_of(db.session, current_user),
                           current=access.current_team_id(), errors=errors or {},
                           min_password=MIN_PASSWORD), status


@bp.get("/account")
@page_role("viewer")
def account():
    return _account_page()


@bp.post("/account/password")
@page_role("viewer")
def change_password():
    """Needs the current password; the new one signs every other session out (User.set_password)."""
    current, new, again = (request.form.get(k, "") for k in ("current", "new", "again"))
    errors = {}
    if not current_user.check_password(current):
        errors["current"] = "This is not your current password."
    elif password_problem(new):
        errors["new"] = password_problem(new)
    elif new != again:
        errors["again"] = "The two new passwords differ."
    if errors:
        return _account_page(errors, 400)
    user = current_user._get_current_object()
    user.set_password(new)
    db.session.commit()
    from flask_login import login_user

    login_user(user)   # this session carries the new session version; the others end
    flash("Password changed; your other sessions are signed out.")
    return redirect(url_for("teams.account"))
