"""Secrets at rest: webhook secrets, notifier URLs and source credentials are sealed in SQL,
revealed only where used (the adapter's request, the webhook signature, the delivery's POST),
never returned (a chat URL is masked), never logged."""
from __future__ import annotations

import base64
import json
import logging
from datetime import datetime, timedelta, timezone

import pytest
from cryptography.fernet import Fernet
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text

from tests.fake_social import NOW, FakeX, running, x_post
from webapp import create_app
from webapp.core import crypto, runtime
from webapp.core.config import ConfigError
from webapp.core.extensions import db
from webapp.alerting.models import Notifier
from webapp.monitors.models import Source
from webapp.monitors.services import fetching
from webapp.alerting.notifiers import Context, delivery
from webapp.monitors.sources import available_kinds, get_adapter

from tests.alert_fixtures import webhook_server  # noqa: F401  (fixture)
from tests.helpers import app_config, migrated_app

pytestmark = pytest.mark.both_databases

X_TOKEN = "x-bearer-" + "S3CRETx" * 4
WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"topsecret-signing-key-0123456789").decode()


def raw(app, sql: str) -> str:
    """Every value of a raw SQL read, as one string (what a database dump would show)."""
    with app.app_context():
        rows = db.session.execute(text(sql)).all()
        db.session.remove()
    return repr(rows)


# -- the sealing itself ----------------------------------------------------------------------

def test_seal_and_reveal_round_trip_with_rotation():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    ring_old = crypto.keyring(old, "unused")
    sealed = crypto.seal("hunter2", ring_old)
    sealed_json = crypto.seal({"Authorization": "Bearer abc"}, ring_old)
    assert sealed.startswith(crypto.PREFIX) and "hunter2" not in sealed
    assert sealed_json.startswith(crypto.JSON_PREFIX) and "abc" not in sealed_json
    assert crypto.seal(sealed, ring_old) == sealed             # never sealed twice
    assert crypto.reveal("plain", ring_old) == "plain"          # plaintext passes through
    both = crypto.keyring(f"{new},{old}", "unused")             # a new key in front
    assert crypto.reveal(sealed, both) == "hunter2"
    assert crypto.reveal(sealed_json, both) == {"Authorization": "Bearer abc"}
    rotated = crypto.rotate(sealed, both)
    assert crypto.reveal(rotated, crypto.keyring(new, "unused")) == "hunter2"
    with pytest.raises(crypto.SecretUnreadable):
        crypto.reveal(sealed, crypto.keyring(new, "unused"))


def test_without_encryption_key_the_key_is_derived_from_secret_key():
    sealed = crypto.seal("hunter2", crypto.keyring("", "secret-one"))
    assert crypto.reveal(sealed, crypto.keyring("", "secret-one")) == "hunter2"
    with pytest.raises(crypto.SecretUnreadable):
        crypto.reveal(sealed, crypto.keyring("", "secret-two"))


def test_a_malformed_encryption_key_fails_at_start(tmp_path, monkeypatch):
    monkeypatch.setenv("ENCRYPTION_KEY", "not-a-fernet-key")
    with pytest.raises(ConfigError, match="ENCRYPTION_KEY"):
        create_app(app_config(tmp_path))


def test_every_secret_adapter_field_is_sealed_by_the_model():
    secret_fields = {f.name for kind in available_kinds() for f in get_adapter(kind).fields if f.secret}
    assert secret_fields and secret_fields <= crypto.CREDENTIAL_KEYS, secret_fields - crypto.CREDENTIAL_KEYS


# -- source credentials -----------------------------------------------------------------------

def test_source_credentials_are_sealed_never_shown_and_never_logged(app, client, auth, logged_in, caplog):
    caplog.set_level(logging.DEBUG)
    with running(FakeX(token=X_TOKEN)) as xapi:
        xapi.posts = [x_post(10, "acme support is terrible", NOW - timedelta(minutes=1))]
        answer = client.post("/api/v1/monitors", headers=auth, json={
            "name": "Acme", "query": "acme", "sources": [
                {"kind": "x", "bearer_token": X_TOKEN, "max_posts_per_day": 50, "base_url": xapi.base_url},
                {"kind": "json", "url": xapi.base_url + "/feed.json", "items": "items",
                 "fields": {"id": "id", "text": "text"}, "headers": {"Authorization": "Bearer JSONSECRET"}}]})
        assert answer.status_code == 201, answer.get_json()
        monitor_id = answer.get_json()["id"]
        # Not in any answer or page after creation.
        for body in (answer.get_data(as_text=True),
                     client.get(f"/api/v1/monitors/{monitor_id}", headers=auth).get_data(as_text=True),
                     client.get("/api/v1/monitors", headers=auth).get_data(as_text=True),
                     logged_in.get(f"/monitors/{monitor_id}").get_data(as_text=True),
                     logged_in.get(f"/monitors/{monitor_id}/edit").get_data(as_text=True)):
            assert X_TOKEN not in body and "JSONSECRET" not in body
        # Not in the database either: a raw read shows only sealed values.
        dump = raw(app, "SELECT settings FROM sources")
        assert X_TOKEN not in dump and "JSONSECRET" not in dump and crypto.PREFIX in dump
        with app.app_context():
            source = db.session.execute(select(Source).where(Source.kind == "x")).scalar_one()
            assert crypto.reveal(source.settings["bearer_token"]) == X_TOKEN
            source_id = source.id
            # The fetch reveals it for the request only: the fake X checks the bearer token.
            report = fetching.run_fetch(db.session, runtime.bus(), source_id, 1, runtime.egress_policy(), NOW)
            assert report.status == "ok", report.error
            assert xapi.requests[-1].headers["authorization"] == f"Bearer {X_TOKEN}"
            # A refused token goes through the error path (logged, recorded on the source).
            xapi.token = "another-token"
            report = fetching.run_fetch(db.session, runtime.bus(), source_id, 2, runtime.egress_policy(),
                                        NOW + timedelta(minutes=10))
            assert report.status != "ok"
            recorded = raw(app, "SELECT last_error FROM sources") + raw(app, "SELECT error FROM source_fetches")
            db.session.remove()
    assert X_TOKEN not in recorded
    assert caplog.records and X_TOKEN not in caplog.text and "JSONSECRET" not in caplog.text


# -- webhook secrets --------------------------------------------------------------------------

def test_webhook_secret_is_sealed_revealed_to_sign_and_never_logged(app, client, auth, logged_in,
                                                                    webhook_server, caplog):
    caplog.set_level(logging.DEBUG)
    created = client.post("/api/v1/notifiers", headers=auth,
                          json={"kind": "webhook", "url": webhook_server.url, "secret": WEBHOOK_SECRET})
    assert created.status_code == 201 and "secret" not in created.get_json()
    generated = client.post("/api/v1/notifiers", headers=auth, json={"kind": "webhook", "url": webhook_server.url})
    shown_once = generated.get_json()["secret"]                 # a generated one is shown once
    for body in (client.get("/api/v1/notifiers", headers=auth).get_data(as_text=True),
                 logged_in.get("/alerts").get_data(as_text=True)):
        assert WEBHOOK_SECRET not in body and shown_once not in body
    dump = raw(app, "SELECT secret FROM notifiers")
    assert WEBHOOK_SECRET not in dump and shown_once not in dump and dump.count(crypto.PREFIX) == 2

    standardwebhooks = pytest.importorskip("standardwebhooks")
    for notifier_id, secret in ((created.get_json()["id"], WEBHOOK_SECRET),
                                (generated.get_json()["id"], shown_once)):
        now = datetime.now(timezone.utc)
        with app.app_context():
            ctx = Context.from_config(app.config, runtime.egress_policy(app))
            queued = delivery.create_test(db.session, db.session.get(Notifier, notifier_id), ctx, now).id
            assert delivery.attempt(db.session, queued, ctx, now, rand=lambda: 0.5).outcome == "sent"
            db.session.remove()
        request = webhook_server.requests[-1]
        standardwebhooks.Webhook(secret).verify(request.body, request.headers)   # signed with the plaintext
    assert caplog.records and WEBHOOK_SECRET not in caplog.text and shown_once not in caplog.text
    assert WEBHOOK_SECRET[6:] not in caplog.text


# -- notifier URLs ----------------------------------------------------------------------------

def test_notifier_urls_are_sealed_shown_as_before_and_opened_to_send(app, client, auth, logged_in,
                                                                    webhook_server):
    """A chat webhook URL is its credential and a webhook URL may carry a token: both are stored
    sealed (migration 0029); the API shows them as before (a webhook's whole, a chat URL masked)
    and the delivery posts to the plain URL."""
    hook = webhook_server.url.rsplit("/", 1)[0]
    made = {kind: client.post("/api/v1/notifiers", headers=auth, json={"kind": kind, "url": url})
            for kind, url in (("webhook", f"{hook}/hook?token=URLTOKEN123"),
                              ("slack", f"{hook}/services/T0001/B0001/CHATTOKEN456"))}
    assert {kind: r.status_code for kind, r in made.items()} == {"webhook": 201, "slack": 201}, \
        {kind: r.get_json() for kind, r in made.items()}
    dump = raw(app, "SELECT settings FROM notifiers")
    assert "URLTOKEN123" not in dump and "CHATTOKEN456" not in dump and dump.count(crypto.PREFIX) == 2
    listed = {n["kind"]: n for n in client.get("/api/v1/notifiers", headers=auth).get_json()}
    assert listed["webhook"]["url"] == f"{hook}/hook?token=URLTOKEN123"
    assert "CHATTOKEN456" not in listed["slack"]["url"] and listed["slack"]["url"].startswith(hook)
    page = logged_in.get("/alerts").get_data(as_text=True)
    assert "CHATTOKEN456" not in page and crypto.PREFIX not in page

    now = datetime.now(timezone.utc)
    for kind, path in (("webhook", "/hook?token=URLTOKEN123"), ("slack", "/services/T0001/B0001/CHATTOKEN456")):
        with app.app_context():
            ctx = Context.from_config(app.config, runtime.egress_policy(app))
            notifier = db.session.get(Notifier, made[kind].get_json()["id"])
            queued = delivery.create_test(db.session, notifier, ctx, now).id
            assert delivery.attempt(db.session, queued, ctx, now, rand=lambda: 0.5).outcome == "sent"
            db.session.remove()
        assert webhook_server.requests[-1].path == path


# -- the migration ----------------------------------------------------------------------------

def unmigrated_app(tmp_path, db_kind: str, request):
    """An app on an empty database of `db_kind`, for a test to migrate step by step."""
    config = app_config(tmp_path)
    if db_kind == "postgresql":
        config["DATABASE_URL"] = request.getfixturevalue("pg_url")
    return create_app(config)


@pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)
def test_migration_0007_seals_existing_plaintext_and_downgrade_opens_it(tmp_path, db_kind, request):
    app = unmigrated_app(tmp_path, db_kind, request)
    with app.app_context():
        upgrade(revision="0006")
        db.session.execute(text("INSERT INTO monitors (id, name, query, created_at, scorer) "
                                "VALUES (1, 'm', '', '2026-01-01 00:00:00', 'vader')"))
        db.session.execute(text("INSERT INTO sources (id, monitor_id, kind, settings, every, enabled, cursor, "
                                "created_at, consecutive_failures) VALUES (1, 1, 'github', :s, 300, true, '{}', "
                                "'2026-01-01 00:00:00', 0)"),
                           {"s": '{"token": "ghp_PLAINTEXT", "query": "repo:a/b"}'})
        db.session.execute(text("INSERT INTO notifiers (id, kind, name, settings, secret, enabled, created_at) "
                                "VALUES (1, 'webhook', 'w', '{}', :s, true, '2026-01-01 00:00:00')"),
                           {"s": WEBHOOK_SECRET})
        db.session.commit()
        upgrade(revision="0007")
        dump = raw(app, "SELECT settings FROM sources") + raw(app, "SELECT secret FROM notifiers")
        assert "ghp_PLAINTEXT" not in dump and WEBHOOK_SECRET not in dump and "repo:a/b" in dump
        # Both read with SQL: today's Source and Notifier models have columns that revision 0007 lacks.
        settings = db.session.execute(text("SELECT settings FROM sources WHERE id = 1")).scalar_one()
        settings = settings if isinstance(settings, dict) else json.loads(settings)
        assert crypto.reveal(settings["token"]) == "ghp_PLAINTEXT"
        sealed = db.session.execute(text("SELECT secret FROM notifiers WHERE id = 1")).scalar_one()
        assert crypto.reveal(sealed) == WEBHOOK_SECRET
        db.session.remove()
        downgrade(revision="0006")
        dump = raw(app, "SELECT settings FROM sources") + raw(app, "SELECT secret FROM notifiers")
        assert "ghp_PLAINTEXT" in dump and WEBHOOK_SECRET in dump and crypto.PREFIX not in dump
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize("db_kind", ["sqlite", "postgresql"], indirect=True)
def test_migration_0029_seals_notifier_urls_and_downgrade_opens_them(tmp_path, db_kind, request):
    app = unmigrated_app(tmp_path, db_kind, request)
    url = "https://hooks.slack.com/services/T0001/B0001/PLAINCHATTOKEN"
    with app.app_context():
        upgrade(revision="0028")
        for i, settings in enumerate(({"url": url}, {"to": ["a@example.com"]}), start=1):
            db.session.execute(text("INSERT INTO notifiers (id, kind, name, settings, enabled, created_at, team_id) "
                                    "VALUES (:i, :k, 'n', :s, true, '2026-01-01 00:00:00', 1)"),
                               {"i": i, "k": "slack" if "url" in settings else "email", "s": json.dumps(settings)})
        db.session.commit()
        upgrade(revision="0029")
        dump = raw(app, "SELECT settings FROM notifiers")
        assert "PLAINCHATTOKEN" not in dump and dump.count(crypto.PREFIX) == 1 and "a@example.com" in dump
        assert db.session.get(Notifier, 1).plain_settings == {"url": url}
        db.session.remove()
        downgrade(revision="0028")
        dump = raw(app, "SELECT settings FROM notifiers")
        assert url in dump and crypto.PREFIX not in dump and "a@example.com" in dump
        db.session.remove()
        db.engine.dispose()


def test_rotate_secrets_moves_every_stored_secret_to_the_new_first_key(tmp_path):
    from webapp.core.crypto import reveal
    from webapp.monitors.services.manage import create_monitor

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    config = {**app_config(tmp_path), "ENCRYPTION_KEY": old}
    with migrated_app(config) as app:
        with app.app_context():
            notifier = Notifier(kind="webhook", name="w", settings={"url": "https://example.com/h"},
                                secret="whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ=")
            db.session.add(notifier)
            monitor = create_monitor(db.session, "m", "", [])
            db.session.add(Source(monitor_id=monitor.id, kind="github", every=300,
                                  settings={"token": "ghp_ROTATE", "query": "repo:a/b"}))
            db.session.commit()
        app.config["ENCRYPTION_KEY"] = f"{new},{old}"
        done = app.test_cli_runner().invoke(args=["rotate-secrets"])
        assert done.exit_code == 0, done.output
        assert "1 notifiers and 1 sources" in done.output
        app.config["ENCRYPTION_KEY"] = new          # the old key is gone: everything still opens
        with app.app_context():
            db.session.expire_all()
            notifier = db.session.execute(db.select(Notifier)).scalar_one()
            assert reveal(notifier.secret) == "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQ="
            assert reveal(notifier.settings["url"]) == "https://example.com/h"
            source = db.session.execute(db.select(Source).where(Source.kind == "github")).scalar_one()
            assert reveal(source.settings["token"]) == "ghp_ROTATE" and source.settings["query"] == "repo:a/b"
        app.config["ENCRYPTION_KEY"] = Fernet.generate_key().decode()  # a key that opens nothing
        refused = app.test_cli_runner().invoke(args=["rotate-secrets"])
        assert refused.exit_code != 0 and "nothing was changed" in refused.output
