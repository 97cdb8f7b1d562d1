"""One password rule for `flask create-user`, the admin's user form and /account, and changing
one's password on /account: the current one is required, the other sessions end, this one stays."""
from __future__ import annotations

import pytest

from webapp.core.extensions import db
from webapp.people.models import User
from webapp.people.services.passwords import MAX_PASSWORD, MIN_PASSWORD, password_problem

from tests.helpers import make_user

SHORT = "x" * (MIN_PASSWORD - 1)
JUST = "y" * MIN_PASSWORD


@pytest.mark.parametrize("password, ok", [
    (SHORT, False), (JUST, True), ("a" * MAX_PASSWORD, True), ("a" * (MAX_PASSWORD + 1), False),
    ("ten chars\x00!", False), (None, False), (12345678901, False),
])
def test_the_rule(password, ok):
    problem = password_problem(password)
    assert (problem is None) is ok
    assert problem is None or problem.endswith(".")


def _sign_in(client, email, password):
    return client.post("/login", data={"email": email, "password": password})


def test_cli_admin_form_and_account_page_agree(app, runner):
    short = runner.invoke(args=["create-user", "cli@example.com", "--password", SHORT])
    assert short.exit_code != 0 and f"Use at least {MIN_PASSWORD} characters." in short.output
    assert runner.invoke(args=["create-user", "cli@example.com", "--password", JUST]).exit_code == 0

    make_user(app, email="admin@example.com", role="admin", password="admin password")
    admin = app.test_client()
    _sign_in(admin, "admin@example.com", "admin password")
    refused = admin.post("/admin/users", data={"email": "new@example.com", "role": "viewer", "password": SHORT})
    assert refused.status_code == 400 and f"Use at least {MIN_PASSWORD} characters." in refused.get_data(as_text=True)
    assert admin.post("/admin/users", data={"email": "new@example.com", "role": "viewer",
                                            "password": JUST}).status_code == 302

    mine = admin.post("/account/password", data={"current": "admin password", "new": SHORT, "again": SHORT})
    assert mine.status_code == 400 and f"Use at least {MIN_PASSWORD} characters." in mine.get_data(as_text=True)
    page = admin.get("/account").get_data(as_text=True)
    assert f"at least {MIN_PASSWORD} characters" in page


def test_changing_the_password_ends_the_other_sessions_and_keeps_this_one(app):
    make_user(app, email="me@example.com", role="viewer", password="old password")
    here, elsewhere = app.test_client(), app.test_client()
    for client in (here, elsewhere):
        assert _sign_in(client, "me@example.com", "old password").status_code == 302
    wrong = here.post("/account/password", data={"current": "not it at all", "new": "new password!",
                                                 "again": "new password!"})
    assert wrong.status_code == 400 and "not your current password" in wrong.get_data(as_text=True)
    differ = here.post("/account/password", data={"current": "old password", "new": "new password!",
                                                  "again": "new password?"})
    assert differ.status_code == 400 and "differ" in differ.get_data(as_text=True)
    assert elsewhere.get("/").status_code == 200   # refusals change nothing

    done = here.post("/account/password", data={"current": "old password", "new": "new password!",
                                                "again": "new password!"})
    assert done.status_code == 302
    assert "other sessions are signed out" in here.get("/account").get_data(as_text=True)
    assert here.get("/").status_code == 200            # this session stays
    assert elsewhere.get("/").status_code == 302       # the other one ends
    assert _sign_in(app.test_client(), "me@example.com", "old password").status_code == 400
    assert _sign_in(app.test_client(), "me@example.com", "new password!").status_code == 302


def test_hostile_password_forms_answer_400(app, logged_in):
    for data in ({}, {"current": "x" * 100_000}, {"current": "page password", "new": "\x00" * 20, "again": "\x00" * 20},
                 {"current": "page password", "new": "é" * 5000, "again": "é" * 5000}):
        answer = logged_in.post("/account/password", data=data)
        assert answer.status_code == 400, data
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "page@example.com")).scalar_one()
        assert user.check_password("page password")
        db.session.remove()
