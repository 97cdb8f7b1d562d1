"""The OpenAPI part of the admin feature: the health check."""
from __future__ import annotations


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /healthz (no sign-in)."""
    spec_paths.update({
        "/healthz": {"get": {"summary": "Health check (no auth)", "security": [],
                             "responses": {"200": {"description": "the database is reachable"},
                                           "503": {"description": "the database is unreachable"}}}},
    })
