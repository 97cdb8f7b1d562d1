"""Plotly figures for the monitor page, built from rollup buckets (pure: data in, JSON-able dicts out).

Figures carry only numbers and fixed labels; any text that came from outside would go through
the template's `tojson` and Plotly's own escaping, never raw into hover templates.
"""
from __future__ import annotations

import json

import plotly.graph_objects as go

COLORS = {"positive": "#2e9d5b", "neutral": "#8a94a6", "negative": "#d64545", "volume": "#3f6fd8",
          "gap": "#f0a030"}
LAYOUT = dict(margin=dict(l=48, r=16, t=36, b=36), height=300, hovermode="x unified",
              legend=dict(orientation="h", y=-0.2), template="plotly_white")


def _plain(fig: go.Figure) -> dict:
    return json.loads(fig.to_json())


def volume(buckets: list[dict], gaps: list[tuple] = ()) -> dict:
    """Mentions per bucket; `gaps` ((start, end, label) of failing sources) are shaded, so that a
    blocked source is not mistaken for a drop in mentions."""
    fig = go.Figure(go.Bar(x=[b["start"] for b in buckets], y=[b["count"] for b in buckets],
                           marker_color=COLORS["volume"], name="mentions"))
    for start, end, label in gaps:
        fig.add_vrect(x0=start, x1=end, fillcolor=COLORS["gap"], opacity=0.25, line_width=0,
                      annotation_text=label, annotation_position="top left",
                      annotation_font_size=10)
    fig.update_layout(title="Mentions per bucket", **LAYOUT)
    return _plain(fig)


def average_sentiment(buckets: list[dict]) -> dict:
    fig = go.Figure(go.Scatter(x=[b["start"] for b in buckets], y=[b["avg_compound"] for b in buckets],
                               mode="lines+markers", connectgaps=False, name="average compound",
                               line=dict(color="#6b4fd8")))
    fig.add_hline(y=0, line=dict(color="#999", width=1, dash="dot"))
    fig.update_layout(title="Average sentiment (compound, −1 to 1)", yaxis=dict(range=[-1, 1]), **LAYOUT)
    return _plain(fig)


def label_shares(buckets: list[dict]) -> dict:
    """Stacked percentage areas of positive / neutral / negative per bucket."""
    x = [b["start"] for b in buckets]
    fig = go.Figure()
    for label in ("negative", "neutral", "positive"):
        y = [round(100 * b[label] / b["count"], 1) if b["count"] else None for b in buckets]
        fig.add_trace(go.Scatter(x=x, y=y, name=label, stackgroup="shares", mode="lines",
                                 line=dict(width=0.5, color=COLORS[label])))
    fig.update_layout(title="Share of positive / neutral / negative (%)", yaxis=dict(range=[0, 100]), **LAYOUT)
    return _plain(fig)


def distribution(buckets: list[dict]) -> dict:
    totals = {label: sum(b[label] for b in buckets) for label in ("positive", "neutral", "negative")}
    fig = go.Figure(go.Pie(labels=list(totals), values=list(totals.values()), hole=0.45, sort=False,
                           marker=dict(colors=[COLORS[k] for k in totals])))
    fig.update_layout(title="Distribution over the range", **{**LAYOUT, "hovermode": "closest"})
    return _plain(fig)


def dashboard(buckets: list[dict], gaps: list[tuple] = ()) -> dict[str, dict]:
    return {"volume": volume(buckets, gaps), "sentiment": average_sentiment(buckets),
            "shares": label_shares(buckets), "distribution": distribution(buckets)}


def headline(buckets: list[dict]) -> dict:
    """Totals over the range for the figures above the charts."""
    count = sum(b["count"] for b in buckets)
    weighted = sum(b["avg_compound"] * b["count"] for b in buckets if b["count"])
    return {
        "count": count,
        "avg_compound": round(weighted / count, 3) if count else None,
        **{label: sum(b[label] for b in buckets) for label in ("positive", "neutral", "negative")},
    }
