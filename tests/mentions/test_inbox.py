"""The mention inbox service: filters by tag/status/assignee/read, bulk actions over a filter
(one statement each, timed on 10,000 mentions), notes, tag counts; on SQLite and PostgreSQL."""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from webapp.core.extensions import db
from webapp.ingest.models import Mention
from webapp.mentions.inbox import service as inbox
from webapp.mentions import search
from webapp.monitors.models import Monitor

from tests.helpers import make_user, new_monitor

pytestmark = pytest.mark.both_databases
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def seed(app, n: int, name="Inbox") -> int:
    """A monitor with `n` pushed mentions (inserted directly: the pipeline is tested elsewhere)."""
    monitor_id, source_id = new_monitor(app, name)
    rows = [{"monitor_id": monitor_id, "source_id": source_id, "external_id": f"m{i}",
             "text": f"mention {i} {'broken' if i % 2 else 'lovely'}", "published_at": NOW - timedelta(minutes=i),
             "ingested_at": NOW, "compound": 0.0, "pos": 0.0, "neu": 1.0, "neg": 0.0, "label": "neutral"}
            for i in range(n)]
    with app.app_context():
        for at in range(0, n, 2000):
            db.session.execute(db.insert(Mention), rows[at:at + 2000])
        db.session.commit()
    return monitor_id


def spec(args: dict, viewer_id=None) -> search.MentionFilter:
    found, errors = search.parse_filters(args, viewer_id)
    assert errors == {}
    return found


def count(monitor_id, args, viewer_id=None) -> int:
    return search.count(db.session, monitor_id, spec(args, viewer_id))


def test_bulk_actions_over_a_filter_change_every_match_and_say_how_many(app):
    monitor_id = seed(app, 40)
    user = make_user(app, email="worker@example.com")
    other = make_user(app, email="other@example.com")
    with app.app_context():
        monitor = db.session.get(Monitor, monitor_id)
        broken = spec({"q": "broken"})
        assert inbox.bulk(db.session, monitor, broken, "tag", user_id=user, tag=" Support ") == 20
        assert inbox.bulk(db.session, monitor, broken, "tag", user_id=user, tag="support") == 0   # already
        assert count(monitor_id, {"tag": "support"}) == 20
        assert inbox.bulk(db.session, monitor, spec({"tag": "support"}), "assign", user_id=user, assignee=user) == 20
        assert count(monitor_id, {"assignee": "me"}, user) == 20
        assert count(monitor_id, {"assignee": "me"}, other) == 0
        assert count(monitor_id, {"assignee": "nobody"}) == 20
        assert count(monitor_id, {"assignee": str(user)}) == 20
        assert inbox.bulk(db.session, monitor, spec({}), "done", user_id=user) == 40
        assert inbox.bulk(db.session, monitor, spec({}), "done", user_id=user) == 0
        assert count(monitor_id, {"status": "open"}) == 0
        assert count(monitor_id, {"assignee": "me"}, user) == 20   # done kept the assignee
        assert inbox.bulk(db.session, monitor, spec({"q": "lovely"}), "open", user_id=user) == 20
        assert count(monitor_id, {"status": "open", "tag": "support"}) == 0
        assert inbox.bulk(db.session, monitor, spec({"q": '"mention 1"'}), "read", user_id=user) == 11
        assert count(monitor_id, {"read": "unread"}, user) == 29
        assert count(monitor_id, {"read": "unread"}, other) == 40
        assert inbox.bulk(db.session, monitor, spec({}), "unread", user_id=user) == 11
        assert inbox.bulk(db.session, monitor, spec({}), "unassign", user_id=user) == 20
        assert inbox.bulk(db.session, monitor, spec({"q": '"mention 3"'}), "untag", user_id=user, tag="support") == 6
        assert inbox.tag_counts(db.session, monitor_id, NOW - timedelta(days=1), NOW + timedelta(1)) == [("support", 14)]
        assert inbox.tag_counts(db.session, monitor_id, NOW - timedelta(minutes=9), NOW + timedelta(1)) == [("support", 4)]


def test_bad_actions_tags_and_assignees_are_refused_with_reasons(app):
    monitor_id = seed(app, 3)
    user = make_user(app, email="worker@example.com")
    with app.app_context():
        monitor = db.session.get(Monitor, monitor_id)
        everything = spec({})
        for action, kwargs, field in (("explode", {}, "action"), ("tag", {"tag": ""}, "tag"),
                                      ("tag", {"tag": "x" * 41}, "tag"), ("tag", {"tag": "a\x00b"}, "tag"),
                                      ("tag", {"tag": ["list"]}, "tag"), ("assign", {"assignee": 2**70}, "assignee"),
                                      ("assign", {"assignee": "1"}, "assignee"), ("assign", {"assignee": 999}, "assignee")):
            with pytest.raises(inbox.InboxInvalid) as caught:
                inbox.bulk(db.session, monitor, everything, action, user_id=user, **kwargs)
            assert field in caught.value.errors
        _, errors = search.parse_filters({"status": "closed", "assignee": "them", "read": "maybe", "tag": " "}, user)
        assert set(errors) == {"status", "assignee", "read"}


def test_notes_are_kept_in_order_with_their_author(app):
    monitor_id = seed(app, 2)
    user = make_user(app, email="worker@example.com")
    with app.app_context():
        mention_id = db.session.execute(db.select(Mention.id).where(Mention.monitor_id == monitor_id)).scalars().first()
        inbox.add_note(db.session, monitor_id, mention_id, "  first  ", user)
        inbox.add_note(db.session, monitor_id, mention_id, "second", user)
        for body in ("", "   ", None, "x" * 5001):
            with pytest.raises(inbox.InboxInvalid):
                inbox.add_note(db.session, monitor_id, mention_id, body, user)
        with pytest.raises(LookupError):
            inbox.add_note(db.session, monitor_id + 1, mention_id, "elsewhere", user)
        assert [(n["body"], n["author"]) for n in inbox.notes(db.session, mention_id)] == [
            ("first", "worker@example.com"), ("second", "worker@example.com")]
        assert inbox.rows(db.session, [mention_id], user)[mention_id].notes == 2


def test_each_bulk_action_on_10000_mentions_takes_under_two_seconds(app, db_kind):
    monitor_id = seed(app, 10_000)
    user = make_user(app, email="worker@example.com")
    timings = {}
    with app.app_context():
        monitor = db.session.get(Monitor, monitor_id)
        everything = spec({"since": (NOW - timedelta(days=30)).date().isoformat()})
        for action, kwargs, expected in (("tag", {"tag": "bulk"}, 10_000), ("assign", {"assignee": user}, 10_000),
                                         ("done", {}, 10_000), ("read", {}, 10_000), ("open", {}, 10_000),
                                         ("unassign", {}, 10_000), ("unread", {}, 10_000),
                                         ("untag", {"tag": "bulk"}, 10_000)):
            started = time.perf_counter()
            changed = inbox.bulk(db.session, monitor, everything, action, user_id=user, **kwargs)
            timings[action] = time.perf_counter() - started
            assert changed == expected, action
        started = time.perf_counter()
        assert inbox.bulk(db.session, monitor, spec({"q": "broken"}), "tag", user_id=user, tag="half") == 5000
        timings["tag a filtered half"] = time.perf_counter() - started
    print(f"\nbulk actions on 10,000 mentions ({db_kind}): "
          + ", ".join(f"{k} {v * 1000:.0f} ms" for k, v in timings.items()))


def test_rules_tag_10000_stored_mentions_in_bounded_batches(app, db_kind):
    monitor_id = seed(app, 10_000)
    with app.app_context():
        from webapp.mentions.inbox import autotag

        autotag.create_rule(db.session, monitor_id, "support", "broken OR help", None)
        autotag.create_rule(db.session, monitor_id, "happy", "lovely", None)
        started = time.perf_counter()
        assert autotag.apply_stored(db.session, monitor_id, batch=2000) == 10_000
        took = time.perf_counter() - started
        assert autotag.apply_stored(db.session, monitor_id) == 0   # tags a mention has are not added twice
        assert inbox.tag_counts(db.session, monitor_id) == [("happy", 5000), ("support", 5000)]
    print(f"\napply 2 auto-tag rules to 10,000 stored mentions ({db_kind}): {took * 1000:.0f} ms")
