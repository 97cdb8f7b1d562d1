"""Secrets at rest: webhook signing secrets and source credentials, sealed with Fernet.

A sealed value is a string `enc:v1:<Fernet token>` (a text value) or `enc:v1j:<Fernet token>`
(any other JSON value, e.g. the json source's `headers` object). The models seal on
assignment (`Notifier.secret`, the credential keys of `Source.settings`), so nothing else has
to remember to; code reveals a value only at the one place that uses it (the adapter's request,
the webhook signature). A value without the prefix is plaintext and `reveal` passes it through,
which keeps settings typed into a form (a preview, a test fetch) working unchanged.

Keys: ENCRYPTION_KEY holds one or more comma-separated Fernet keys (`Fernet.generate_key()`);
the first one seals, every one of them opens (MultiFernet), so a new key can be put in front and
old values re-sealed with `rotate`. When ENCRYPTION_KEY is empty a key is derived from SECRET_KEY
with HKDF-SHA256, so changing SECRET_KEY then makes stored secrets unreadable.
"""
from __future__ import annotations

import base64
import json
from functools import lru_cache
from typing import Any

PREFIX = "enc:v1:"
JSON_PREFIX = "enc:v1j:"
# Keys of Source.settings that hold credentials. Every adapter field marked `secret=True` must
# be listed here (tests/test_security_secrets.py checks it), so that the model seals it.
CREDENTIAL_KEYS = frozenset({"app_password", "bearer_token", "api_key", "token", "client_secret",
                             "headers", "password"})
_HKDF_SALT = b"sentimon-secrets-at-rest-v1"
_HKDF_INFO = b"sentimon fernet key"


class SecretUnreadable(ValueError):
    """A sealed value that none of the configured keys opens (ENCRYPTION_KEY or SECRET_KEY changed)."""


def check_keys(encryption_key: str) -> None:
    """Raise ValueError naming the problem if ENCRYPTION_KEY is not a list of Fernet keys."""
    from cryptography.fernet import Fernet

    for position, key in enumerate(_split(encryption_key), start=1):
        try:
            Fernet(key)
        except (ValueError, TypeError):
            raise ValueError(f"ENCRYPTION_KEY: key {position} is not a Fernet key (32 url-safe "
                             "base64-encoded bytes, e.g. from "
                             "`python -c 'from cryptography.fernet import Fernet; "
                             "print(Fernet.generate_key().decode())'`)") from None


def _split(encryption_key: str) -> list[str]:
    return [k.strip() for k in (encryption_key or "").split(",") if k.strip()]


def derived_key(secret_key: str) -> bytes:
    """The Fernet key derived from SECRET_KEY (HKDF-SHA256), used when ENCRYPTION_KEY is empty."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    raw = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
        secret_key.encode("utf-8"))
    return base64.urlsafe_b64encode(raw)


@lru_cache(maxsize=16)
def keyring(encryption_key: str, secret_key: str):
    """A MultiFernet of the configured keys (the first seals), or of the SECRET_KEY-derived one."""
    from cryptography.fernet import Fernet, MultiFernet

    keys = _split(encryption_key)
    if keys:
        check_keys(encryption_key)
        return MultiFernet([Fernet(k) for k in keys])
    if not secret_key:
        raise ValueError("neither ENCRYPTION_KEY nor SECRET_KEY is set: secrets cannot be sealed")
    return MultiFernet([Fernet(derived_key(secret_key))])


def current_keyring():
    """The keyring of the current Flask app's configuration."""
    from flask import current_app

    return keyring(current_app.config.get("ENCRYPTION_KEY", "") or "",
                   current_app.config.get("SECRET_KEY", "") or "")


def migration_keyring():
    """The keyring for a migration: the current app's, or, when alembic runs outside a Flask app,
    the one of ENCRYPTION_KEY and SECRET_KEY in the environment (migrations 0007, 0029)."""
    import os

    try:
        return current_keyring()
    except RuntimeError:
        return keyring(os.environ.get("ENCRYPTION_KEY", ""), os.environ.get("SECRET_KEY", ""))


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and (value.startswith(PREFIX) or value.startswith(JSON_PREFIX))


def seal(value: Any, ring=None) -> Any:
    """`value` sealed; None, "" and already sealed values are returned as they are."""
    if value is None or value == "" or is_sealed(value):
        return value
    ring = ring or current_keyring()
    if isinstance(value, str):
        return PREFIX + ring.encrypt(value.encode("utf-8")).decode("ascii")
    return JSON_PREFIX + ring.encrypt(json.dumps(value).encode("utf-8")).decode("ascii")


def reveal(value: Any, ring=None) -> Any:
    """The plain value of a sealed one; anything not sealed is returned unchanged."""
    if not is_sealed(value):
        return value
    from cryptography.fernet import InvalidToken

    ring = ring or current_keyring()
    is_json = value.startswith(JSON_PREFIX)
    token = value[len(JSON_PREFIX if is_json else PREFIX):].encode("ascii")
    try:
        plain = ring.decrypt(token).decode("utf-8")
    except InvalidToken:
        raise SecretUnreadable("a stored secret cannot be decrypted: ENCRYPTION_KEY (or SECRET_KEY, "
                               "when ENCRYPTION_KEY is empty) no longer holds the key it was sealed "
                               "with; enter the credential again") from None
    return json.loads(plain) if is_json else plain


def rotate(value: Any, ring=None) -> Any:
    """A sealed value re-sealed with the first key (after a new key was put in front)."""
    if not is_sealed(value):
        return seal(value, ring)
    from cryptography.fernet import InvalidToken

    ring = ring or current_keyring()
    prefix = JSON_PREFIX if value.startswith(JSON_PREFIX) else PREFIX
    try:
        return prefix + ring.rotate(value[len(prefix):].encode("ascii")).decode("ascii")
    except InvalidToken:
        raise SecretUnreadable("a stored secret cannot be decrypted with any key of ENCRYPTION_KEY: "
                               "keep the old key in the list until the secrets are rotated") from None


def seal_settings(settings: dict | None, ring=None) -> dict | None:
    """A copy of source settings with every credential key sealed (other keys untouched)."""
    if not isinstance(settings, dict):
        return settings
    if not any(k in CREDENTIAL_KEYS and not is_sealed(v) and v not in (None, "")
               for k, v in settings.items()):
        return settings
    ring = ring or current_keyring()
    return {k: seal(v, ring) if k in CREDENTIAL_KEYS else v for k, v in settings.items()}


def rotate_settings(settings: dict | None, ring=None) -> dict | None:
    """A copy of settings with every sealed value re-sealed with the first key (`rotate`); the
    same object when none is sealed."""
    if not isinstance(settings, dict) or not any(is_sealed(v) for v in settings.values()):
        return settings
    ring = ring or current_keyring()
    return {k: rotate(v, ring) if is_sealed(v) else v for k, v in settings.items()}


def reveal_settings(settings: dict | None, ring=None) -> dict | None:
    """A copy of source settings with every sealed value opened (for the adapter's fetch only)."""
    if not isinstance(settings, dict) or not any(is_sealed(v) for v in settings.values()):
        return settings
    ring = ring or current_keyring()
    return {k: reveal(v, ring) for k, v in settings.items()}
