"""The OpenAPI part of monitor editing and query preview (merged into build_spec's document)."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.monitors.api import MonitorPatch, PreviewIn
from webapp.core.openapi import ERROR, MONITOR_ID, REF, _json, _ref


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add PATCH /monitors/{id}, POST /monitors/{id}/preview and the `backfilled` mention field."""
    _, defs = models_json_schema([(m, "validation") for m in (MonitorPatch, PreviewIn)], ref_template=REF)
    spec_schemas.update(defs["$defs"])
    mention = spec_schemas.get("Mention", {}).setdefault("properties", {})
    mention["backfilled"] = {"type": "boolean", "description": "fetched from history by a backfill"}
    spec_schemas["PreviewItem"] = {"type": "object", "properties": {
        **{k: v for k, v in mention.items()},
        "highlights": {"type": "array", "description": "[start, end) character offsets of the matching words",
                       "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2}}}}
    bad = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "415": ERROR, "422": ERROR}
    spec_paths.setdefault("/api/v1/monitors/{monitor_id}", {})["patch"] = {
        "summary": "Rename a monitor or change its query (editors)", "parameters": [MONITOR_ID],
        "requestBody": {"required": True, **_json(_ref("MonitorPatch"))},
        "responses": {"200": {"description": "the monitor"}, **bad}}
    spec_paths["/api/v1/monitors/{monitor_id}/preview"] = {"post": {
        "summary": "Test a query on the newest 5,000 stored mentions of the last 7 days",
        "parameters": [MONITOR_ID], "requestBody": {"required": True, **_json(_ref("PreviewIn"))},
        "responses": {"200": {"description": "how many matched, and up to 50 of them, newest first",
                              **_json({"type": "object", "properties": {
                                  "query": {"type": "string"}, "matches": {"type": "integer"},
                                  "scanned": {"type": "integer"}, "since": {"type": "string", "format": "date-time"},
                                  "items": {"type": "array", "items": _ref("PreviewItem")}}})}, **bad}}}
