"""API tokens over the API: list your tokens (admins: `?all=1` for everyone's), revoke one."""
from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from webapp.people.auth import api_user
from webapp.core.extensions import db
from webapp.people.services import tokens
from webapp.core.api_errors import ApiError

bp = Blueprint("people", __name__)


@bp.get("/tokens")
@api_user("viewer")
def list_tokens():
    everyone = request.args.get("all") in ("1", "true") and g.api_user.can("admin")
    found = tokens.list_tokens(db.session, None if everyone else g.api_user)
    return jsonify([tokens.token_dict(t) for t in found])


@bp.delete("/tokens/<int:token_id>")
@api_user("viewer")
def revoke_token(token_id: int):
    # (an id beyond BIGINT cannot exist; binding it would fail: found by schemathesis)
    revoked = tokens.revoke_token(db.session, token_id, g.api_user)
    if revoked is None:   # someone else's token looks the same as a missing one
        raise ApiError(404, "not_found", f"no token with id {token_id}")
    return jsonify(tokens.token_dict(revoked))
