"""Checks for adapter settings: API base URLs, web URLs, text, numbers and choices.

Each check returns the cleaned value or raises SourceSettingsError(field, message) so that
forms and the API can show the message next to the field. Two wordings exist because the
adapters were written in two groups (the social adapters say "the base URL"/"must be a
string", the news and API adapters "The API address"/"must be text"); the checks themselves
share one implementation below.
"""
from __future__ import annotations

from urllib.parse import urlsplit

from webapp.core import egress
from webapp.core.limits import MAX_URL
from webapp.monitors.sources.base import SourceError, SourceSettingsError
from webapp.core.numbers import digits_as_int


def settings_object(settings) -> dict:
    """`settings` if it is a dict; SourceSettingsError otherwise."""
    if not isinstance(settings, dict):
        raise SourceSettingsError("", "settings must be an object")
    return settings


def with_optional(clean: dict, *, query: str | None, base_url: str, default_base_url: str) -> dict:
    """`clean` plus the optional search (when set) and base URL (when not the default)."""
    if query:
        clean["query"] = query
    if base_url != default_base_url:
        clean["base_url"] = base_url
    return clean


def is_empty(value) -> bool:
    """None, or a string of whitespace: a setting left empty."""
    return value is None or (isinstance(value, str) and not value.strip())


# -- URLs ------------------------------------------------------------------------------

def _http_parts(url: str, field: str, label: str):
    """urlsplit(url) of an absolute http(s) URL with a host; SourceSettingsError otherwise."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise SourceSettingsError(field, f"{label} is not a valid URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise SourceSettingsError(field, f"{label} must be an http:// or https:// URL with a host")
    return parts


def check_egress(url: str, policy, field: str, label: str) -> None:
    """Nothing when the egress policy may reach `url` (no DNS lookup here); else SourceSettingsError."""
    if policy is None:
        return
    try:
        egress.check_url(url, policy, resolve=False)
    except egress.EgressError as exc:
        raise SourceSettingsError(field, f"{label} cannot be used: {egress.refusal_text(exc)}") from None


def clean_base_url(value, default: str, policy=None, field: str = "base_url",
                   label: str = "the base URL") -> str:
    """An absolute http(s) URL without query or fragment and without a trailing '/'."""
    if is_empty(value):
        return default
    if not isinstance(value, str):
        raise SourceSettingsError(field, f"{label} must be a string")
    url = value.strip().rstrip("/")
    if len(url) > 512:
        raise SourceSettingsError(field, f"{label} is longer than 512 characters")
    parts = _http_parts(url, field, label)
    if parts.query or parts.fragment or parts.username or parts.password:
        raise SourceSettingsError(field, f"{label} must not carry a query, fragment or credentials")
    check_egress(url + "/", policy, field, label)
    return url


def check_web_url(value, policy=None, field: str = "url", label: str = "The address") -> str:
    """An absolute http(s) URL without credentials that the egress policy may reach, stripped.

    Without a policy only the syntax is checked (as for feed URLs); the egress client checks
    every request again anyway, after DNS resolution.
    """
    if not isinstance(value, str) or not value.strip():
        raise SourceSettingsError(field, f"{label} is required")
    url = value.strip()
    if len(url) > MAX_URL:
        raise SourceSettingsError(field, f"{label} is longer than {MAX_URL} characters")
    parts = _http_parts(url, field, label)
    if "@" in parts.netloc:
        raise SourceSettingsError(field, f"{label} must not contain credentials")
    check_egress(url, policy, field, label)
    return url


def check_base_url(value, default: str, policy=None, field: str = "base_url") -> str:
    """An API base URL (see check_web_url) without query or trailing '/'; `default` when empty."""
    if is_empty(value):
        return default
    if not isinstance(value, str):
        raise SourceSettingsError(field, "the API address must be text")
    url = check_web_url(value.strip().rstrip("/"), policy, field, "The API address")
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        raise SourceSettingsError(field, "the API address must not have a query or fragment")
    return url


# -- text, numbers, choices ------------------------------------------------------------

def _text(value, field: str, label: str, max_length: int, required: bool, *, not_text: str,
          bad_char, bad_char_message: str) -> str | None:
    """The shared text check: stripped, at most `max_length`, no character `bad_char` refuses."""
    if is_empty(value):
        if required:
            raise SourceSettingsError(field, f"{label} is required")
        return None
    if not isinstance(value, str):
        raise SourceSettingsError(field, f"{label} {not_text}")
    value = value.strip()
    if len(value) > max_length:
        raise SourceSettingsError(field, f"{label} is longer than {max_length} characters")
    if any(bad_char(ch) for ch in value):
        raise SourceSettingsError(field, f"{label} {bad_char_message}")
    return value


def clean_text(value, field: str, label: str, max_length: int, required: bool = False) -> str | None:
    """A stripped, non-empty string of at most `max_length` characters (None when optional and empty)."""
    return _text(value, field, label, max_length, required, not_text="must be a string",
                 bad_char=lambda ch: ord(ch) < 32,
                 bad_char_message="must not contain control characters")


def text_setting(settings: dict, name: str, label: str, max_len: int = 500,
                 required: bool = False) -> str | None:
    """The text setting `name`, stripped and on a single line; None when empty and optional."""
    return _text(settings.get(name), name, label, max_len, required, not_text="must be text",
                 bad_char=lambda ch: ch in "\r\n\x00", bad_char_message="must be a single line")


def clean_int(value, field: str, default: int, low: int, high: int) -> int:
    """An int in [low, high]; accepts ints and digit strings (form input); default when empty."""
    if value is None or value == "":
        return default
    value = digits_as_int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise SourceSettingsError(field, f"{field} must be a whole number")
    if not low <= value <= high:
        raise SourceSettingsError(field, f"{field} must be from {low} to {high}")
    return value


def clean_choice(value, field: str, choices: tuple[str, ...], default: str) -> str:
    """One of `choices` (case-insensitive, answered in lower case); `default` when empty."""
    if is_empty(value):
        return default
    if not isinstance(value, str) or value.strip().lower() not in choices:
        raise SourceSettingsError(field, f"{field} must be one of: {', '.join(choices)}")
    return value.strip().lower()


def require(settings: dict, name: str, what: str) -> str:
    """A setting the fetch cannot do without; SourceError('settings') when it is missing."""
    value = (settings or {}).get(name)
    if not isinstance(value, str) or not value.strip():
        raise SourceError("settings", f"the source has no {what}")
    return value.strip()
