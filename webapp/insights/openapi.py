"""The OpenAPI part of insights: the series of a monitor, read from rollups."""
from __future__ import annotations

from webapp.core.openapi import BAD, ERROR, MONITOR_ID, _json, _params, _ref


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /monitors/{id}/series and its Bucket."""
    spec_schemas["Bucket"] = {"type": "object", "properties": {
        "start": {"type": "string", "format": "date-time"}, "count": {"type": "integer"},
        "avg_compound": {"type": ["number", "null"]}, "positive": {"type": "integer"},
        "neutral": {"type": "integer"}, "negative": {"type": "integer"}}}
    bad = BAD
    spec_paths.update({
        "/api/v1/monitors/{monitor_id}/series": {"get": {
            "summary": "Mentions and sentiment per time bucket, read from rollups",
            "parameters": [MONITOR_ID, *_params(
                ("bucket", {"type": "string", "enum": ["15m", "1h", "1d"], "default": "1h"}, "bucket size"),
                ("start", {"type": "string", "format": "date-time"}, "default: end minus 1 day / 7 days / 90 days"),
                ("end", {"type": "string", "format": "date-time"}, "default: now"),
                ("source_id", {"type": "integer"}, "one source only"))],
            "responses": {"200": {"description": "buckets, oldest first", **_json({"type": "object", "properties": {
                "buckets": {"type": "array", "items": _ref("Bucket")}}})}, "404": ERROR, **bad}}},
    })
    extend_audience(spec_schemas, spec_paths)


def extend_audience(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /monitors/{id}/authors and /languages."""
    rng = ("range", {"type": "string", "enum": ["24h", "7d", "30d", "90d"], "default": "7d"}, "the period")
    spec_schemas["Author"] = {"type": "object", "properties": {
        "author": {"type": "string"}, "mentions": {"type": "integer"}, "reach": {"type": "integer"},
        "engagement": {"type": "integer"}, "influence": {"type": "number", "minimum": 0, "maximum": 10},
        "avg_compound": {"type": ["number", "null"]}}}
    spec_schemas["Language"] = {"type": "object", "properties": {
        "lang": {"type": "string"}, "count": {"type": "integer"},
        "scored": {"type": "integer", "description": "how many have a sentiment score"},
        "mixed": {"type": "integer"}, "reach": {"type": "integer"}}}
    spec_paths.update({
        "/api/v1/monitors/{monitor_id}/authors": {"get": {
            "summary": "Top authors by influence (0-10, from reach and engagement)",
            "parameters": [MONITOR_ID, *_params(rng, ("limit", {"type": "integer", "minimum": 1, "maximum": 200,
                                                                 "default": 20}, "how many"))],
            "responses": {"200": {"description": "authors, most influential first", **_json({
                "type": "object", "properties": {"authors": {"type": "array", "items": _ref("Author")}}})},
                "404": ERROR, **BAD}}},
        "/api/v1/monitors/{monitor_id}/languages": {"get": {
            "summary": "Mentions per language (ISO 639-1 or und)",
            "parameters": [MONITOR_ID, *_params(rng)],
            "responses": {"200": {"description": "languages, most mentions first", **_json({
                "type": "object", "properties": {"languages": {"type": "array", "items": _ref("Language")}}})},
                "404": ERROR, **BAD}}},
    })
