"""People who use Sentimon and their API tokens."""
from __future__ import annotations

import hashlib
import secrets

from flask import current_app, has_app_context
from flask_login import UserMixin
from werkzeug.security import check_password_hash, generate_password_hash

from webapp.core.extensions import db
from webapp.core.types import UTCDateTime, utcnow

ROLES = ("viewer", "editor", "admin")
TOKEN_PREFIX = "stm_"


def _hash_options() -> dict:
    """Werkzeug's default (scrypt, N=2**15) unless the app sets PASSWORD_HASH_METHOD: the test
    configuration asks for a cheap scrypt (thousands of users are made there); production never does."""
    method = has_app_context() and current_app.config.get("PASSWORD_HASH_METHOD")
    return {"method": method} if method else {}


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id = db.Column(db.Integer, primary_key=True)
    email = db.Column(db.String(254), nullable=False, unique=True)
    password_hash = db.Column(db.String(255), nullable=False)
    role = db.Column(db.String(16), nullable=False, default="editor")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    # A deactivated user can neither sign in nor use API tokens (kept for history, not deleted).
    active = db.Column(db.Boolean, nullable=False, default=True, server_default=db.true())
    # Part of the id in every session and remember-me cookie (get_id): signing out or a new
    # password counts it up, so every cookie issued before stops working, copies included.
    session_version = db.Column(db.Integer, nullable=False, default=0, server_default="0")

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version or 0}"

    def end_sessions(self) -> None:
        """Every session and remember-me cookie of this user stops working (the caller commits)."""
        self.session_version = (self.session_version or 0) + 1

    @property
    def is_active(self) -> bool:  # Flask-Login refuses to log in an inactive user
        return bool(self.active) if self.active is not None else True

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password, **_hash_options())  # scrypt in Werkzeug 3
        if self.id is not None:
            self.end_sessions()  # a new password signs the old sessions out

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can(self, role: str) -> bool:
        """True when this user's role is at least `role`."""
        return ROLES.index(self.role) >= ROLES.index(role)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ApiToken(db.Model):
    """An API token; only its SHA-256 is stored, the token itself is shown once."""

    __tablename__ = "api_tokens"

    id = db.Column(db.Integer, primary_key=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False)
    token_hash = db.Column(db.String(64), nullable=False, unique=True)
    prefix = db.Column(db.String(12), nullable=False)
    name = db.Column(db.String(100), nullable=False, default="")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)
    last_used_at = db.Column(UTCDateTime())
    revoked_at = db.Column(UTCDateTime())

    user = db.relationship(User, backref=db.backref("tokens", passive_deletes=True))

    @staticmethod
    def new_secret() -> str:
        return TOKEN_PREFIX + secrets.token_urlsafe(32)


class LoginThrottle(db.Model):
    """Failed sign-ins per key ("account:<hash>" or "ip:<address>") since `started` (Unix seconds).

    The SQL store of services/login_throttle, used when no Redis is configured: one row per key,
    counted up by an atomic upsert, so every web process sees the same count.
    """

    __tablename__ = "login_throttle"

    key = db.Column(db.String(128), primary_key=True)
    started = db.Column(db.Float, nullable=False)
    failures = db.Column(db.Integer, nullable=False, default=0)


TEAM_ROLES = ("viewer", "editor", "owner")
DEFAULT_TEAM = "Default"


class Team(db.Model):
    """A group of people who share monitors and notifiers; every monitor and notifier has one."""

    __tablename__ = "teams"

    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(120), nullable=False, unique=True)
    time_zone = db.Column(db.String(64), nullable=False, default="UTC", server_default="UTC")
    created_at = db.Column(UTCDateTime(), nullable=False, default=utcnow)


class Membership(db.Model):
    """A user's place in a team, with the team role (TEAM_ROLES) that decides what they may change."""

    __tablename__ = "team_members"
    __table_args__ = (db.UniqueConstraint("team_id", "user_id", name="uq_team_members_team_user"),)

    id = db.Column(db.Integer, primary_key=True)
    team_id = db.Column(db.Integer, db.ForeignKey("teams.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    user_id = db.Column(db.Integer, db.ForeignKey("users.id", ondelete="CASCADE"), nullable=False,
                        index=True)
    role = db.Column(db.String(16), nullable=False, default="editor")

    team = db.relationship(Team)
    user = db.relationship(User)


def default_team_id(context) -> int:
    """Column default of `team_id` on monitors and notifiers created without a team: the
    `Default` team (created by migration 0011; made here if someone deleted it). The services
    always pass a team; this keeps low-level code and old scripts working."""
    conn = context.connection
    teams = Team.__table__
    found = conn.execute(db.select(teams.c.id).where(teams.c.name == DEFAULT_TEAM)).scalar()
    if found is None:
        found = conn.execute(teams.insert().values(name=DEFAULT_TEAM, time_zone="UTC",
                                                   created_at=utcnow())).inserted_primary_key[0]
    return found
