"""A report as an HTML email (cid: images, plain-text alternative, optional PDF attachment), as a
PDF (WeasyPrint, offline: only data: URLs are fetched), and as a short summary for chat and
webhook notifiers.
"""
from __future__ import annotations

import base64
import uuid
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from flask import render_template

from webapp.reports.services.content import Content

LABELS = {"daily": "Daily", "weekly": "Weekly"}


def shown(value, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "count":
        return f"{value:,}"
    if unit == "share":
        return f"{value * 100:.1f} %"
    return f"{value:+.2f}"


def period_label(content: Content, tz) -> str:
    start, end = content.period.start.astimezone(tz), content.period.end.astimezone(tz)
    zone = getattr(tz, "key", None) or "UTC"
    return f"{start:%a %d %b %Y %H:%M} – {end:%a %d %b %Y %H:%M} ({zone})"


def context(content: Content, tz, link: str, images: dict[str, str]) -> dict:
    headline = [{**row, "shown": shown(row["value"], row["unit"]),
                 "previous_shown": shown(row["previous"], row["unit"])} for row in content.headline()]
    alerts = [{**a, "value_shown": "" if a["value"] is None else f"{a['value']:.3g}"} for a in content.alerts]
    return {"title": f"{LABELS.get(content.every, '')} report: {content.monitor_name}",
            "every_label": LABELS.get(content.every, content.every), "monitor_name": content.monitor_name,
            "period_label": period_label(content, tz), "headline": headline, "images": images,
            "positive": content.positive, "negative": content.negative, "alerts": alerts,
            "sections": content.sections, "link": link}


def html(content: Content, tz, link: str, images: dict[str, str]) -> str:
    return render_template("reports/email.html", **context(content, tz, link, images))


def text(content: Content, tz, link: str) -> str:
    """The plain-text alternative: the same facts, no images."""
    ctx = context(content, tz, link, {})
    lines = [ctx["title"], ctx["period_label"], ""]
    lines += [f"{row['name']}: {row['shown']} (previous {row['previous_shown']}, {row['change']})"
              for row in ctx["headline"]]
    for title, rows in (("Most positive mentions", content.positive), ("Most negative mentions", content.negative)):
        lines += ["", title + ":"]
        lines += [f"- [{m['compound']}] {m['text']} {m['url'] or ''}".rstrip() for m in rows] or ["- none"]
    for section in content.sections:
        lines += ["", section.get("title", section["name"]) + ":"]
        lines += ["- " + " · ".join(str(cell) for cell in row) for row in section.get("rows", [])]
    lines += ["", "Alerts of the period:"]
    lines += [f"- {a['at']} {a['status']} {a['rule']} {a['value_shown']}".rstrip() for a in ctx["alerts"]] or ["- none"]
    lines += ["", f"Open in Sentimon: {link}"]
    return "\n".join(lines) + "\n"


def pdf(content: Content, tz, link: str, charts: dict[str, bytes]) -> bytes:
    """The same report as a PDF (A4), images inlined as data: URLs; WeasyPrint may read data:
    URLs only, so rendering never reaches the network."""
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    images = {name: "data:image/png;base64," + base64.b64encode(png).decode("ascii") for name, png in charts.items()}
    page = html(content, tz, link, images)
    return HTML(string=page, url_fetcher=URLFetcher(allowed_protocols=("data",))).write_pdf()


def filename(content: Content, ext: str) -> str:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in content.monitor_name)[:60].strip("-")
    return f"sentimon-{safe or 'monitor'}-{content.period.end:%Y-%m-%d}.{ext}"


def email(content: Content, tz, link: str, charts: dict[str, bytes], sender: str, to: list[str],
          with_pdf: bool = False, now: datetime | None = None) -> EmailMessage:
    """multipart/mixed [ multipart/alternative [ text/plain, multipart/related [ text/html,
    image/png... ] ], application/pdf? ]: images referenced by cid:, the PDF attached."""
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "sentimon.localhost"
    tag = uuid.uuid4().hex[:12]
    cids = {name: f"<{name}.{tag}@{domain}>" for name in charts}
    msg = EmailMessage()
    msg["Subject"] = " ".join(f"[Sentimon] {LABELS.get(content.every, '')} report: {content.monitor_name}".split())[:250]
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = format_datetime(now or datetime.now(timezone.utc))
    msg["Message-ID"] = make_msgid("report", domain=domain)
    msg.set_content(text(content, tz, link))
    msg.add_alternative(html(content, tz, link, {name: "cid:" + cid[1:-1] for name, cid in cids.items()}),
                        subtype="html")
    html_part = msg.get_payload()[1]
    for name, png in charts.items():
        html_part.add_related(png, maintype="image", subtype="png", cid=cids[name], filename=f"{name}.png",
                              disposition="inline")
    if with_pdf:
        msg.add_attachment(pdf(content, tz, link, charts), maintype="application", subtype="pdf",
                           filename=filename(content, "pdf"))
    return msg


def summary(content: Content, tz, link: str, report_id: int, now: datetime) -> dict:
    """The `report.ready` event for webhooks and chat notifiers: headline figures and a link."""
    rows = content.headline()
    short = ", ".join(f"{row['name'].lower()} {shown(row['value'], row['unit'])} ({row['change']})"
                      for row in rows[:3])
    return {"type": "report.ready", "timestamp": now.isoformat(), "data": {
        "report": {"id": report_id, "every": content.every},
        "monitor": {"id": content.monitor_id, "name": content.monitor_name},
        "period": {"start": content.period.start.isoformat(), "end": content.period.end.isoformat(),
                   "label": period_label(content, tz)},
        "headline": [{k: row[k] for k in ("name", "value", "previous", "change")} for row in rows],
        "alerts": len(content.alerts),
        "text": f"{LABELS.get(content.every, '')} report for {content.monitor_name}: {short}.",
        "link": link}}
