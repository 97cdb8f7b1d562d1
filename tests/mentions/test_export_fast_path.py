"""The exports' fast path (search.iter_record_batches -> exports.record_chunks, the driver's
values formatted a batch at a time) gives byte for byte the body of the plain path (ORM objects
turned into dicts and written by exports.chunks), on hostile cells, on both databases, through
the download routes too."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, select, text, update

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.mentions import exports, records, search
from webapp.mentions.search import EXPORT_COLUMNS, EXPORT_FREE_TEXT, MentionFilter
from webapp.monitors.models import Source

from tests.helpers import new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)
FORMATS = ("csv", "json", "ndjson")

# (text, author, url, compound): formulas, quotes, separators, line breaks, unicode, None
HOSTILE = [
    ("=HYPERLINK(\"http://evil\")", "+attacker", "-http://x", 0.5),
    ("+1+2", "@SUM(A1)", "=1", -0.25), ("-2+3, minus", None, None, None), ("@handle", "\tauthor", "\rurl", 0.0),
    ("\tindented", "=x", None, -0.0), ("\rcarriage", "a,b", "http://x/?a=1,b=\"2\"", 1.0),
    ('say "hi",\nbye', 'the "author"', None, -1.0), ("line\r\nbreak\nand\rreturn", "x\ny", None, 0.1234),
    ("comma,separated,values", "semi;colon", None, 0.05), ("'already quoted'", "'", "'", -0.05),
    ("École été 日本語 🚀 \u200b \u00a0 ΣΊΣΥΦΟΣ", "éric 🚀fan", "https://ex.com/é", 0.3333),
    ("", "", "", 0.7), (" leading space", " ", " ", 0.9999), ("trailing space ", "x ", None, 1e-05),
    ("\\back\\slash\\", "\\", None, 12345678.125), ("None", "null", "True", 3.0),
    ('"', '""', '","', 0.2), ("=", "+", "-", 0.0001), ("x" * 5000, "y" * 255, "z" * 2000, 0.42),
]


@pytest.fixture
def hostile(app):
    """A monitor holding HOSTILE (an hour apart, with overrides, backfills, reach and times with
    and without a fraction of a second), and a second monitor that must never leak in."""
    monitor_id, push_id = new_monitor(app, name="Hostile")
    other_id, other_push = new_monitor(app, name="Other")
    with app.app_context():
        nul = db.engine.dialect.name == "sqlite"  # PostgreSQL text cannot hold a NUL
        cells = HOSTILE + ([("nul\x00inside", "a\x00b", "\x00", 0.6)] if nul else [])
        for mid, sid in ((monitor_id, push_id), (other_id, other_push)):
            db.session.execute(insert(Mention), [{
                "monitor_id": mid, "source_id": sid, "external_id": f"=e{i}" if i % 3 == 0 else f"e,{i}\"",
                "text": body, "author": author, "url": url,
                "published_at": T0 - timedelta(hours=i, microseconds=(i * 137) % 7 and i * 1013),
                "ingested_at": T0, "compound": compound, "pos": None if compound is None else abs(compound) / 3,
                "neu": 0.5, "neg": None if compound is None else 0.0, "scored": i % 2 == 0, "mixed": i % 5 == 0,
                "label": (None, "positive", "negative", "neutral")[i % 4], "backfilled": i % 3 == 1,
                "lang": ("en", "und", "fr")[i % 3], "reach": None if i % 2 else 10 ** 12 + i,
                "engagement": None if i % 4 else i} for i, (body, author, url, compound) in enumerate(cells)])
        db.session.execute(update(Mention).where(Mention.monitor_id == monitor_id, Mention.external_id == "e,1\"")
                           .values(label="negative", scored_label="positive", overridden_at=T0))
        db.session.execute(update(Mention).where(Mention.monitor_id == monitor_id, Mention.external_id == "e,2\"")
                           .values(label="neutral", scored_label="negative",
                                   overridden_at=T0 + timedelta(microseconds=5)))
        db.session.commit()
        db.session.remove()
    return monitor_id


def _plain_rows(monitor_id: int, spec: MentionFilter) -> list[dict]:
    """The rows as the plain path made them: ORM objects, aware datetimes, a dict per row."""
    rows = db.session.execute(
        select(Mention, Source.kind).join(Source, Source.id == Mention.source_id)
        .where(*search.conditions(monitor_id, spec, db.session)).order_by(*search.ordering(spec))).all()
    return [{"id": m.id, "external_id": m.external_id, "published_at": m.published_at, "source": kind,
             "source_id": m.source_id, "author": m.author, "url": m.url, "text": m.text, "compound": m.compound,
             "pos": m.pos, "neu": m.neu, "neg": m.neg, "label": m.label,
             "scored_label": m.label if m.overridden_at is None else m.scored_label,
             "overridden_at": m.overridden_at, "backfilled": m.backfilled, "lang": m.lang, "scored": m.scored,
             "mixed": m.mixed, "reach": m.reach, "engagement": m.engagement} for m, kind in rows]


def _fast_body(monitor_id: int, spec: MentionFilter, fmt: str, chunk: int = search.EXPORT_CHUNK) -> bytes:
    batches = search.iter_record_batches(db.session, monitor_id, spec, chunk)
    return b"".join(exports.record_chunks(fmt, EXPORT_COLUMNS, batches, EXPORT_FREE_TEXT))


@pytest.mark.parametrize("args", [{}, {"sort": "oldest"}, {"sort": "positive"}, {"q": "e"}, {"label": "negative"},
                                  {"q": "zzz-not-there"}])
def test_the_fast_path_writes_the_plain_paths_bytes(app, hostile, args):
    with app.app_context():
        spec, errors = search.parse_filters(args)
        assert not errors
        plain = _plain_rows(hostile, spec)
        if not args:
            assert len(plain) == len(HOSTILE) + (db.engine.dialect.name == "sqlite")
        for fmt in FORMATS:
            expected = "".join(exports.chunks(fmt, EXPORT_COLUMNS, iter(plain))).encode("utf-8")
            for chunk in (1, 4, 1000):  # batch boundaries anywhere
                assert _fast_body(hostile, spec, fmt, chunk) == expected, (fmt, chunk)


def test_the_download_routes_send_the_same_bytes(app, logged_in, auth, hostile):
    with app.app_context():
        spec, _ = search.parse_filters({})
        expected = {fmt: "".join(exports.chunks(fmt, EXPORT_COLUMNS, iter(_plain_rows(hostile, spec)))).encode()
                    for fmt in FORMATS}
    assert logged_in.get(f"/monitors/{hostile}/mentions.csv").get_data() == expected["csv"]
    for fmt in ("json", "ndjson"):
        assert logged_in.get(f"/monitors/{hostile}/mentions.json?format={fmt}").get_data() == expected[fmt]
        api = logged_in.get(f"/api/v1/monitors/{hostile}/mentions/export?format={fmt}", headers=auth)
        assert api.status_code == 200 and api.get_data() == expected[fmt]
    csv_body = expected["csv"].decode()
    assert "'=HYPERLINK" in csv_body and ",'+attacker," in csv_body and "\r\n" in csv_body


def test_sqlite_times_stored_another_way_are_still_iso(app, hostile):
    """A time SQLAlchemy did not write (no fraction, or a 'T') is parsed as the ORM parses it."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite stores times as text")
        db.session.execute(text("UPDATE mentions SET published_at = '2026-03-02 11:00:00' "
                                "WHERE monitor_id = :m AND external_id = '=e0'"), {"m": hostile})
        db.session.execute(text("UPDATE mentions SET published_at = '2026-03-02T10:00:00.500000', "
                                "overridden_at = '2026-03-02 10:30:00.000000' "
                                "WHERE monitor_id = :m AND external_id = '=e3'"), {"m": hostile})
        db.session.commit()
        spec, _ = search.parse_filters({})
        plain = _plain_rows(hostile, spec)
        for fmt in FORMATS:
            assert _fast_body(hostile, spec, fmt) == "".join(exports.chunks(fmt, EXPORT_COLUMNS, iter(plain))).encode()
        times = {r["external_id"]: r["published_at"] for r in plain}
        assert times["=e0"] == datetime(2026, 3, 2, 11, tzinfo=timezone.utc)


def test_converted_times_match_isoformat(app):
    with app.app_context():
        convert = records.sqlite_time(db.engine.dialect)
        for moment in (T0, T0 + timedelta(microseconds=1), T0 + timedelta(microseconds=999_999),
                       datetime(1, 1, 1, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, 10, tzinfo=timezone.utc)):
            naive = moment.replace(tzinfo=None)
            assert records.pg_time(naive) == moment.isoformat()
            stored = "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # SQLAlchemy's SQLite storage format
                naive.year, naive.month, naive.day, naive.hour, naive.minute, naive.second, naive.microsecond)
            assert convert(stored) == moment.isoformat()
        assert records.pg_time(None) is None and convert(None) is None
