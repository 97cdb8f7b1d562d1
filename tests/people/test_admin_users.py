"""Admin pages for people: users, roles, deactivation (last-admin guard), API tokens shown once."""
from __future__ import annotations

import re

import pytest

from tests.helpers import make_user
from webapp.core.extensions import db
from webapp.people.models import ApiToken, User
from webapp.people.services import users as users_admin
from webapp.people.services.tokens import revoke_token


@pytest.fixture
def admin_client(app):
    make_user(app, email="root@example.com", role="admin", password="admin password")
    client = app.test_client()
    assert client.post("/login", data={"email": "root@example.com", "password": "admin password"}).status_code == 302
    return client


def user_id(app, email):
    with app.app_context():
        return db.session.execute(db.select(User.id).where(User.email == email)).scalar_one()


def login(app, email, password):
    client = app.test_client()
    return client, client.post("/login", data={"email": email, "password": password})


def test_admin_pages_are_for_admins_only(app, logged_in):
    for path in ("/admin", "/admin/users", "/admin/tokens", "/admin/pipeline", "/admin/deliveries"):
        assert logged_in.get(path).status_code == 403, path
    assert app.test_client().get("/admin/users").status_code == 302  # to the login page


def test_index_links_every_admin_page(admin_client):
    page = admin_client.get("/admin").get_data(as_text=True)
    for path in ("/admin/users", "/admin/tokens", "/admin/sources", "/admin/pipeline", "/admin/deliveries",
                 "/account/tokens"):
        assert f'href="{path}"' in page


def test_create_user_then_they_sign_in_with_their_role(app, admin_client):
    bad = admin_client.post("/admin/users", data={"email": "new@example.com", "role": "viewer", "password": "short"})
    assert bad.status_code == 400 and "at least 10" in bad.get_data(as_text=True)
    ok = admin_client.post("/admin/users", data={"email": "New@Example.com", "role": "viewer",
                                                 "password": "a long password"})
    assert ok.status_code == 302
    again = admin_client.post("/admin/users", data={"email": "new@example.com", "role": "editor",
                                                    "password": "a long password"})
    assert again.status_code == 400 and "exists" in again.get_data(as_text=True)
    client, response = login(app, "new@example.com", "a long password")
    assert response.status_code == 302
    assert client.get("/admin/users").status_code == 403


def test_role_change_and_deactivation_end_sessions_and_tokens(app, admin_client):
    make_user(app, email="ed@example.com", role="editor", password="editor password")
    uid = user_id(app, "ed@example.com")
    ed, _ = login(app, "ed@example.com", "editor password")
    with app.app_context():
        _, secret = users_admin.issue_token(db.session, db.session.get(User, uid), "script")
    bearer = {"Authorization": f"Bearer {secret}"}
    assert ed.get("/").status_code == 200
    assert app.test_client().get("/api/v1/monitors", headers=bearer).status_code == 200

    assert admin_client.post(f"/admin/users/{uid}/role", data={"role": "viewer"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, uid).role == "viewer"

    assert admin_client.post(f"/admin/users/{uid}/active", data={"active": "0"}).status_code == 302
    assert ed.get("/").status_code == 302            # the session no longer counts
    assert app.test_client().get("/api/v1/monitors", headers=bearer).status_code == 401
    _, response = login(app, "ed@example.com", "editor password")
    assert response.status_code == 400                        # cannot sign in again

    assert admin_client.post(f"/admin/users/{uid}/active", data={"active": "1"}).status_code == 302
    assert app.test_client().get("/api/v1/monitors", headers=bearer).status_code == 200


def test_the_last_active_admin_cannot_be_demoted_or_deactivated(app, admin_client):
    root = user_id(app, "root@example.com")
    demote = admin_client.post(f"/admin/users/{root}/role", data={"role": "editor"})
    assert demote.status_code == 400 and "last active admin" in demote.get_data(as_text=True)
    assert admin_client.post(f"/admin/users/{root}/active", data={"active": "0"}).status_code == 400
    make_user(app, email="second@example.com", role="admin", password="admin password 2")
    assert admin_client.post(f"/admin/users/{root}/role", data={"role": "editor"}).status_code == 302
    with app.app_context():
        assert db.session.get(User, root).role == "editor"


def test_removes_last_admin_decision():
    assert users_admin.removes_last_admin(True, 1, "editor", True)
    assert users_admin.removes_last_admin(True, 1, "admin", False)
    assert not users_admin.removes_last_admin(True, 2, "editor", True)
    assert not users_admin.removes_last_admin(True, 1, "admin", True)
    assert not users_admin.removes_last_admin(False, 1, "viewer", False)


def test_admin_creates_a_token_shown_once_stored_hashed_and_revokes_it(app, admin_client):
    make_user(app, email="bot@example.com", role="editor", password="bot password!")
    uid = user_id(app, "bot@example.com")
    page = admin_client.post(f"/admin/users/{uid}/tokens", data={"name": "import script"})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    secret = re.search(r'value="(stm_[^"]+)"', page.get_data(as_text=True)).group(1)
    with app.app_context():
        token = db.session.execute(db.select(ApiToken).where(ApiToken.user_id == uid)).scalar_one()
        assert token.token_hash != secret and secret not in (token.prefix, token.name)
        token_id = token.id
    assert secret not in admin_client.get(f"/admin/users/{uid}/tokens").get_data(as_text=True)
    bearer = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/api/v1/monitors", headers=bearer).status_code == 200
    listing = admin_client.get("/admin/tokens").get_data(as_text=True)
    assert "bot@example.com" in listing and "import script" in listing and secret[:8] in listing

    assert admin_client.post(f"/admin/tokens/{token_id}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/monitors", headers=bearer).status_code == 401
    assert "revoked" in admin_client.get(f"/admin/users/{uid}/tokens").get_data(as_text=True)


def test_people_manage_only_their_own_tokens(app, logged_in, admin_client):
    page = logged_in.post("/account/tokens", data={"name": "mine"})
    secret = re.search(r'value="(stm_[^"]+)"', page.get_data(as_text=True)).group(1)
    with app.app_context():
        mine = db.session.execute(db.select(ApiToken).where(ApiToken.name == "mine")).scalar_one().id
        root = db.session.execute(db.select(User).where(User.email == "root@example.com")).scalar_one()
        _, _ = users_admin.issue_token(db.session, root, "root's")
        theirs = db.session.execute(db.select(ApiToken).where(ApiToken.name == "root's")).scalar_one().id
    assert "root&#39;s" not in logged_in.get("/account/tokens").get_data(as_text=True)
    assert logged_in.post(f"/account/tokens/{theirs}/revoke").status_code == 404
    assert logged_in.post(f"/account/tokens/{mine}/revoke").status_code == 302
    assert app.test_client().get("/api/v1/monitors", headers={"Authorization": f"Bearer {secret}"}).status_code == 401


def test_revoke_token_is_idempotent(app):
    make_user(app, email="x@example.com")
    with app.app_context():
        token, _ = users_admin.issue_token(db.session, db.session.execute(
            db.select(User).where(User.email == "x@example.com")).scalar_one(), "")
        first = revoke_token(db.session, token.id).revoked_at
        assert revoke_token(db.session, token.id).revoked_at == first
        assert revoke_token(db.session, token.id, owner_id=token.user_id + 99) is None
        assert revoke_token(db.session, 12345) is None
