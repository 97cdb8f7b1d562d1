"""Login and logout pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, make_response, redirect, render_template, request,
                   session, url_for)
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.people.forms import LoginForm
from webapp.people.models import User
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
