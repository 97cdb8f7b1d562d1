"""URL builders reused across the apps of one test process.

Every test makes an app, and Werkzeug compiles two URL-builder functions (an AST, then `compile`)
for each of the app's ~800 rules: about 70 ms of the 90 ms that `create_app` costs. A builder
depends only on its rule's parsed parts and defaults, and looks its converters up on the rule it is
bound to at call time (`.self._converters[...]`), so the same function serves every app's copy of the
rule. `install()` (called by tests/conftest.py) keeps the builders Werkzeug made, keyed by exactly
what they are made from; the app, its routes and the URLs it builds are unchanged. Test processes
only: production makes one app per process.
"""
from __future__ import annotations

from werkzeug.routing.rules import Rule

ORIGINAL = getattr(Rule, "_compile_builder", None)   # Werkzeug's own, kept for the check in tests/core


def _key(rule: Rule, append_unknown: bool) -> tuple:
    converters = tuple((name, type(conv).__qualname__, repr({k: v for k, v in vars(conv).items() if k != "map"}))
                       for name, conv in rule._converters.items())
    return (rule.rule, tuple(rule._trace), repr(list((rule.defaults or {}).items())), converters, append_unknown)


def install() -> None:
    """Wrap Rule._compile_builder with a per-process cache (once; a Werkzeug without it is left alone)."""
    original = ORIGINAL
    if original is None or getattr(Rule._compile_builder, "cached", False):
        return
    builders: dict[tuple, object] = {}

    def compile_builder(self, append_unknown: bool = True):
        key = _key(self, append_unknown)
        builder = builders.get(key)
        if builder is None:
            builder = builders[key] = original(self, append_unknown)
        return builder

    compile_builder.cached = True
    Rule._compile_builder = compile_builder
