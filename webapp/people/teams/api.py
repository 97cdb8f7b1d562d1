"""Teams over the API (CONTRACT.md, Teams): list and create teams, add and remove members.

A team the caller does not belong to answers 404 like a missing one; inside it, changing the
members takes its owner (or an installation admin): 403 for its viewers and editors.
"""
from __future__ import annotations

from typing import Annotated, Literal

from flask import Blueprint, g, jsonify
from pydantic import BaseModel, ConfigDict, StringConstraints

from webapp.core.api_errors import ApiError, json_body
from webapp.core.extensions import db
from webapp.people import access
from webapp.people.auth import api_user
from webapp.people.services import teams

bp = Blueprint("teams", __name__)


class TeamIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=teams.MAX_NAME)]


class MemberIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: Annotated[str, StringConstraints(min_length=3, max_length=254)]
    role: Literal["viewer", "editor", "owner"] = "editor"


def team_dict(team, role: str | None = None) -> dict:
    answer = {"id": team.id, "name": team.name, "time_zone": team.time_zone}
    if role is not None:
        answer["role"] = role
    return answer


def _refused(exc: teams.TeamError) -> ApiError:
    if exc.field is None:   # the last owner: a conflict with the team's state, not bad input
        return ApiError(409, "last_owner", str(exc))
    return ApiError(422, "validation_failed", [{"loc": exc.field, "msg": str(exc)}])


@bp.get("/teams")
@api_user("viewer")
def list_teams():
    return jsonify([team_dict(t, role) for t, role in teams.teams_of(db.session, g.api_user)])


@bp.post("/teams")
@api_user("viewer")
def new_team():
    body = TeamIn.model_validate(json_body())
    try:
        team = teams.create_team(db.session, body.name, g.api_user)
    except teams.TeamError as exc:
        raise _refused(exc) from exc
    return jsonify(team_dict(team, "owner")), 201


@bp.post("/teams/<int:team_id>/members")
@api_user("viewer")
def add_member(team_id: int):
    access.check_team(team_id, "owner", "team", team_id)
    body = MemberIn.model_validate(json_body())
    try:
        membership = teams.add_member(db.session, team_id, body.email, body.role)
    except teams.TeamError as exc:
        raise _refused(exc) from exc
    return jsonify({"team_id": team_id, "user_id": membership.user_id, "email": membership.user.email,
                    "role": membership.role}), 201


@bp.delete("/teams/<int:team_id>/members/<int:user_id>")
@api_user("viewer")
def remove_member(team_id: int, user_id: int):
    access.check_team(team_id, "owner", "team", team_id)
    try:
        removed = teams.remove_member(db.session, team_id, user_id) if -access.MAX_ID <= user_id <= access.MAX_ID \
            else False
    except teams.TeamError as exc:
        raise _refused(exc) from exc
    if not removed:
        raise ApiError(404, "not_found", f"no member with id {user_id} in this team")
    return "", 204
