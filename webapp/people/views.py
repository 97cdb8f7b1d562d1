"""People's pages: sign-in and sign-out; for admins, users (create, role, deactivate) and API
tokens under /admin; /account/tokens for everyone.

A new token's secret is rendered once, in the answer to the POST that created it (never
stored in the session or flashed, so it cannot appear again on a later page).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, abort, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.people.auth import page_role
from webapp.people.forms import LoginForm, NewTokenForm, NewUserForm, RoleForm
from webapp.people.models import ROLES, User
from webapp.people.services import users as users_admin
from webapp.people.services.tokens import revoke_token
from webapp.people.services.login_throttle import Throttle

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths; anything else goes to the start page."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("monitors.index")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        email = form.email.data.strip().lower()
        throttle = Throttle.for_config(current_app.config, db.session)
        decision = throttle.check(email, request.remote_addr or "")
        if not decision.allowed:  # refused before the password is looked at
            minutes = max(1, -(-decision.retry_after // 60))
            form.password.errors.append(f"Too many failed sign-ins. Try again in {minutes} minute"
                                        f"{'s' if minutes != 1 else ''}.")
            response = make_response(render_template("login.html", form=form), 429)
            response.headers["Retry-After"] = str(decision.retry_after)
            return response
        user = db.session.execute(
            select(User).where(User.email == email)
        ).scalar_one_or_none()
        if user is not None and user.check_password(form.password.data) and user.is_active:
            throttle.succeeded(email)
            session.clear()  # a fresh session at login
            login_user(user, remember=form.remember.data)
            return redirect(_safe_next(request.args.get("next")))
        throttle.failed(email, request.remote_addr or "")
        form.password.errors.append("Wrong email or password.")
    return render_template("login.html", form=form), (400 if form.errors else 200)


@bp.post("/logout")
@login_required
def logout():
    """Signs out here and everywhere: the session cookie lives in the browser, so a copy would
    outlive a mere `session.clear()`; counting up the user's session version ends them all."""
    current_user.end_sessions()
    db.session.commit()
    logout_user()
    session.clear()
    flash("Signed out.")
    return redirect(url_for("auth.login"))


admin_bp = Blueprint("people", __name__, url_prefix="/admin")
account_bp = Blueprint("account", __name__, url_prefix="/account")


def _users_page(form: NewUserForm | None = None, status: int = 200):
    return render_template("admin/users.html", rows=users_admin.list_users(db.session),
                           form=form or NewUserForm(), roles=ROLES), status


@admin_bp.get("/users")
@page_role("admin")
def users():
    return _users_page()


@admin_bp.post("/users")
@page_role("admin")
def create_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = users_admin.create_user(db.session, form.email.data, form.role.data, form.password.data)
        except users_admin.UserAdminError as exc:
            getattr(form, exc.field or "email").errors.append(str(exc))
        else:
            flash(f"Created {user.email} ({user.role}).")
            return redirect(url_for("people.users"))
    return _users_page(form, 400)


@admin_bp.post("/users/<int:user_id>/role")
@page_role("admin")
def change_role(user_id: int):
    form = RoleForm()
    if not form.validate_on_submit():
        flash("Choose one of the roles.")
        return redirect(url_for("people.users")), 303
    return _update(user_id, role=form.role.data)


@admin_bp.post("/users/<int:user_id>/active")
@page_role("admin")
def set_active(user_id: int):
    return _update(user_id, active=request.form.get("active") == "1")


def _update(user_id: int, **change):
    try:
        user = users_admin.update_user(db.session, user_id, **change)
    except users_admin.UserAdminError as exc:
        flash(str(exc))
        return _users_page(status=400)
    if user is None:
        abort(404)
    state = "active" if user.active else "deactivated"
    flash(f"{user.email}: {user.role}, {state}.")
    return redirect(url_for("people.users"))


# -- tokens -----------------------------------------------------------------------------------------

def _tokens_page(user: User, *, admin_view: bool, form=None, secret=None, status: int = 200):
    return render_template("admin/tokens.html", user=user, admin_view=admin_view, secret=secret,
                           tokens=users_admin.tokens_of(db.session, user.id), form=form or NewTokenForm()), status


def _new_token(user: User, admin_view: bool):
    form = NewTokenForm()
    if not form.validate_on_submit():
        return _tokens_page(user, admin_view=admin_view, form=form, status=400)
    try:
        token, secret = users_admin.issue_token(db.session, user, form.name.data)
    except users_admin.UserAdminError as exc:
        form.name.errors.append(str(exc))
        return _tokens_page(user, admin_view=admin_view, form=form, status=400)
    response, status = _tokens_page(user, admin_view=admin_view, secret=secret, form=NewTokenForm(formdata=None))
    return response, status, {"Cache-Control": "no-store"}


@admin_bp.get("/users/<int:user_id>/tokens")
@page_role("admin")
def user_tokens(user_id: int):
    return _tokens_page(db.get_or_404(User, user_id), admin_view=True)


@admin_bp.post("/users/<int:user_id>/tokens")
@page_role("admin")
def create_user_token(user_id: int):
    return _new_token(db.get_or_404(User, user_id), admin_view=True)


@admin_bp.post("/tokens/<int:token_id>/revoke")
@page_role("admin")
def revoke(token_id: int):
    token = revoke_token(db.session, token_id)
    if token is None:
        abort(404)
    flash(f"Revoked token {token.prefix}… {token.name}".rstrip() + ".")
    return redirect(url_for("people.user_tokens", user_id=token.user_id))


@admin_bp.get("/tokens")
@page_role("admin")
def all_tokens():
    owners = dict(db.session.execute(select(User.id, User.email)).all())
    return render_template("admin/all_tokens.html", tokens=users_admin.tokens_of(db.session), owners=owners)


@account_bp.get("/tokens")
@page_role("viewer")
def my_tokens():
    return _tokens_page(current_user, admin_view=False)


@account_bp.post("/tokens")
@page_role("viewer")
def create_my_token():
    return _new_token(current_user, admin_view=False)


@account_bp.post("/tokens/<int:token_id>/revoke")
@page_role("viewer")
def revoke_mine(token_id: int):
    token = revoke_token(db.session, token_id, owner_id=current_user.id)
    if token is None:
        abort(404)
    flash(f"Revoked token {token.prefix}… {token.name}".rstrip() + ".")
    return redirect(url_for("account.my_tokens"))
