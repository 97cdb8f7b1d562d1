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


def _seconds(name: str, default: float) -> float:
    """A number of seconds >= 0 (a fraction allowed) from the environment, else ConfigError."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 86_400:
        raise ConfigError(f"{name} must be a number of seconds from 0 to 86400, got {raw!r}")
    return value


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
        # Larger batches share each SQL round trip among more mentions (bench/bench_rest.py);
        # SQLite keeps shorter write transactions, since web pushes wait on its one writer.
        BUS_BATCH_SIZE=_int("BUS_BATCH_SIZE", 500 if embedded else 2000),
        BEAT_LEASE_SECONDS=_int("BEAT_LEASE_SECONDS", 30),
        EMBEDDED=embedded,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        MAX_CONTENT_LENGTH=_int("MAX_CONTENT_LENGTH", 16 * 1024 * 1024),
        DASHBOARD_CACHE_SECONDS=_int("DASHBOARD_CACHE_SECONDS", 5),
        # The monitor pages fetch every new source once before saving it (refused if it cannot work).
        SOURCE_CHECK_ON_SAVE=_flag("SOURCE_CHECK_ON_SAVE", True),
        TERMS_CACHE_SECONDS=_int("TERMS_CACHE_SECONDS", 5),
        # A mentions-page search statement stopped after this long (PostgreSQL; 0: never).
        SEARCH_TIMEOUT_SECONDS=_seconds("SEARCH_TIMEOUT_SECONDS", 10.0),
    )
    cfg.update(_security_settings(cfg))
    cfg.update(_metrics_settings())
    return cfg


def _metrics_settings() -> dict:
    """/metrics: the multiprocess sample folder ('' = <instance>/prometheus) and its bearer token."""
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    if folder and folder == os.environ.get("SENTIMON_METRICS_AUTO_DIR"):
        folder = ""  # inherited from a parent's default, not chosen: use this instance's default
    return {"PROMETHEUS_MULTIPROC_DIR": folder, "METRICS_TOKEN": os.environ.get("METRICS_TOKEN", "").strip(),
            "WORKER_METRICS_PORT": _int("WORKER_METRICS_PORT", 0),
            "WORKER_METRICS_ADDRESS": os.environ.get("WORKER_METRICS_ADDRESS", "127.0.0.1").strip()}


def _flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    return raw in ("1", "true", "yes", "on")


def _security_settings(cfg: dict) -> dict:
    """Cookies, secrets at rest, login throttling and the proxy in front (see README 'Security')."""
    from webapp.core.crypto import check_keys

    encryption_key = os.environ.get("ENCRYPTION_KEY", "").strip()
    try:
        check_keys(encryption_key)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    https = cfg["PUBLIC_URL"].lower().startswith("https://")
    secure = _flag("SESSION_COOKIE_SECURE", https)
    return {
        "ENCRYPTION_KEY": encryption_key,
        "PREFERRED_URL_SCHEME": "https" if https else "http",
        "SESSION_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_SECURE": secure,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        # Empty: Redis when CELERY_BROKER_URL is redis://, else the SQL database (login_throttle).
        "RATELIMIT_STORAGE_URL": os.environ.get("RATELIMIT_STORAGE_URL", "").strip(),
        "RATELIMIT_KEY_PREFIX": os.environ.get("RATELIMIT_KEY_PREFIX", "").strip() or "sentimon:login:",
        "LOGIN_MAX_ATTEMPTS": _int("LOGIN_MAX_ATTEMPTS", 20),
        "LOGIN_MAX_ATTEMPTS_PER_IP": _int("LOGIN_MAX_ATTEMPTS_PER_IP", 20),
        "LOGIN_WINDOW_SECONDS": _int("LOGIN_WINDOW_SECONDS", 900),
        "PROXY_FIX_HOPS": _int("PROXY_FIX_HOPS", 0),
    }
