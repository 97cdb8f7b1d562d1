"""The report's charts as PNG images, drawn offline by matplotlib's Agg renderer.

No pyplot (no global state, no display): a Figure on a FigureCanvasAgg per chart. matplotlib is
imported when a chart is drawn, never at import time.
"""
from __future__ import annotations

import io
from datetime import datetime

WIDTH, HEIGHT, DPI = 6.0, 2.2, 100   # 600 x 220 pixels: fits a 600-pixel email column
INK, GRID = "#1f2937", "#e5e7eb"
VOLUME, POSITIVE, NEGATIVE = "#2563eb", "#16a34a", "#dc2626"


def _figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(WIDTH, HEIGHT), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.grid(True, color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.tick_params(colors=INK, labelsize=8)
    return figure, axes


def _png(figure) -> bytes:
    import matplotlib.dates as mdates

    for axes in figure.axes:
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(axes.xaxis.get_major_locator()))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _times(series: list[dict]) -> list[datetime]:
    return [datetime.fromisoformat(b["start"]) for b in series]


def volume_chart(series: list[dict]) -> bytes:
    """Mentions per hour, bars."""
    figure, axes = _figure()
    times = _times(series)
    width = (times[1] - times[0]) * 0.9 if len(times) > 1 else 0.03
    axes.bar(times, [b["count"] for b in series], width=width, color=VOLUME, align="edge")
    axes.set_title("Mentions per hour (UTC)", fontsize=9, color=INK, loc="left")
    axes.set_ylim(bottom=0)
    return _png(figure)


def sentiment_chart(series: list[dict]) -> bytes:
    """Average sentiment per hour (gaps where there was no mention), on a fixed -1..1 scale."""
    figure, axes = _figure()
    times = _times(series)
    values = [b["avg_compound"] if b["avg_compound"] is not None else float("nan") for b in series]
    axes.axhline(0, color=INK, linewidth=0.8)
    axes.plot(times, values, color=INK, linewidth=1.2, marker="o", markersize=2)
    axes.fill_between(times, values, 0, where=[v >= 0 for v in values], color=POSITIVE, alpha=0.3,
                      interpolate=True)
    axes.fill_between(times, values, 0, where=[v < 0 for v in values], color=NEGATIVE, alpha=0.3,
                      interpolate=True)
    axes.set_ylim(-1, 1)
    axes.set_title("Average sentiment per hour (UTC; -1 to 1)", fontsize=9, color=INK, loc="left")
    return _png(figure)


def charts(series: list[dict]) -> dict[str, bytes]:
    """{"volume": png, "sentiment": png}."""
    return {"volume": volume_chart(series), "sentiment": sentiment_chart(series)}
