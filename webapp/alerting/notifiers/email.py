"""Email over SMTP: `SMTP_URL` is smtp://[user:password@]host[:port][?starttls=1] or smtps://...

Each message has a plain-text and an HTML part (every value escaped), a link back to the
monitor, and a Message-ID derived from the delivery's message id, so a retried or redelivered
alert is the same message to mail clients.
"""
from __future__ import annotations

import html
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from urllib.parse import parse_qs, unquote, urlsplit

from email_validator import EmailNotValidError, validate_email

from webapp.alerting.notifiers.base import Context, NotifierInvalid, Outbound, SendResult, Target, excerpt

KIND = "email"
FIELDS = ("to",)     # what a request may give besides kind and name
LABEL = "Email"
MAX_RECIPIENTS = 20
TITLES = {"alert.firing": "FIRING", "alert.resolved": "RESOLVED", "alert.test": "TEST"}


@dataclass(frozen=True)
class SmtpTarget:
    ssl: bool
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    starttls: bool = False


def parse_smtp_url(url: str) -> SmtpTarget:
    """Split SMTP_URL; ValueError if it is not smtp:// or smtps://."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError(f"SMTP_URL must look like smtp://host:port or smtps://host, not {url!r}")
    query = parse_qs(parts.query)
    starttls = query.get("starttls", ["0"])[-1].lower() in ("1", "true", "yes")
    return SmtpTarget(parts.scheme == "smtps", parts.hostname, parts.port or (465 if parts.scheme == "smtps" else 25),
                      unquote(parts.username) if parts.username else None,
                      unquote(parts.password) if parts.password else None, starttls)


def clean_settings(data: dict, policy=None) -> tuple[dict, None]:
    """({"to": [addresses]}, no secret) from a request."""
    to = data.get("to")
    if isinstance(to, str):
        to = [part.strip() for part in to.replace(";", ",").replace("\n", ",").split(",") if part.strip()]
    if not isinstance(to, list) or not to:
        raise NotifierInvalid("to", "give at least one email address")
    if len(to) > MAX_RECIPIENTS:
        raise NotifierInvalid("to", f"at most {MAX_RECIPIENTS} addresses")
    clean = []
    for address in to:
        if not isinstance(address, str):
            raise NotifierInvalid("to", "addresses must be strings")
        try:
            clean.append(validate_email(address.strip(), check_deliverability=False).normalized)
        except EmailNotValidError as exc:
            raise NotifierInvalid("to", f"{address}: {exc}") from None
    return {"to": list(dict.fromkeys(clean))}, None


def _one_line(text) -> str:
    return " ".join(str(text).split())


def _is_web(url) -> bool:
    return isinstance(url, str) and url.startswith(("http://", "https://"))


def _fmt(value) -> str:
    if value is None:
        return "–"
    return f"{value:.3f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def render(payload: dict) -> tuple[str, str, str]:
    """(subject, text, html) of an alert message."""
    data = payload.get("data") or {}
    title = TITLES.get(payload.get("type"), "ALERT")
    rule = (data.get("rule") or {}).get("name") or "Test"
    monitor = (data.get("monitor") or {}).get("name") or "Sentimon"
    subject = _one_line(f"[Sentimon] {title}: {rule} · {monitor}")[:250]
    facts = [("Status", data.get("status")), ("Monitor", monitor), ("Rule", rule),
             ("Value", _fmt(data.get("value"))),
             ("Threshold", f"{data.get('op') or ''} {_fmt(data.get('threshold'))}".strip()),
             ("Window", data.get("window")), ("Time (UTC)", payload.get("timestamp"))]
    mentions = data.get("sample_mentions") or []
    more = data.get("more_mentions") or 0
    why = ((data.get("details") or {}).get("attribution") or {}).get("summary")   # a volume spike's
    facts += [("Why", _one_line(why)[:300])] if isinstance(why, str) else []
    lines = [f"{name}: {value}" for name, value in facts if value not in (None, "")]
    if mentions:
        lines += ["", "Sample mentions:"]
        lines += [f"- [{m.get('label', '')}] {_one_line(m.get('text', ''))[:300]} {m.get('url') or ''}".rstrip()
                  for m in mentions]
        if more:
            lines.append(f"… and {more} more")
    lines += ["", f"Open in Sentimon: {data.get('link', '')}"]
    e = html.escape
    rows = "".join(f"<tr><th align='left'>{e(name)}</th><td>{e(str(value))}</td></tr>"
                   for name, value in facts if value not in (None, ""))
    items = "".join(
        f"<li><strong>{e(m.get('label', ''))}</strong> {e(_one_line(m.get('text', ''))[:300])}"
        + (f" <a href=\"{e(m['url'])}\">link</a>" if _is_web(m.get("url")) else "") + "</li>" for m in mentions)
    page = (f"<html><body><h2>{e(title)}: {e(rule)}</h2><table>{rows}</table>"
            + (f"<h3>Sample mentions</h3><ul>{items}</ul>" if items else "")
            + (f"<p>… and {int(more)} more</p>" if more else "")
            + f"<p><a href=\"{e(data.get('link', ''))}\">Open in Sentimon</a></p></body></html>")
    return subject, "\n".join(lines) + "\n", page


def message_id(webhook_id: str, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1] if "@" in sender else "sentimon.localhost"
    return f"<{webhook_id}@{domain}>"


def build_message(payload: dict, webhook_id: str, sender: str, to: list[str],
                  now: datetime | None = None) -> EmailMessage:
    subject, text, page = render(payload)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Message-ID"] = message_id(webhook_id, sender)
    msg["Date"] = format_datetime(now or datetime.now(timezone.utc))
    msg.set_content(text)
    msg.add_alternative(page, subtype="html")
    return msg


def send_mail(smtp_url: str, sender: str, to: list[str], msg: EmailMessage, timeout: float = 10.0) -> dict:
    """Send `msg` (raises smtplib / OSError errors); returns the refused recipients."""
    target = parse_smtp_url(smtp_url)
    if target.ssl:
        client = smtplib.SMTP_SSL(target.host, target.port, timeout=timeout,
                                  context=ssl.create_default_context())
    else:
        client = smtplib.SMTP(target.host, target.port, timeout=timeout)
    with client:
        if target.starttls and not target.ssl:
            client.starttls(context=ssl.create_default_context())
        if target.username:
            client.login(target.username, target.password or "")
        return client.send_message(msg, from_addr=sender, to_addrs=to)


def send(target: Target, message: Outbound, ctx: Context) -> SendResult:
    to = list((target.settings or {}).get("to") or [])
    started = time.monotonic()

    def done(**fields) -> SendResult:
        return SendResult(latency_ms=round(1000 * (time.monotonic() - started)), **fields)

    try:
        msg = build_message(message.payload, message.webhook_id, ctx.smtp_from, to)
        refused = send_mail(ctx.smtp_url, ctx.smtp_from, to, msg, ctx.smtp_timeout)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        temporary = any(400 <= code < 500 for code in codes)
        return done(ok=False, status=codes[0] if codes else None,
                    error_code="smtp_temporary" if temporary else "smtp_permanent",
                    error=f"recipients refused: {exc.recipients}")
    except smtplib.SMTPResponseException as exc:
        temporary = 400 <= exc.smtp_code < 500
        return done(ok=False, status=exc.smtp_code, error_code="smtp_temporary" if temporary else "smtp_permanent",
                    error=f"SMTP {exc.smtp_code}: {exc.smtp_error!r}")
    except (socket.timeout, TimeoutError) as exc:
        return done(ok=False, error_code="timeout", error=f"SMTP server timed out: {exc}")
    except (smtplib.SMTPException, OSError) as exc:
        return done(ok=False, error_code="connect", error=f"{type(exc).__name__}: {exc}")
    except ValueError as exc:   # a bad SMTP_URL: nothing to retry until it is fixed
        return done(ok=False, error_code="config", error=str(exc))
    summary = f"accepted for {len(to) - len(refused)} recipient(s)"
    if refused:
        summary += f"; refused: {', '.join(refused)}"
    return done(ok=True, status=250, excerpt=excerpt(summary))


def default_name(settings: dict) -> str:
    return f"email {settings['to'][0]}"[:120]


def shown(settings: dict) -> dict:
    """What the API and the pages show of the settings."""
    return {"to": list(settings.get("to", []))}


def target(settings: dict) -> str:
    return ", ".join(settings.get("to", []))


def sent_sentence(name: str, status, latency_ms) -> str:
    return f"Test sent to “{name}”."
