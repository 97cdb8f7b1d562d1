"""Page numbers read from query strings, bounded, for every paginated page.

A page number is a whole number from 1 to MAX_PAGE (the mention list's bound); anything else
(missing, unreadable, zero, negative, past 2**63) is page 1 or MAX_PAGE, never an OFFSET the
database driver cannot bind (a 500)."""
from __future__ import annotations

from collections.abc import Mapping

from webapp.core.numbers import digits_only

MAX_PAGE = 1_000_000


def page_number(args: Mapping[str, str], name: str = "page") -> int:
    text = (args.get(name) or "").strip()
    if not digits_only(text):
        return 1
    return min(max(int(text[:8]) if len(text) <= 8 else MAX_PAGE, 1), MAX_PAGE)
