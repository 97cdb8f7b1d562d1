"""Plotly figures for the scorer pages (pure: reports in, JSON-able dicts out).

Figures hold only numbers and fixed labels (positive / neutral / negative, scorer names that
passed the name check), and reach the page through `tojson`.
"""
from __future__ import annotations

import plotly.graph_objects as go

from webapp.insights.charts import COLORS, _plain

LAYOUT = dict(margin=dict(l=80, r=16, t=48, b=56), height=340, template="plotly_white")


def confusion_heatmap(report: dict, title: str | None = None) -> dict:
    """The confusion matrix as a heatmap: rows are the true labels, columns the predicted ones."""
    labels = report["confusion"]["labels"]
    matrix = report["confusion"]["matrix"]
    fig = go.Figure(go.Heatmap(
        z=matrix, x=labels, y=labels, colorscale="Blues", showscale=False,
        text=[[str(n) for n in row] for row in matrix], texttemplate="%{text}",
        hovertemplate="truth %{y}<br>predicted %{x}<br>%{z} rows<extra></extra>",
    ))
    fig.update_layout(title=title or f"Confusion matrix ({report.get('scorer', '')}, n={report['n']})",
                      xaxis=dict(title="predicted", side="bottom"),
                      yaxis=dict(title="truth", autorange="reversed"), **LAYOUT)
    return _plain(fig)


def comparison(model: dict, vader: dict) -> dict:
    """Grouped bars of per-class F1, accuracy and macro-F1: the model beside VADER."""
    names = ["accuracy", "macro-F1", "F1 positive", "F1 neutral", "F1 negative"]

    def values(report: dict) -> list:
        return [report["accuracy"], report["macro_f1"],
                *(report["classes"][label]["f1"] for label in ("positive", "neutral", "negative"))]

    fig = go.Figure([
        go.Bar(name=model.get("scorer", "model"), x=names, y=values(model), marker_color=COLORS["volume"]),
        go.Bar(name="vader", x=names, y=values(vader), marker_color=COLORS["neutral"]),
    ])
    fig.update_layout(title="Held-out split: model and VADER", barmode="group", yaxis=dict(range=[0, 1]),
                      legend=dict(orientation="h", y=-0.2), **LAYOUT)
    return _plain(fig)
