"""With the page cache off (DASHBOARD_CACHE_SECONDS=0) every dashboard is computed from the current
data: the statements built once and the figures remembered by their data never serve an old
answer. A pushed mention shows in the next page's count, feed, per-source table and series API."""
from __future__ import annotations

from tests.helpers import app_config, mention, migrated_app, signed_in_with_monitor


def test_the_next_uncached_page_shows_a_new_mention(tmp_path):
    with migrated_app({**app_config(tmp_path), "DASHBOARD_CACHE_SECONDS": 0}) as app:
        client, monitor_id, auth, push = signed_in_with_monitor(app, "f@example.com", "fresh password", "fresh")

        def page(span: str = "24h") -> str:
            response = client.get(f"/monitors/{monitor_id}?range={span}")
            assert response.status_code == 200
            return response.get_data(as_text=True)

        def total(text: str) -> str:
            return text.split('id="total-count">', 1)[1].split("<", 1)[0]

        push([mention(i, "a fine day") for i in range(3)])
        for span in ("24h", "7d"):     # the remembered figures are kept after these
            assert total(page(span)) == "3"
        push([mention(10, "the newest words <b>here</b>")])
        for span in ("24h", "7d"):
            shown = page(span)
            assert total(shown) == "4"
            feed = shown.split('id="feed-latest"', 1)[1].split("</ol>", 1)[0]
            assert "the newest words &lt;b&gt;here&lt;/b&gt;" in feed      # newest first, escaped
        series = client.get(f"/api/v1/monitors/{monitor_id}/series?bucket=1h", headers=auth).get_json()
        assert sum(b["count"] for b in series["buckets"]) == 4


def test_the_feed_ranking_is_remembered_by_its_candidates_only():
    from collections import namedtuple

    from webapp.insights import feed

    Row = namedtuple("Row", "id reach engagement compound")
    rows = tuple(Row(i, None, None, c) for i, c in enumerate([0.1, -0.9, 0.3, 0.0, 0.5, 0.2, 0.05, 0.7]))
    top, by = feed._ranking(rows)
    assert (top, by) == ([1, 7, 4, 2, 5, 0], "strength")
    assert feed._ranking(rows) == (top, by)                     # the same candidates: the same answer
    rescored = rows[:3] + (rows[3]._replace(compound=-1.0),) + rows[4:]
    assert feed._ranking(rescored)[0][:2] == [3, 1]             # a re-scored candidate: ranked again
    reached = rows[:6] + (rows[6]._replace(reach=5000),) + rows[7:]
    assert feed._ranking(reached) == ([6, 1, 7, 4, 2, 5], "reach")
