"""The mentions page: filter parsing (pure), search, filters, sort, pages, highlights, bad input."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest

from webapp.core.extensions import db
from webapp.monitors.models import Source
from webapp.scoring import highlights, sentiment
from webapp.core.times import read_time as parse_time
from webapp.mentions.search import MentionFilter, parse_filters, split_terms

from tests.helpers import mention, new_monitor

pytestmark = pytest.mark.both_databases

T0 = datetime(2026, 3, 2, 12, 0, tzinfo=timezone.utc)


# -- pure ----------------------------------------------------------------------------------------

def test_parse_filters_reads_every_parameter():
    spec, errors = parse_filters({
        "q": 'acme "customer service"', "label": "negative", "source": "3", "since": "2026-03-01",
        "until": "2026-03-02", "min": "-0.5", "max": "0.25", "sort": "negative", "page": "2", "per_page": "25"})
    assert errors == {}
    assert spec.terms == ("acme", "customer service") and spec.label == "negative" and spec.source_id == 3
    assert spec.since == datetime(2026, 3, 1, tzinfo=timezone.utc)
    assert spec.until == datetime(2026, 3, 3, tzinfo=timezone.utc)  # a date: the whole day
    assert (spec.min_score, spec.max_score, spec.sort, spec.page, spec.per_page) == (-0.5, 0.25, "negative", 2, 25)
    assert spec.args(page=3)["page"] == "3" and "page" not in spec.args(label="positive")
    assert spec.args(label=None).get("label") is None and "page" not in spec.export_args()
    assert parse_filters({"source": "rss"})[0].source_kind == "rss"


def test_parse_filters_reports_bad_parameters_and_keeps_the_rest():
    spec, errors = parse_filters({"label": "angry", "since": "yesterday", "min": "2", "max": "x", "sort": "best",
                                  "page": "0", "per_page": "7", "source": "a b", "q": "ok"})
    assert set(errors) == {"label", "since", "min", "max", "sort", "page", "per_page", "source"}
    assert "ISO 8601" in errors["since"] and "-1 to 1" in errors["min"]
    assert spec == MentionFilter(q="ok", terms=("ok",))
    assert spec.raw == {"q": "ok"}
    _, errors = parse_filters({"since": "2026-03-02", "until": "2026-03-01T00:00:00Z"})
    assert "after since" in errors["until"]
    _, errors = parse_filters({"min": "0.5", "max": "0.1"})
    assert "below min" in errors["max"]
    _, errors = parse_filters({"q": " ".join(["w"] * 11)})
    assert "at most" in errors["q"]


def test_times_accept_dates_iso_times_and_a_plus_lost_in_a_query_string():
    assert parse_time("2026-03-02T10:00:00+01:00") == datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    assert parse_time("2026-03-02T10:00:00Z") == parse_time("2026-03-02T10:00") == \
        datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    assert parse_time("2026-03-02T10:00:00 00:00") == datetime(2026, 3, 2, 10, tzinfo=timezone.utc)
    assert parse_time("2026-03-02", end_of_day=True) == datetime(2026, 3, 3, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        parse_time("2026-02-30")
    assert split_terms('a "b c" "" d') == ("a", "b c", "d")


def test_word_valences_are_the_ones_vader_sums():
    analyzer, stock = sentiment.fast_analyzer(), sentiment.analyzer()
    for text in ("The food is GREAT but the service was not good at all!!",
                 "kind of bad, kind of good", "I love love love it", "not the worst :) meh",
                 "This board is sick, totally sick.", "least happy ever"):
        valences = highlights.word_valences(analyzer, text)
        compound = stock.score_valence([v for _, v in valences], text)["compound"]
        assert compound == stock.polarity_scores(text)["compound"], text


def test_segments_mark_the_words_and_give_the_text_back():
    text = "Great product, but the <b>support</b> is terrible!!"
    segs = highlights.highlight(sentiment.fast_analyzer(), text)
    assert "".join(s.text for s in segs) == text
    marked = {s.text: s for s in segs if s.valence is not None}
    assert set(marked) == {"Great", "terrible"}  # "terrible!!" keeps its punctuation outside
    assert marked["Great"].polarity == "pos" and marked["terrible"].polarity == "neg"
    assert marked["terrible"].level == 4 and marked["terrible"].valence < -3  # after "but": x1.5
    assert marked["Great"].title.startswith("valence +")
    # words that do not line up with the text: nothing is marked rather than the wrong thing
    assert highlights.segments("a b", [("x", 1.0)]) == [highlights.Segment("a b")]
    assert highlights.segments("", []) == []


# -- the page ------------------------------------------------------------------------------------

@pytest.fixture
def seeded(app, logged_in, auth, drain):
    """A monitor with pushed mentions an hour apart (newest first: m0) and one rss-kind source."""
    monitor_id, push_id = new_monitor(app, name="Search")
    texts = ["I love the new Acme rocket", "Acme support is terrible", "Shipping took 100% longer_than promised",
             "Neutral note about acme", "Great service from Bob", "Awful, awful experience"]
    items = [mention(i, text, author="Bob Builder" if i == 2 else f"user{i}",
                     published_at=(T0 - timedelta(hours=i)).isoformat()) for i, text in enumerate(texts)]
    assert logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth).status_code == 202
    drain()
    with app.app_context():
        rss = Source(monitor_id=monitor_id, kind="rss", settings={"url": "https://example.com/f.xml"})
        db.session.add(rss)
        db.session.commit()
        db.session.remove()
    return monitor_id, push_id


def ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'<li class="mention" id="mention-(\d+)"', html)]


def externals(app, monitor_id: int, html: str) -> list[str]:
    from webapp.ingest.models import Mention

    with app.app_context():
        by_id = {m.id: m.external_id for m in db.session.query(Mention).filter_by(monitor_id=monitor_id)}
        return [by_id[i] for i in ids(html)]


def test_search_filters_sort_and_pages(app, logged_in, auth, seeded):
    monitor_id, push_id = seeded

    def get(query: str) -> list[str]:
        response = logged_in.get(f"/monitors/{monitor_id}/mentions?{query}")
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        return externals(app, monitor_id, response.get_data(as_text=True))

    assert get("") == [f"m{i}" for i in range(6)]
    assert get("q=ACME") == ["m0", "m1", "m3"]                  # case-insensitive substring
    assert get("q=acme+terrible") == ["m1"]                     # every word
    assert get("q=bob") == ["m2", "m4"]                         # text or author
    assert get(f"q={quote('100%')}") == ["m2"] and get("q=longer_than") == ["m2"] and get("q=r_c") == []
    assert get(f"q={quote(chr(34) + 'acme support' + chr(34))}") == ["m1"]
    assert get("label=negative") == ["m1", "m5"]
    assert get(f"source={push_id}") == get("source=push") == get("")
    assert get("source=rss") == []
    since, until = (T0 - timedelta(hours=3)).isoformat(), (T0 - timedelta(hours=1)).isoformat()
    assert get(f"since={quote(since)}&until={quote(until)}") == ["m2", "m3"]  # [since, until)
    assert get(f"since={since}&until={until}") == ["m2", "m3"]  # a raw "+" read as a space still works
    scores = {m["external_id"]: m["compound"] for m in logged_in.get(
        f"/api/v1/monitors/{monitor_id}/mentions", headers=auth).get_json()["items"]}
    assert get("sort=oldest") == [f"m{i}" for i in reversed(range(6))]
    assert get("sort=positive") == sorted(scores, key=lambda m: (-scores[m], m))
    assert get("sort=negative") == sorted(scores, key=lambda m: (scores[m], m))
    assert get("min=0.5") == [m for m in get("") if scores[m] >= 0.5] != []
    assert get("min=-0.04&max=0.04") == [m for m in get("") if -0.04 <= scores[m] <= 0.04] != []
    assert get("per_page=25&page=1") == get("")
    html = logged_in.get(f"/monitors/{monitor_id}/mentions?label=negative&q=a").get_data(as_text=True)
    assert 'value="negative" selected' in html and 'id="export-mentions-csv"' in html
    assert "label=negative" in html.split('id="export-mentions-csv"')[1].split(">")[0]


def test_pages_keep_the_filters_and_clamp(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app, name="Many")
    items = [mention(i, f"great item {i}", published_at=(T0 - timedelta(minutes=i)).isoformat()) for i in range(60)]
    logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", json=items, headers=auth)
    drain()
    first = logged_in.get(f"/monitors/{monitor_id}/mentions?q=great&per_page=25").get_data(as_text=True)
    assert len(ids(first)) == 25 and "page 1 of 3" in first
    link = re.search(r'rel="next" href="([^"]+)"', first).group(1).replace("&amp;", "&")
    assert "q=great" in link and "per_page=25" in link and "page=2" in link
    last = logged_in.get(f"/monitors/{monitor_id}/mentions?q=great&per_page=25&page=99")
    assert last.status_code == 200 and "page 3 of 3" in last.get_data(as_text=True)
    assert len(ids(last.get_data(as_text=True))) == 10


def test_bad_parameters_give_a_message_never_a_500(app, logged_in, seeded):
    monitor_id, _ = seeded
    for query in ("since=yesterday", "until=2026-13-01", "min=abc", "max=9", "sort=random", "page=-1",
                  "label=happy", "source=%27%3B--", "per_page=1000000", "page=99999999999999999999",
                  "q=" + "x" * 300, "min=nan", "since=2026-03-02&until=2026-03-01"):
        response = logged_in.get(f"/monitors/{monitor_id}/mentions?{query}")
        assert response.status_code == 400, query
        html = response.get_data(as_text=True)
        assert 'id="filter-errors"' in html and 'role="alert"' in html, query
    html = logged_in.get(f"/monitors/{monitor_id}/mentions?since=yesterday&label=negative").get_data(as_text=True)
    assert "since</strong>: since must be an ISO 8601" in html and len(ids(html)) == 2  # label still applied


def test_highlights_on_the_page_are_escaped_text(app, logged_in, auth, drain):
    monitor_id, _ = new_monitor(app, name="Escapes")
    logged_in.post(f"/api/v1/monitors/{monitor_id}/mentions", headers=auth, json=[
        mention(1, "Great <img src=x onerror=alert(1)> 'wonderful & terrible", author="<b>eve</b>")])
    drain()
    html = logged_in.get(f"/monitors/{monitor_id}/mentions").get_data(as_text=True)
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html and "<b>eve" not in html
    assert re.search(r'<mark class="hl pos-\d" title="valence \+[\d.]+" data-valence="[\d.]+">Great</mark>', html)
    assert re.search(r'<mark class="hl neg-\d" title="valence -[\d.]+"[^>]*>terrible</mark>', html)
    assert '&#39;<mark class="hl pos-' in html  # the quote stays outside the mark, escaped
