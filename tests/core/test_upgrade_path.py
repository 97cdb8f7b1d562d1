"""The upgrade path: a database made at the oldest migration ('0001') with realistic data is upgraded
one revision at a time to every head, on SQLite and PostgreSQL, and keeps its counts, rollups and
secrets (sealed by 0007, readable with the app's keyring); downgrading to '0001' and upgrading
again keeps them too.

The data is written with plain SQL matching the tables of the revision at which it is inserted, as
an old installation would hold it; later revisions (teams, inbox, noise, ...) must carry it along.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade

from webapp import create_app
from webapp.core import crypto
from webapp.core.extensions import db

from tests.helpers import app_config

pytestmark = pytest.mark.both_databases

START = datetime(2026, 11, 1, 6, 0, 0)
# Source settings as version 0001 stored them: credentials in plain text (0007 seals them).
SOURCES = [  # (id, monitor_id, kind, settings)
    (1, 1, "demo", {}),
    (2, 1, "rss", {"urls": ["https://example.com/feed.xml"]}),
    (3, 2, "mastodon", {"instance": "https://social.example", "token": "mastodon-token-ü-123"}),
    (4, 2, "http", {"url": "https://api.example/items", "headers": {"Authorization": "Bearer h-456"}}),
    (5, 3, "reddit", {"subreddit": "rockets", "client_secret": "r-789", "password": "pw: ' \" %"}),
]
WEBHOOK_SECRET = "whsec_" + "s3cr3t" * 10
BUCKETS = {"15m": timedelta(minutes=15), "1h": timedelta(hours=1), "1d": timedelta(days=1)}


@pytest.fixture(params=["sqlite", "postgresql"])
def old_app(request, tmp_path):
    """An app whose database is EMPTY (the test migrates it), on SQLite or on PostgreSQL."""
    config = app_config(tmp_path)
    if request.param == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("pg_url")
    app = create_app(config)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def label(compound: float) -> str:
    return "pos" if compound >= 0.05 else "neg" if compound <= -0.05 else "neu"


def bucket_start(moment: datetime, size: timedelta) -> datetime:
    epoch = datetime(1970, 1, 1)
    return epoch + (moment - epoch) // size * size


def mentions_at_0001() -> list[dict]:
    rows = []
    for i in range(240):
        source_id, monitor_id, _kind, _settings = SOURCES[i % len(SOURCES)]
        compound = round(((i * 37) % 200 - 100) / 100, 4)
        pos, neg = max(compound, 0.0), max(-compound, 0.0)
        rows.append({"id": i + 1, "monitor_id": monitor_id, "source_id": source_id, "external_id": f"ext-{i}",
                     "text": f"Mention {i}: rockets are {'great' if compound > 0 else 'late'} 🚀",
                     "author": f"author{i % 7}", "url": f"https://example.com/{i}",
                     "published_at": START + timedelta(minutes=17 * i), "ingested_at": START + timedelta(days=20),
                     "compound": compound, "pos": pos, "neu": round(1 - pos - neg, 4), "neg": neg,
                     "label": label(compound)})
    return rows


def rollups_of(mentions: list[dict]) -> list[dict]:
    """The rollup rows the pipeline keeps for these mentions (per monitor, source, bucket, start)."""
    table: dict[tuple, dict] = {}
    for m in mentions:
        for bucket, size in BUCKETS.items():
            key = (m["monitor_id"], m["source_id"], bucket, bucket_start(m["published_at"], size))
            row = table.setdefault(key, {"monitor_id": key[0], "source_id": key[1], "bucket": bucket,
                                         "start": key[3], "count": 0, "sum_compound": 0.0,
                                         "positive": 0, "neutral": 0, "negative": 0})
            row["count"] += 1
            row["sum_compound"] += m["compound"]
            row[{"pos": "positive", "neu": "neutral", "neg": "negative"}[m["label"]]] += 1
    return list(table.values())


def insert_at_0001(conn) -> None:
    conn.execute(sa.text("INSERT INTO users (id, email, password_hash, role, created_at) VALUES "
                         "(1, 'admin@example.com', 'pbkdf2:sha256:1$x$y', 'admin', :t), "
                         "(2, 'editor@example.com', 'pbkdf2:sha256:1$x$z', 'editor', :t)"), {"t": START})
    conn.execute(sa.text("INSERT INTO monitors (id, name, query, created_at, created_by_id) VALUES "
                         "(:id, :name, :query, :t, :by)"),
                 [{"id": 1, "name": "Acme Rocket", "query": "acme AND rocket", "t": START, "by": 1},
                  {"id": 2, "name": "Competitor", "query": '"orbital" OR launch', "t": START, "by": 2},
                  {"id": 3, "name": "Orphan (creator gone)", "query": "", "t": START, "by": None}])
    conn.execute(sa.text("INSERT INTO sources (id, monitor_id, kind, settings, every, enabled, cursor, created_at, "
                         "last_status, last_items) VALUES (:id, :m, :kind, :settings, 300, :on, :cursor, :t, 'ok', 3)"),
                 [{"id": s, "m": m, "kind": k, "settings": json.dumps(v), "on": s != 4,
                   "cursor": json.dumps({"since": "2026-11-01T00:00:00Z"}), "t": START} for s, m, k, v in SOURCES])
    conn.execute(sa.text("INSERT INTO mentions (id, monitor_id, source_id, external_id, text, author, url, "
                         "published_at, ingested_at, compound, pos, neu, neg, label) VALUES (:id, :monitor_id, "
                         ":source_id, :external_id, :text, :author, :url, :published_at, :ingested_at, :compound, "
                         ":pos, :neu, :neg, :label)"), mentions_at_0001())
    conn.execute(sa.text("INSERT INTO rollups (monitor_id, source_id, bucket, start, count, sum_compound, positive, "
                         "neutral, negative) VALUES (:monitor_id, :source_id, :bucket, :start, :count, "
                         ":sum_compound, :positive, :neutral, :negative)"), rollups_of(mentions_at_0001()))
    if conn.dialect.name == "postgresql":  # explicit ids: move the sequences on as the app would have
        for table in ("users", "monitors", "sources", "mentions"):
            conn.execute(sa.text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))


def settings_of(conn) -> dict[int, dict]:
    rows = conn.execute(sa.text("SELECT id, settings FROM sources ORDER BY id")).all()
    return {r.id: json.loads(r.settings) if isinstance(r.settings, str) else r.settings for r in rows}


def snapshot(conn) -> dict:
    """What must survive every revision: counts, every rollup, the mentions' identity and scores."""
    count = lambda table: conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()  # noqa: E731
    return {
        "counts": {t: count(t) for t in ("users", "monitors", "sources", "mentions", "rollups")},
        "monitors": [tuple(r) for r in conn.execute(sa.text("SELECT id, name, query FROM monitors ORDER BY id"))],
        "rollups": [(r.monitor_id, r.source_id, r.bucket, str(r.start)[:19], r.count, round(r.sum_compound, 6),
                     r.positive, r.neutral, r.negative) for r in conn.execute(sa.text(
                         "SELECT * FROM rollups ORDER BY monitor_id, source_id, bucket, start"))],
        "mentions": [tuple(r) for r in conn.execute(sa.text(
            "SELECT monitor_id, source_id, external_id, text, compound, label FROM mentions ORDER BY id"))],
    }


def revisions_in_order(app) -> list[str]:
    """Every revision from the oldest to the heads (parents before children)."""
    script = ScriptDirectory.from_config(app.extensions["migrate"].migrate.get_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions("base", "heads")))]


def assert_secrets_readable(conn, plain: dict[int, dict]) -> None:
    stored = settings_of(conn)
    ring = crypto.current_keyring()
    for source_id, settings in plain.items():
        for key, value in settings.items():
            if key in crypto.CREDENTIAL_KEYS:
                assert crypto.is_sealed(stored[source_id][key]), (source_id, key)
                assert json.dumps(value) not in json.dumps(stored[source_id])
            else:
                assert stored[source_id][key] == value
        assert crypto.reveal_settings(stored[source_id], ring) == settings


def test_oldest_database_upgrades_step_by_step_and_round_trips(old_app):
    app = old_app
    with app.app_context():
        revisions = revisions_in_order(app)
        assert revisions[0] == "0001" and "0007" in revisions
        upgrade(revision="0001")
        with db.engine.begin() as conn:
            insert_at_0001(conn)
        with db.engine.connect() as conn:
            before = snapshot(conn)
        assert before["counts"] == {"users": 2, "monitors": 3, "sources": 5, "mentions": 240,
                                    "rollups": len(rollups_of(mentions_at_0001()))}
        plain = {s: v for s, _m, _k, v in SOURCES}

        for revision in revisions[1:]:
            upgrade(revision=revision)
            with db.engine.begin() as conn:
                if revision == "0006":  # notifiers exist since 0002; 0007 seals their secrets
                    conn.execute(sa.text(
                        "INSERT INTO notifiers (id, kind, name, settings, secret, enabled, created_by_id, created_at) "
                        "VALUES (1, 'webhook', 'Ops hook', :settings, :secret, :on, 1, :t)"),
                        {"settings": json.dumps({"url": "https://hooks.example/x"}), "secret": WEBHOOK_SECRET,
                         "on": True, "t": START})
                    if conn.dialect.name == "postgresql":
                        conn.execute(sa.text("SELECT setval(pg_get_serial_sequence('notifiers', 'id'), 1)"))
                if revision == "0007":
                    assert_secrets_readable(conn, plain)
                assert snapshot(conn) == before, f"data changed by migration {revision}"

        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert snapshot(conn) == before
            assert_secrets_readable(conn, plain)
            secret = conn.execute(sa.text("SELECT secret FROM notifiers WHERE id = 1")).scalar_one()
            assert crypto.is_sealed(secret) and crypto.reveal(secret) == WEBHOOK_SECRET
        check_models_read_it(before)

        # Down to the oldest revision: the same rows, credentials in plain text again; then up again.
        downgrade(revision="0001")
        with db.engine.connect() as conn:
            assert snapshot(conn) == before
            assert settings_of(conn) == plain
        upgrade(revision="heads")
        with db.engine.connect() as conn:
            assert snapshot(conn) == before
            assert_secrets_readable(conn, plain)
        check_models_read_it(before)
        db.session.remove()


def check_models_read_it(before: dict) -> None:
    """The app's models (the code of today) read the upgraded rows: totals per monitor match."""
    from webapp.ingest.models import Rollup
    from webapp.monitors.models import Monitor, Source

    assert db.session.execute(sa.select(sa.func.count()).select_from(Monitor)).scalar_one() == 3
    sources = {s.id: s for s in db.session.execute(sa.select(Source)).scalars()}
    assert crypto.reveal_settings(sources[3].settings)["token"] == SOURCES[2][3]["token"]
    daily = db.session.execute(sa.select(Rollup.monitor_id, sa.func.sum(Rollup.count))
                               .where(Rollup.bucket == "1d").group_by(Rollup.monitor_id)).all()
    expected: dict[int, int] = {}
    for row in before["rollups"]:
        if row[2] == "1d":
            expected[row[0]] = expected.get(row[0], 0) + row[4]
    assert dict(daily) == expected and sum(expected.values()) == 240
    db.session.remove()
