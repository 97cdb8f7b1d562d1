"""The session cookie's user, read as a plain row and put into the session: the same loaded,
unchanged User that `session.get` gives (on both databases), which a view can change and commit."""
from __future__ import annotations

import pytest
from sqlalchemy import inspect

from tests.helpers import make_user
from webapp.core.extensions import db
from webapp.people.auth import load_user
from webapp.people.models import User

pytestmark = pytest.mark.both_databases

COLUMNS = ("id", "email", "password_hash", "role", "created_at", "active", "session_version")


def test_load_user_gives_the_loaded_user(app):
    user_id = make_user(app, email="loaded@example.com", role="viewer")
    with app.app_context():
        expected = {k: getattr(db.session.get(User, user_id), k) for k in COLUMNS}
        db.session.remove()
        user = load_user(f"{user_id}.0")
        state = inspect(user)
        assert state.persistent and not db.session.dirty and not state.modified
        assert {k: getattr(user, k) for k in COLUMNS} == expected
        assert user.created_at.tzinfo is not None and user.active is True
        assert load_user(f"{user_id}.0") is user          # loaded already: the same object
        assert db.session.get(User, user_id) is user
        user.role = "editor"
        db.session.commit()
        db.session.remove()
        assert db.session.get(User, user_id).role == "editor"
        assert load_user(f"{user_id}.1") is None           # an old session version
        assert load_user("999999.0") is None
        db.session.remove()


def test_load_user_refuses_a_deactivated_user(app):
    user_id = make_user(app, email="gone@example.com")
    with app.app_context():
        db.session.get(User, user_id).active = False
        db.session.commit()
        db.session.remove()
        assert load_user(f"{user_id}.0") is None
        db.session.remove()
