"""The one password rule, shared by `flask create-user`, the admin's user form and /account.

Length is what matters for people (NIST SP 800-63B): at least MIN_PASSWORD characters, at most
MAX_PASSWORD (scrypt hashes any length, but a megabyte password is a denial of service), and no
NUL character (some clients cut strings there). Nothing else is demanded.
"""
from __future__ import annotations

MIN_PASSWORD = 10
MAX_PASSWORD = 1000
RULE = f"at least {MIN_PASSWORD} characters (at most {MAX_PASSWORD:,})"


def password_problem(password) -> str | None:
    """Why `password` cannot be used, as a sentence; None when it can."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    if len(password) > MAX_PASSWORD:
        return f"Use at most {MAX_PASSWORD:,} characters."
    if "\x00" in password:
        return "The password must not contain a NUL character."
    return None
