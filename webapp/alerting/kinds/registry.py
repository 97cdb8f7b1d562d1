"""The rule kind registry: kind name -> RuleKind, the one table every alerting module looks up.

It lives apart from `kinds/__init__.py` (which registers the built-in kinds) so that the
base module can resolve a kind's declared defaults without importing the kinds themselves.
"""
from __future__ import annotations

REGISTRY: dict = {}   # kind name -> RuleKind, in registration order


class UnknownRuleKind(KeyError):
    """No rule kind is registered under the requested name."""

    def __init__(self, kind):
        super().__init__(kind)
        self.kind = kind

    def __str__(self) -> str:  # KeyError's own str() would only repr the key
        return f"unknown rule kind {self.kind!r} (known kinds: {', '.join(REGISTRY) or 'none'})"


def register(kind):
    """Add `kind` (a RuleKind instance) under its name; one name, one kind."""
    if not kind.name or kind.name in REGISTRY:
        raise ValueError(f"rule kind {kind.name!r} is empty or already registered")
    REGISTRY[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a kind (for tests that register one of their own)."""
    REGISTRY.pop(name, None)


def get_kind(name):
    """The RuleKind registered as `name`; UnknownRuleKind if there is none."""
    try:
        return REGISTRY[name]
    except (KeyError, TypeError):  # TypeError: an unhashable value from a JSON body
        raise UnknownRuleKind(name) from None


def all_kinds() -> tuple:
    """The registered kinds in registration order (also the cache key of models built from them)."""
    return tuple(REGISTRY.values())
