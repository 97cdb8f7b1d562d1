"""The dashboard's remembered figures (insights/dashboard.py: derived): the same answer as
computing them, for every axis, and a new computation whenever any of the data changes."""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from webapp.insights import charts, dashboard, panels

START = datetime(2026, 3, 1, tzinfo=timezone.utc)


def buckets(n: int, offset: int = 0, seed: int = 0) -> list[dict]:
    out = []
    for i in range(n):
        count = (i * 7 + seed) % 11
        pos, neg = count // 2, count // 4
        out.append({"start": (START + timedelta(hours=offset + i)).isoformat(), "count": count,
                    "avg_compound": round((pos - neg) / count, 4) if count else None,
                    "positive": pos, "neutral": count - pos - neg, "negative": neg})
    return out


def computed(now, before, by_source, gaps, alerts, names, axis, reach):
    """What the page showed before the figures were remembered."""
    figures = charts.dashboard(now, gaps, alerts, bucket="1h", by_source=by_source, source_names=names,
                               axis_range=axis)
    figures["volume"] = panels.add_reach(figures["volume"], now, reach)
    return charts.headline(now, before), figures


def test_same_answer_as_computing_it_for_each_axis(monkeypatch):
    calls = []
    real = dashboard._derive
    monkeypatch.setattr(dashboard, "_derive", lambda *a: calls.append(1) or real(*a))
    before, now = buckets(24, seed=3), buckets(24, offset=24)
    by_source = {4: {"count": 30, "avg_compound": 0.2, "positive": 10, "neutral": 15, "negative": 5}}
    names = {4: "RSS <b>feed</b>"}
    gaps = [(now[2]["start"], now[5]["start"], "feed failing")]
    alerts = [(now[8]["start"], now[9]["start"], 'alert: "spike" </script>')]
    reach = tuple(range(24))
    for minutes in (10, 20):   # the axis ends at "now": a new end, the same remembered figures
        end = (START + timedelta(hours=47, minutes=minutes)).isoformat()
        axis = (now[0]["start"], end)
        headline, figures, as_json, points = dashboard.derived(now, before, by_source, gaps, alerts, names,
                                                               "1h", axis, reach)
        want_headline, want_figures = computed(now, before, by_source, gaps, alerts, names, axis, reach)
        assert headline == want_headline and figures == want_figures
        assert {name: json.loads(text) for name, text in as_json.items()} == want_figures
        assert all("<" not in text for text in as_json.values())        # safe inside <script>
        assert figures["volume"]["layout"]["xaxis"]["range"] == list(axis)
        assert points == {"volume": 24, "sentiment": 24, "sources": 1}
    assert len(calls) == 1


def test_any_change_of_the_data_computes_again(monkeypatch):
    calls = []
    real = dashboard._derive
    monkeypatch.setattr(dashboard, "_derive", lambda *a: calls.append(1) or real(*a))
    before, now = buckets(12, seed=5), buckets(12, offset=12, seed=1)
    axis = (now[0]["start"], (START + timedelta(hours=24)).isoformat())
    base = dict(buckets=now, previous=before, by_source={}, gaps=[], alerts=[], names={}, bucket="1h",
                axis=axis, reach=None)
    first = dashboard.derived(**base)
    changed = [dict(b) for b in now]
    busy = next(i for i, b in enumerate(changed) if b["count"])
    changed[busy].update(negative=changed[busy]["negative"] + 1, count=changed[busy]["count"] + 1)
    variants = [{"buckets": changed}, {"previous": buckets(12, seed=6)}, {"reach": tuple([1] * 12)},
                {"names": {9: "x"}}, {"gaps": [(now[1]["start"], now[2]["start"], "x failing")]}]
    for change in variants:
        args = {**base, **change}
        headline, figures, _, _ = dashboard.derived(**args)
        want = computed(args["buckets"], args["previous"], args["by_source"], args["gaps"], args["alerts"],
                        args["names"], axis, args["reach"])
        assert (headline, figures) == want
    assert len(calls) == 1 + len(variants)
    assert dashboard.derived(**base)[0] == first[0] and len(calls) == 1 + len(variants)


def test_an_empty_range_has_no_figures():
    empty = buckets(4, seed=0)
    for b in empty:
        b.update(count=0, avg_compound=None, positive=0, neutral=0, negative=0)
    headline, figures, as_json, points = dashboard.derived(empty, empty, {}, [], [], {}, "1h",
                                                           (empty[0]["start"], empty[-1]["start"]), None)
    assert headline["count"] == 0 and figures == {} and as_json == {} and points == {}
