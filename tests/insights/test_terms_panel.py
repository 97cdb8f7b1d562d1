"""The dashboard's terms panel and the mentions page it links to (the term highlighted)."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from html import unescape

from webapp.scoring.highlights import Segment, mark_terms

from tests.helpers import mention


def test_mark_terms_cuts_segments_and_keeps_the_text():
    pieces = [Segment("I "), Segment("love", 2.0), Segment(" Acme customer service, ACME!")]
    marked = mark_terms(pieces, ["customer service", "acme", "ove a"])
    assert "".join(s.text for s in marked) == "I love Acme customer service, ACME!"
    assert [s.text for s in marked if s.match] == ["ove", " Acme", "customer service", "ACME"]
    assert [s.valence for s in marked if s.text == "ove"] == [2.0]
    assert mark_terms(pieces, []) == pieces and mark_terms(pieces, ["zzz"]) == pieces
    assert "".join(s.text for s in mark_terms([Segment("<b>x</b>")], ["<b>"])) == "<b>x</b>"


def test_dashboard_panel_links_each_term_to_its_highlighted_mentions(app, logged_in, auth, client, drain):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Panel", "query": ""}).get_json()["id"]
    when = (datetime.now(timezone.utc) - timedelta(hours=2)).isoformat()
    items = [mention(i, "Acme battery fire <script>x</script> again", published_at=when) for i in range(5)]
    items += [mention(10 + i, "Quiet day at Acme HQ", published_at=when) for i in range(2)]
    assert client.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=items).status_code == 202
    drain()
    page = logged_in.get(f"/monitors/{monitor_id}?range=24h")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="terms-panel"' in html
    assert "<script>x" not in html
    start = html.index('id="terms-top"')
    anchor = html.index('>battery fire</a>', start)
    link = unescape(html[html.rindex('href="', 0, anchor) + 6:anchor].split('"')[0])
    assert "q=%22battery+fire%22" in link or 'q="battery fire"' in link
    found = logged_in.get(link)
    body = found.get_data(as_text=True)
    assert found.status_code == 200, link
    # "fire" also carries its sentiment mark, so the phrase is two adjacent match marks
    assert body.count('<mark class="match">battery </mark><mark class="match"><mark class="hl neg') == 5
    assert "Quiet day" not in body


def test_empty_dashboard_shows_an_empty_terms_panel(app, logged_in, auth, client):
    monitor_id = client.post("/api/v1/monitors", headers=auth, json={"name": "Empty", "query": ""}).get_json()["id"]
    html = logged_in.get(f"/monitors/{monitor_id}?range=90d").get_data(as_text=True)
    assert 'id="terms-empty"' in html
