"""The CLI as in CONTRACT.md: create-user, create-token, import, seed-demo."""
from __future__ import annotations

import json

from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.monitors.models import Monitor
from webapp.people.models import User

from tests.helpers import new_monitor


def test_create_user_and_token(app, runner, client):
    result = runner.invoke(args=["create-user", "Ops@Example.com", "--admin", "--password", "long enough"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.execute(select(User)).scalar_one()
        assert (user.email, user.role) == ("ops@example.com", "admin")
    again = runner.invoke(args=["create-user", "ops@example.com", "--password", "long enough"])
    assert again.exit_code != 0 and "exists" in again.output
    short = runner.invoke(args=["create-user", "x@example.com", "--password", "short"])
    assert short.exit_code != 0
    result = runner.invoke(args=["create-token", "ops@example.com"])
    assert result.exit_code == 0
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("stm_")
    assert client.get("/api/v1/monitors", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert runner.invoke(args=["create-token", "nobody@example.com"]).exit_code != 0


def test_create_user_prompts_for_password(app, runner):
    result = runner.invoke(args=["create-user", "p@example.com"], input="a long password\na long password\n")
    assert result.exit_code == 0, result.output


def test_import_csv_and_jsonl_with_bad_rows(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    csv_file = tmp_path / "m.csv"
    csv_file.write_text("id,text,author,created_at\n1,I love it,ann,2026-01-01T10:00:00Z\n"
                        "2,,bob,2026-01-01T11:00:00Z\n3,\"Terrible, awful\",cy,2026-01-01T12:00:00Z\n")
    result = runner.invoke(args=["import", str(csv_file), "--monitor", str(monitor_id)])
    assert result.exit_code == 0, result.output
    assert "published 2 of 3 rows" in result.output and "1 bad rows" in result.output
    jsonl = tmp_path / "m.jsonl"
    jsonl.write_text("\n".join([json.dumps({"text": "Great stuff"}), "{not json",
                                json.dumps({"external_id": "j2", "text": "meh", "published_at": "2026-01-02"})]))
    result = runner.invoke(args=["import", str(jsonl), "--monitor", str(monitor_id)])
    assert "published 2 of 3 rows" in result.output
    drain()
    # Importing both files again adds nothing (ids, or a hash of the row when there is none).
    runner.invoke(args=["import", str(csv_file), "--monitor", str(monitor_id)])
    runner.invoke(args=["import", str(jsonl), "--monitor", str(monitor_id)])
    drain()
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(Mention)).scalar() == 4


def test_import_errors(app, runner, tmp_path):
    monitor_id, _ = new_monitor(app)
    f = tmp_path / "data.xlsx"
    f.write_text("x")
    assert "cannot tell the format" in runner.invoke(args=["import", str(f), "--monitor", str(monitor_id)]).output
    csv_file = tmp_path / "ok.csv"
    csv_file.write_text("text\nhi\n")
    assert "no monitor" in runner.invoke(args=["import", str(csv_file), "--monitor", "999"]).output


def test_seed_demo_only_once(app, runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(User)).scalar() == 1
        [monitor] = db.session.execute(select(Monitor)).scalars().all()
        assert [s.kind for s in monitor.fetched_sources] == ["demo"]
