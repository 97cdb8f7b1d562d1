"""Migration 0011 moves an existing installation into the team `Default` and keeps every row."""
from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from tests.helpers import app_config
from webapp import create_app
from webapp.core.extensions import db


def _count(table: str) -> int:
    return db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


@pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)
def test_upgrade_moves_everything_into_default_and_downgrade_drops_teams(tmp_path, db_kind, request):
    config = app_config(tmp_path)
    if db_kind == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("pg_url")
    app = create_app(config)
    with app.app_context():
        upgrade(revision="0010")
        for i, role in enumerate(("admin", "editor", "viewer"), start=1):
            db.session.execute(text("INSERT INTO users (id, email, password_hash, role, created_at, active, "
                                    "session_version) VALUES (:i, :e, 'x', :r, '2026-01-01 00:00:00', true, 0)"),
                               {"i": i, "e": f"{role}@example.com", "r": role})
        db.session.execute(text("INSERT INTO monitors (id, name, query, created_at, scorer) "
                                "VALUES (1, 'm', '', '2026-01-01 00:00:00', 'vader')"))
        db.session.execute(text("INSERT INTO sources (id, monitor_id, kind, settings, every, enabled, cursor, "
                                "created_at, consecutive_failures) VALUES (1, 1, 'push', '{}', 300, true, '{}', "
                                "'2026-01-01 00:00:00', 0)"))
        db.session.execute(text("INSERT INTO notifiers (id, kind, name, settings, enabled, created_at) "
                                "VALUES (1, 'email', 'e', '{}', true, '2026-01-01 00:00:00')"))
        db.session.execute(text("INSERT INTO alert_rules (id, monitor_id, name, kind, \"window\", min_mentions, "
                                "for_seconds, cooldown_seconds, repeat_seconds, settings, enabled, created_at) "
                                "VALUES (1, 1, 'r', 'avg_sentiment', '1h', 0, 0, 0, 0, '{}', true, "
                                "'2026-01-01 00:00:00')"))
        db.session.commit()
        before = {t: _count(t) for t in ("monitors", "sources", "notifiers", "alert_rules", "users")}
        db.session.remove()

        upgrade(revision="0011")
        default = db.session.execute(text("SELECT id FROM teams WHERE name = 'Default'")).scalar_one()
        assert {t: _count(t) for t in before} == before   # the rebuild deleted nothing
        assert db.session.execute(text("SELECT team_id FROM monitors")).scalars().all() == [default]
        assert db.session.execute(text("SELECT team_id FROM notifiers")).scalars().all() == [default]
        roles = dict(db.session.execute(text("SELECT user_id, role FROM team_members WHERE team_id = :t"),
                                        {"t": default}).all())
        assert roles == {1: "owner", 2: "editor", 3: "viewer"}
        db.session.remove()

        downgrade(revision="0010")
        assert {t: _count(t) for t in before} == before
        db.session.remove()
        db.engine.dispose()
