"""Session cookies (HttpOnly, SameSite=Lax, Secure over HTTPS), a new session at login, scrypt
password hashes, and API tokens that are hashed, scoped to their user and revocable."""
from __future__ import annotations

from flask_migrate import upgrade
from sqlalchemy import text

from webapp import create_app
from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.people.models import ApiToken, User, hash_token
from webapp.people.services import tokens

from tests.helpers import app_config, make_user


def set_cookies(response) -> dict[str, str]:
    return {h.split("=", 1)[0]: h for h in response.headers.getlist("Set-Cookie")}


def login(client, email, password, remember=False):
    data = {"email": email, "password": password, **({"remember": "y"} if remember else {})}
    return client.post("/login", data=data)


def test_cookies_are_httponly_lax_and_not_secure_over_http(app, client):
    make_user(app, email="a@example.com", password="a password")
    answer = login(client, "a@example.com", "a password", remember=True)
    cookies = set_cookies(answer)
    for name in ("session", "remember_token"):
        assert "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name], cookies[name]
        assert "Secure" not in cookies[name]


def test_cookies_are_secure_when_served_over_https(tmp_path, monkeypatch):
    monkeypatch.setenv("PUBLIC_URL", "https://sentimon.example.com")
    app = create_app(app_config(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["REMEMBER_COOKIE_SECURE"]
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    with app.app_context():
        upgrade(revision="heads")
    make_user(app, email="a@example.com", password="a password")
    answer = login(app.test_client(), "a@example.com", "a password", remember=True)
    cookies = set_cookies(answer)
    for name in ("session", "remember_token"):
        assert "; Secure" in cookies[name] and "HttpOnly" in cookies[name] and "SameSite=Lax" in cookies[name]
    monkeypatch.setenv("SESSION_COOKIE_SECURE", "0")            # an explicit setting wins
    assert not create_app(app_config(tmp_path)).config["SESSION_COOKIE_SECURE"]


def test_proxy_fix_trusts_forwarded_proto_only_when_configured(tmp_path, monkeypatch):
    monkeypatch.setenv("PROXY_FIX_HOPS", "1")
    app = create_app(app_config(tmp_path))
    seen = {}

    @app.get("/_probe")
    def _probe():
        from flask import request
        seen.update(addr=request.remote_addr, scheme=request.scheme)
        return ""

    app.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "203.0.113.9", "scheme": "https"}
    monkeypatch.setenv("PROXY_FIX_HOPS", "0")
    plain = create_app(app_config(tmp_path))
    plain.add_url_rule("/_probe", "_probe", _probe)
    plain.test_client().get("/_probe", headers={"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"})
    assert seen == {"addr": "127.0.0.1", "scheme": "http"}


def test_the_session_is_renewed_at_login(app, client):
    make_user(app, email="a@example.com", password="a password")
    with client.session_transaction() as session:
        session["planted"] = "by an attacker"                    # a fixated pre-login session
    before = client.get_cookie("session").value
    assert login(client, "a@example.com", "a password").status_code == 302
    after = client.get_cookie("session").value
    assert after != before
    with client.session_transaction() as session:
        assert "planted" not in session and session["_user_id"]


def test_passwords_are_salted_scrypt_hashes(app):
    make_user(app, email="a@example.com", password="same password")
    make_user(app, email="b@example.com", password="same password")
    with app.app_context():
        hashes = [h for (h,) in db.session.execute(text("SELECT password_hash FROM users ORDER BY id"))]
        user = db.session.execute(db.select(User).where(User.email == "a@example.com")).scalar_one()
        assert user.check_password("same password") and not user.check_password("Same password")
        db.session.remove()
    assert all(h.startswith("scrypt:") for h in hashes) and hashes[0] != hashes[1]
    assert not any("same password" in h for h in hashes)


# -- API tokens --------------------------------------------------------------------------------

def test_tokens_are_stored_hashed_and_act_only_for_their_user(app, client):
    alice = make_user(app, email="alice@example.com", role="viewer")
    bob = make_user(app, email="bob@example.com", role="editor")
    with app.app_context():
        alice_token = create_token(db.session.get(User, alice), "laptop")
        bob_row, bob_token = tokens.issue_token(db.session, db.session.get(User, bob), "ci")
        bob_id = bob_row.id
        dump = repr(db.session.execute(text("SELECT * FROM api_tokens")).all())
        db.session.remove()
    assert alice_token not in dump and bob_token not in dump and hash_token(alice_token) in dump
    as_alice = {"Authorization": f"Bearer {alice_token}"}
    mine = client.get("/api/v1/tokens", headers=as_alice).get_json()
    assert [t["name"] for t in mine] == ["laptop"] and "token_hash" not in mine[0]
    assert all(alice_token[:20] not in str(t) for t in mine)
    # Alice (a viewer) cannot revoke Bob's token, nor see it; the answer is the same as for none.
    assert client.delete(f"/api/v1/tokens/{bob_id}", headers=as_alice).status_code == 404
    assert client.delete("/api/v1/tokens/999999", headers=as_alice).status_code == 404
    assert client.delete(f"/api/v1/tokens/{10**30}", headers=as_alice).status_code == 404
    assert [t["id"] for t in client.get("/api/v1/tokens?all=1", headers=as_alice).get_json()] == [mine[0]["id"]]
    # The token acts with its user's role only.
    assert client.post("/api/v1/monitors", headers=as_alice, json={"name": "x", "query": "", "sources": []}).status_code == 403


def test_a_revoked_token_stops_working_at_once(app, client):
    alice = make_user(app, email="alice@example.com", role="editor")
    admin = make_user(app, email="root@example.com", role="admin")
    with app.app_context():
        first = create_token(db.session.get(User, alice), "one")
        second = create_token(db.session.get(User, alice), "two")
        root = create_token(db.session.get(User, admin), "root")
        ids = dict(db.session.execute(db.select(ApiToken.name, ApiToken.id)).all())
        db.session.remove()
    as_first = {"Authorization": f"Bearer {first}"}
    assert client.get("/api/v1/monitors", headers=as_first).status_code == 200
    revoked = client.delete(f"/api/v1/tokens/{ids['one']}", headers=as_first)   # revoking itself
    assert revoked.status_code == 200 and revoked.get_json()["revoked_at"]
    assert client.get("/api/v1/monitors", headers=as_first).status_code == 401
    # An admin revokes anyone's; twice is fine and keeps the first time.
    as_root = {"Authorization": f"Bearer {root}"}
    assert len(client.get("/api/v1/tokens?all=1", headers=as_root).get_json()) == 3
    once = client.delete(f"/api/v1/tokens/{ids['two']}", headers=as_root).get_json()["revoked_at"]
    again = client.delete(f"/api/v1/tokens/{ids['two']}", headers=as_root).get_json()["revoked_at"]
    assert once == again
    assert client.get("/api/v1/monitors", headers={"Authorization": f"Bearer {second}"}).status_code == 401
    # The service: None when the token is not the caller's to revoke.
    with app.app_context():
        assert tokens.revoke_token(db.session, ids["root"], db.session.get(User, alice)) is None
        assert tokens.revoke_token(db.session, ids["root"], owner_id=alice) is None
        assert tokens.revoke_token(db.session, ids["root"], owner_id=admin).revoked_at is not None
        db.session.remove()
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "delete" in spec["paths"]["/api/v1/tokens/{token_id}"] and "get" in spec["paths"]["/api/v1/tokens"]


def test_signing_out_ends_copies_of_the_session_cookie_and_a_new_password_ends_the_rest(app):
    make_user(app, email="copy@example.com", role="viewer", password="copy password")
    first, copy, other = app.test_client(), app.test_client(), app.test_client()
    for client in (first, other):
        assert client.post("/login", data={"email": "copy@example.com", "password": "copy password"}).status_code == 302
    copy.set_cookie("session", first.get_cookie("session").value)   # a stolen copy of the cookie
    assert copy.get("/").status_code == 200
    assert first.post("/logout").status_code == 302
    assert copy.get("/").status_code == 302 and other.get("/").status_code == 302   # all signed out

    assert other.post("/login", data={"email": "copy@example.com", "password": "copy password"}).status_code == 302
    assert other.get("/").status_code == 200
    with app.app_context():
        user = db.session.execute(db.select(User).where(User.email == "copy@example.com")).scalar_one()
        user.set_password("a new password")
        db.session.commit()
    assert other.get("/").status_code == 302


def test_without_the_test_setting_passwords_get_werkzeugs_full_scrypt(tmp_path):
    """PASSWORD_HASH_METHOD (the cheap scrypt of the test configuration) is never the default."""
    config = {k: v for k, v in app_config(tmp_path).items() if k != "PASSWORD_HASH_METHOD"}
    user = User(email="full@example.com")
    with create_app(config).app_context():
        user.set_password("a long password")
        assert user.password_hash.startswith("scrypt:32768:8:1$") and user.check_password("a long password")
    user.set_password("another password")  # outside any app: the default too
    assert user.password_hash.startswith("scrypt:32768:8:1$")
