"""The orjson provider writes the same data as Flask's default JSON provider (core/web/json_provider.py)."""
from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import date, datetime, timezone
from decimal import Decimal

import pytest
from flask import Flask, render_template_string
from flask.json.provider import DefaultJSONProvider
from markupsafe import Markup

from webapp.core.web.json_provider import FastJSONProvider


@dataclasses.dataclass
class Point:
    y: int
    x: str


VALUES = [
    {"b": 1, "a": [1.5, None, True, "é ✓ 😀 </script>"], "c": {"z": 0.1, "y": -2e-05}},
    {"when": datetime(2026, 5, 1, 12, 30, tzinfo=timezone.utc), "day": date(2026, 1, 2)},
    {"id": uuid.UUID("12345678-1234-5678-1234-567812345678"), "amount": Decimal("1.10")},
    {"point": Point(2, "a"), "html": Markup("<b>x</b>")},
    {"wide": 2**70, "neg": -(2**64)},          # wider than orjson takes: the default path
    {1: "int key", 2: "another"},              # non-string keys: the default path
    [1e300, -0.0, 123456789.123456789],
]


@pytest.fixture
def providers():
    app = Flask(__name__)
    return FastJSONProvider(app), DefaultJSONProvider(app)


@pytest.mark.parametrize("value", VALUES)
@pytest.mark.parametrize("kwargs", [{}, {"separators": (",", ":")}, {"sort_keys": True}, {"indent": 2}])
def test_same_data_as_the_default_provider(providers, value, kwargs):
    fast, default = providers
    assert json.loads(fast.dumps(value, **kwargs)) == json.loads(default.dumps(value, **kwargs))


def test_keys_sorted_and_compact(providers):
    fast, _ = providers
    assert fast.dumps({"b": 1, "a": {"d": 2, "c": 3}}) == '{"a":{"c":3,"d":2},"b":1}'


def test_indent_asked_for_takes_the_default_path(providers):
    fast, default = providers
    assert fast.dumps({"a": [1]}, indent=2) == default.dumps({"a": [1]}, indent=2)


def test_unserialisable_still_raises(providers):
    fast, _ = providers
    with pytest.raises(TypeError):
        fast.dumps({"a": object()})


def test_app_answers_and_tojson_use_it(tmp_path):
    from tests.helpers import app_config
    from webapp import create_app

    app = create_app(app_config(tmp_path))
    assert isinstance(app.json, FastJSONProvider)
    with app.test_request_context():
        embedded = render_template_string("{{ v|tojson }}", v={"t": "</script><b>", "n": 1})
        assert "<" not in embedded and json.loads(embedded) == {"n": 1, "t": "</script><b>"}
        response = app.json.response({"b": "é", "a": 1})
        assert json.loads(response.get_data()) == {"a": 1, "b": "é"}
