"""Flask's JSON output on orjson: the same data as Flask's default provider, written faster.

Every API answer (`jsonify`) and every figure a page embeds (`|tojson`) is serialised here. The
output parses to exactly what Flask's default gives: keys sorted, dates as HTTP dates, UUIDs and
decimals as strings, dataclasses as dicts (Flask's own `default`). Only the spelling differs: UTF-8
instead of `\\uXXXX` escapes, no spaces after separators, and null for a NaN (the standard library
writes `NaN`, which is not JSON). Anything orjson does not take (an integer wider than 64 bits,
non-string keys, indentation asked for) goes through the default provider unchanged, so nothing
that worked before fails. Reading JSON stays with the default provider.
"""
from __future__ import annotations

from typing import Any

import orjson
from flask.json.provider import DefaultJSONProvider

_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
# keyword arguments that the fast path writes the same way (Flask's compact `response` separators,
# Jinja's tojson `sort_keys`); anything else (indent, ensure_ascii=False...) takes the default path
_SAME = {"separators": (",", ":"), "sort_keys": True}


class FastJSONProvider(DefaultJSONProvider):
    """DefaultJSONProvider whose `dumps` uses orjson when it can write the same data."""

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        if all(key in _SAME and _SAME[key] == value for key, value in kwargs.items()):
            try:
                return orjson.dumps(obj, default=self.default, option=_OPTIONS).decode()
            except TypeError:  # orjson.JSONEncodeError: wide integers, non-string keys, cycles...
                pass
        return super().dumps(obj, **kwargs)


def dumps(obj: Any) -> str:
    """`obj` (plain JSON data) as the app's provider writes it for `tojson`: keys sorted."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        import json

        return json.dumps(obj, sort_keys=True)
