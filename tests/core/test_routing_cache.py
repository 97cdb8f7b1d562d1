"""The test processes' shared URL builders (tests/routing_cache.py) are the ones Werkzeug compiles."""
from __future__ import annotations

from flask import url_for

from webapp import create_app

from tests import routing_cache
from tests.helpers import app_config


def test_every_rule_of_a_second_app_has_the_builders_werkzeug_compiles_for_it(app, tmp_path):
    second = create_app(app_config(tmp_path / "second"))   # its builders come from the cache
    rules = list(second.url_map.iter_rules())
    assert len(rules) > 100
    for rule in rules:
        for append_unknown, bound in ((False, rule._build), (True, rule._build_unknown)):
            fresh = routing_cache.ORIGINAL(rule, append_unknown)
            assert bound.__func__.__code__ == fresh.__code__, rule.rule
    assert rules[0]._build.__func__.__code__ != routing_cache.ORIGINAL(rules[1], False).__code__
    with second.test_request_context():
        assert url_for("static", filename="a b.css", v=2) == "/static/a%20b.css?v=2"
