"""The OpenAPI part of monitors: list, read, create, rename or re-query, and the query preview."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.core.openapi import BAD, ERROR, MONITOR_ID, REF, _json, _ref
from webapp.monitors.api import MonitorPatch, PreviewIn
from webapp.monitors.schemas import MonitorIn, SourceIn


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET/POST /monitors, GET/PATCH /monitors/{id}, POST /monitors/{id}/preview, their shapes
    and the `backfilled` mention field."""
    _, defs = models_json_schema([(m, "validation") for m in (SourceIn, MonitorIn, MonitorPatch, PreviewIn)],
                                 ref_template=REF)
    spec_schemas.update(defs["$defs"])
    bad = BAD
    spec_paths.update({
        "/api/v1/monitors": {
            "get": {"summary": "List monitors", "responses": {"200": {"description": "monitors"}, "401": ERROR}},
            "post": {"summary": "Create a monitor", "requestBody": {"required": True, **_json(_ref("MonitorIn"))},
                     "responses": {"201": {"description": "the new monitor"}, **bad}}},
        "/api/v1/monitors/{monitor_id}": {"get": {
            "summary": "One monitor", "parameters": [MONITOR_ID],
            "responses": {"200": {"description": "the monitor"}, "404": ERROR}}},
    })
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
    spec_paths["/api/v1/monitors/{monitor_id}"]["delete"] = {
        "summary": "Delete a monitor with its mentions, rollups, rules, sources and alert history (editors)",
        "parameters": [MONITOR_ID],
        "responses": {"204": {"description": "deleted; the id answers 404 from now on"},
                      **{k: bad[k] for k in ("401", "403", "404")}}}
    spec_paths["/api/v1/sources/test"] = {"post": {
        "summary": "Test a source: fetch it once now through the egress guard; nothing is saved (editors)",
        "requestBody": {"required": True, **_json(_ref("SourceIn"))},
        "responses": {"200": {"description": "`ok` with the first items, or the `problem` in words "
                                             "(`lasting`: waiting will not fix it, the pages refuse to save it)",
                              **_json({"type": "object", "properties": {
                                  "ok": {"type": "boolean"}, "count": {"type": "integer"},
                                  "items": {"type": "array", "items": {"type": "object"}},
                                  "problem": {"type": ["object", "null"], "properties": {
                                      "code": {"type": "string"}, "message": {"type": "string"},
                                      "lasting": {"type": "boolean"},
                                      "setting": {"type": ["string", "null"]}}}}})},
                      **bad}}}
    spec_paths["/api/v1/monitors/{monitor_id}/preview"] = {"post": {
        "summary": "Test a query on the newest 5,000 stored mentions of the last 7 days",
        "parameters": [MONITOR_ID], "requestBody": {"required": True, **_json(_ref("PreviewIn"))},
        "responses": {"200": {"description": "how many matched, and up to 50 of them, newest first",
                              **_json({"type": "object", "properties": {
                                  "query": {"type": "string"}, "matches": {"type": "integer"},
                                  "scanned": {"type": "integer"}, "since": {"type": "string", "format": "date-time"},
                                  "items": {"type": "array", "items": _ref("PreviewItem")}}})}, **bad}}}
