"""The report's charts as PNG images, drawn offline by matplotlib's Agg renderer.

No pyplot (no global state, no display): a Figure on a FigureCanvasAgg per chart. matplotlib is
imported when a chart is drawn, never at import time.
"""
from __future__ import annotations

import io
from datetime import datetime, timezone

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


def _png(figure, tz) -> bytes:
    import matplotlib.dates as mdates

    for axes in figure.axes:
        locator = mdates.AutoDateLocator(tz=tz)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png", dpi=DPI)
    return out.getvalue()


def _times(series: list[dict], tz) -> list[datetime]:
    return [datetime.fromisoformat(b["start"]).astimezone(tz) for b in series]


def _zone_name(tz) -> str:
    return getattr(tz, "key", None) or "UTC"


def volume_chart(series: list[dict], tz=timezone.utc) -> bytes:
    """Mentions per hour, bars; times in `tz` (the team's time zone)."""
    figure, axes = _figure()
    times = _times(series, tz)
    width = (times[1] - times[0]) * 0.9 if len(times) > 1 else 0.03
    axes.bar(times, [b["count"] for b in series], width=width, color=VOLUME, align="edge")
    axes.set_title(f"Mentions per hour ({_zone_name(tz)})", fontsize=9, color=INK, loc="left")
    axes.set_ylim(bottom=0)
    from matplotlib.ticker import MaxNLocator

    axes.yaxis.set_major_locator(MaxNLocator(integer=True))   # counts: no 7.5 mentions
    return _png(figure, tz)


def sentiment_chart(series: list[dict], tz=timezone.utc) -> bytes:
    """Average sentiment per hour (gaps where there was no mention), on a fixed -1..1 scale."""
    figure, axes = _figure()
    times = _times(series, tz)
    values = [b["avg_compound"] if b["avg_compound"] is not None else float("nan") for b in series]
    axes.axhline(0, color=INK, linewidth=0.8)
    axes.plot(times, values, color=INK, linewidth=1.2, marker="o", markersize=2)
    axes.fill_between(times, values, 0, where=[v >= 0 for v in values], color=POSITIVE, alpha=0.3,
                      interpolate=True)
    axes.fill_between(times, values, 0, where=[v < 0 for v in values], color=NEGATIVE, alpha=0.3,
                      interpolate=True)
    axes.set_ylim(-1, 1)
    axes.set_title(f"Average sentiment per hour ({_zone_name(tz)}; -1 to 1)", fontsize=9, color=INK, loc="left")
    return _png(figure, tz)


def charts(series: list[dict], tz=timezone.utc) -> dict[str, bytes]:
    """{"volume": png, "sentiment": png}, times in `tz`."""
    return {"volume": volume_chart(series, tz), "sentiment": sentiment_chart(series, tz)}
