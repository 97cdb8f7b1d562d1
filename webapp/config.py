"""Settings, read from the environment once when the app is created.

Every setting has a default that makes the embedded mode work with nothing installed:
SQLite files under the instance folder for the data, Celery's broker and the bus. Outside
the embedded default (any non-SQLite database) a SECRET_KEY must be given.
"""
from __future__ import annotations

import os
import secrets
from pathlib import Path

EMBEDDED_BUS = "sql://"


class ConfigError(RuntimeError):
    """A setting is missing or malformed; raised at start, never later."""


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def embedded_urls(instance_path: str | os.PathLike) -> dict[str, str]:
    """The embedded default's URLs, all SQLite files in the instance folder."""
    base = Path(instance_path)
    return {
        "DATABASE_URL": sqlite_url(base / "sentimon.sqlite"),
        "CELERY_BROKER_URL": "sqla+" + sqlite_url(base / "celery-broker.sqlite"),
        "CELERY_RESULT_BACKEND": "db+" + sqlite_url(base / "celery-results.sqlite"),
        "BUS_URL": EMBEDDED_BUS,
    }


def _secret_key(instance_path: Path, embedded: bool) -> str:
    """SECRET_KEY from the environment, else (embedded only) one kept in the instance folder."""
    key = os.environ.get("SECRET_KEY", "").strip()
    if key:
        return key
    if not embedded:
        raise ConfigError(
            "SECRET_KEY must be set when Sentimon runs outside the embedded default "
            "(DATABASE_URL is not SQLite). Generate one with: "
            "python -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
    key_file = instance_path / "secret_key"
    if not key_file.exists():
        instance_path.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {raw!r}") from exc


def from_environment(instance_path: str) -> dict:
    """Build the Flask config mapping from environment variables (and `.env`, loaded by Flask)."""
    from dotenv import load_dotenv

    load_dotenv(override=False)  # `.env` in the working directory, if present
    defaults = embedded_urls(instance_path)
    cfg = {name: os.environ.get(name, "").strip() or value for name, value in defaults.items()}
    embedded = cfg["DATABASE_URL"].startswith("sqlite")
    cfg.update(
        SQLALCHEMY_DATABASE_URI=cfg["DATABASE_URL"],
        SECRET_KEY=_secret_key(Path(instance_path), embedded),
        SMTP_URL=os.environ.get("SMTP_URL", "").strip() or "smtp://127.0.0.1:1025",
        SMTP_FROM=os.environ.get("SMTP_FROM", "").strip() or "sentimon@localhost",
        PUBLIC_URL=(os.environ.get("PUBLIC_URL", "").strip() or "http://127.0.0.1:5000").rstrip("/"),
        ALERTS_LAG_SECONDS=_int("ALERTS_LAG_SECONDS", 120),
        EGRESS_ALLOW=os.environ.get("EGRESS_ALLOW", "").strip(),
        PORT=_int("PORT", 5000),
        NLTK_DATA=os.environ.get("NLTK_DATA", "").strip(),
        BUS_CONSUMER_IN_WORKER=os.environ.get("BUS_CONSUMER_IN_WORKER", "1").strip() != "0",
        BUS_BATCH_SIZE=_int("BUS_BATCH_SIZE", 500),
        BEAT_LEASE_SECONDS=_int("BEAT_LEASE_SECONDS", 30),
        EMBEDDED=embedded,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=_int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
    )
    return cfg
