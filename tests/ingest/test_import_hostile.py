"""`flask import` with broken files (issue 18): every row stored or reported with its line number
and reason, rows after a bad row stored, never a traceback, and "published N" is what `drain`
then stores."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from webapp.core.extensions import db
from webapp.ingest import importer
from webapp.ingest.bus.models import DeadLetter
from webapp.ingest.models import Mention
from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases


def _import(runner, path, monitor_id, *extra):
    result = runner.invoke(args=["import", str(path), "--monitor", str(monitor_id), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    assert "Traceback" not in result.output
    return result


def _stored(app) -> list[str]:
    with app.app_context():
        return sorted(db.session.execute(select(Mention.external_id)).scalars())


def _letters(app) -> int:
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(DeadLetter)).scalar()


def _good(n: int, start: int = 0) -> list[str]:
    return [f"g{i},good row {i},2026-05-01T10:00:00Z" for i in range(start, start + n)]


def test_an_oversized_csv_field_costs_one_row(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "big.csv"
    rows = ["id,text,published_at", *_good(1000), "big," + "x" * 140_000 + ",2026-05-01", *_good(599, 1000)]
    path.write_text("\n".join(rows) + "\n")
    result = _import(runner, path, monitor_id)
    assert result.exit_code == 0
    assert "published 1599 of 1600 rows" in result.output and "1 bad rows" in result.output
    assert "line 1002:" in result.output and "field larger than field limit" in result.output
    drain()
    assert len(_stored(app)) == 1599 and _letters(app) == 0


def test_a_jsonl_line_nested_100000_deep_costs_one_row(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "deep.jsonl"
    deep = '{"text": ' + "[" * 100_000 + "]" * 100_000 + "}"
    lines = [json.dumps({"id": f"j{i}", "text": f"fine {i}"}) for i in range(3)]
    path.write_text("\n".join([lines[0], deep, lines[1], lines[2]]) + "\n")
    result = _import(runner, path, monitor_id)
    assert "published 3 of 4 rows" in result.output and "line 2: the JSON nests deeper" in result.output
    drain()
    assert _stored(app) == ["j0", "j1", "j2"]


def test_a_stray_quote_costs_one_row_and_the_summary_is_true(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "quote.csv"
    path.write_text('id,text,published_at\n1,one,2026-05-01\n2,two,2026-05-01\n3,"broken quote,2026-05-01\n'
                    '4,four,2026-05-01\n5,"five, quoted",2026-05-01\n6,six,2026-05-01\n'
                    '7,"multi\nline text",2026-05-01\n')
    result = _import(runner, path, monitor_id)
    assert "published 6 of 7 rows" in result.output and "line 4: " in result.output
    drain()
    assert _stored(app) == ["1", "2", "4", "5", "6", "7"]
    with app.app_context():
        texts = set(db.session.execute(select(Mention.text)).scalars())
    assert {"five, quoted", "multi\nline text", "four"} <= texts


def test_a_latin1_file_is_refused_naming_encoding_then_imported_with_it(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "latin.csv"
    path.write_bytes("id,text\n1,café crème\n2,déjà vu\n".encode("latin-1"))
    refused = _import(runner, path, monitor_id)
    assert refused.exit_code != 0 and "--encoding" in refused.output and "line 2" in refused.output
    drain()
    assert _stored(app) == []
    done = _import(runner, path, monitor_id, "--encoding", "latin-1")
    assert done.exit_code == 0 and "published 2 of 2 rows" in done.output
    drain()
    with app.app_context():
        assert sorted(db.session.execute(select(Mention.text)).scalars()) == ["café crème", "déjà vu"]
    assert "unknown encoding" in _import(runner, path, monitor_id, "--encoding", "klingon").output


def test_undecodable_lines_with_an_explicit_encoding_are_bad_rows(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "mixed.csv"
    path.write_bytes(b"id,text\n1,fine\n2,caf\xe9\n3,also fine\n")
    result = _import(runner, path, monitor_id, "--encoding", "utf-8")
    assert "published 2 of 3 rows" in result.output and "line 3: bytes that are not utf-8" in result.output
    drain()
    assert _stored(app) == ["1", "3"]


def test_rows_the_worker_would_refuse_are_reported_not_published(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "dates.csv"
    rows = ["id,text,published_at"]
    for i in range(300):
        when = "2026-11-31" if i % 12 == 0 else "0001-01-01T00:00:00+14:00" if i % 12 == 1 else "2026-11-30"
        rows.append(f"r{i},text {i},{when}")
    rows.append("nul,bad \x00 text,2026-11-30")
    path.write_text("\n".join(rows) + "\n")
    result = _import(runner, path, monitor_id)
    assert "published 250 of 301 rows" in result.output and "51 bad rows" in result.output
    assert "line 2: published_at '2026-11-31'" in result.output
    outcome = drain()
    assert len(_stored(app)) == 250 and _letters(app) == 0, outcome


def test_integer_ids_in_jsonl_are_normalised_as_pushes_are(app, runner, tmp_path, drain):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "ids.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in [
        {"id": 1, "text": "int"}, {"id": "1", "text": "same"}, {"id": True, "text": "bool"},
        {"id": 1.5, "text": "float"}, {"id": 2**64, "text": "huge"}]) + "\n")
    result = _import(runner, path, monitor_id)
    assert "published 2 of 5 rows" in result.output and "3 bad rows" in result.output
    drain()
    assert _stored(app) == ["1"]


def test_a_very_long_line_is_skipped_without_holding_it(tmp_path, monkeypatch):
    monkeypatch.setattr(importer, "MAX_LINE", 1000)
    path = tmp_path / "long.jsonl"
    path.write_text(json.dumps({"text": "a" * 5000}) + "\n" + json.dumps({"text": "short"}) + "\n")
    rows = list(importer.read_rows(path))
    assert [(n, e is None) for n, _, e in rows] == [(1, False), (2, True)]
    assert "longer than 1000 bytes" in rows[0][2]


@pytest.mark.parametrize("content", [b"", b"id,text\n", b"\xef\xbb\xbfid,text\n1,bom\n", b"\n\n\n"])
def test_empty_and_odd_files_never_fail(app, runner, tmp_path, content):
    monitor_id, _ = new_monitor(app)
    path = tmp_path / "odd.csv"
    path.write_bytes(content)
    result = _import(runner, path, monitor_id)
    assert result.exit_code == 0, result.output
