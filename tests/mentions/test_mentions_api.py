"""The API's mention list reads through the search service: same filters, order, total and JSON."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from webapp.core.extensions import db
from webapp.mentions import search as mention_search

from tests.helpers import mention, new_monitor

NOW = datetime.now(timezone.utc).replace(microsecond=0)


def test_the_api_list_is_the_search_services_window(app, client, auth, drain):
    monitor_id, _ = new_monitor(app)
    texts = ("I love it", "I hate it", "It is a table")
    items = [mention(i, texts[i % 3], published_at=(NOW - timedelta(minutes=i // 2)).isoformat())
             for i in range(12)]   # pairs share a time: the id breaks the tie, as on the page
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()
    since, until = (NOW - timedelta(minutes=4)).isoformat(), (NOW - timedelta(minutes=1)).isoformat()
    for args in ({}, {"label": "positive"}, {"since": since, "until": until}, {"limit": 3, "offset": 4},
                 {"label": "negative", "since": since, "limit": 1, "offset": 1}):
        got = client.get(f"/api/v1/monitors/{monitor_id}/mentions", query_string=args, headers=auth).get_json()
        spec, errors = mention_search.parse_filters({k: str(v) for k, v in args.items() if k != "limit"
                                                     and k != "offset"})
        assert errors == {}
        with app.app_context():
            total = mention_search.count(db.session, monitor_id, spec)
            rows = mention_search.window(db.session, monitor_id, spec, args.get("limit", 100), args.get("offset", 0))
            expected = [m.external_id for m, _ in rows]
        assert got["total"] == total and [i["external_id"] for i in got["items"]] == expected
        assert (got["limit"], got["offset"]) == (args.get("limit", 100), args.get("offset", 0))
    page = client.get(f"/api/v1/monitors/{monitor_id}/mentions?limit=4", headers=auth).get_json()
    assert [i["external_id"] for i in page["items"]] == ["m1", "m0", "m3", "m2"]   # newest, then id desc
    assert set(page["items"][0]) == {"id", "external_id", "text", "author", "url", "source", "source_id",
                                     "published_at", "compound", "pos", "neu", "neg", "label", "backfilled",
                                     "scored_label", "overridden", "muted", "irrelevant",
                                     "lang", "scored", "mixed", "reach", "engagement", "influence",
                                     "tags", "status", "assignee_id", "assignee", "read", "notes"}
