"""The OpenAPI part of label overrides, lexicon adjustments and exports (merged into build_spec's document)."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.mentions.api import LabelPatch, LexiconIn
from webapp.core.openapi import BAD, ERROR, MONITOR_ID, REF, _json, _params, _ref

LANGUAGE_FILTERS = (
    ("lang", {"type": "string", "pattern": "^([A-Za-z]{2}|und)$"}, "language: ISO 639-1 code or und"),
    ("mixed", {"type": "string", "enum": ["true", "false"]}, "positive and negative parts both substantial"),
)
FILTERS = (
    ("q", {"type": "string", "maxLength": 200}, 'words that must all occur in the text or author; "phrases" kept whole'),
    ("label", {"type": "string", "enum": ["positive", "neutral", "negative", "mixed"]}, "label filter"),
    *LANGUAGE_FILTERS,
    ("source", {"type": "string"}, "a source id or a source kind (rss, push, ...)"),
    ("since", {"type": "string"}, "ISO 8601 date or time: published at or after"),
    ("until", {"type": "string"}, "ISO 8601 date or time: published before (a date: to the end of that day)"),
    ("min", {"type": "number", "minimum": -1, "maximum": 1}, "lowest compound score"),
    ("max", {"type": "number", "minimum": -1, "maximum": 1}, "highest compound score"),
    ("sort", {"type": "string", "enum": ["newest", "oldest", "positive", "negative"], "default": "newest"}, "order"),
)
DOWNLOAD = {"description": "a streamed download (Content-Disposition: attachment)", "content": {
    "text/csv": {"schema": {"type": "string"}}, "application/json": {"schema": {"type": "array"}},
    "application/x-ndjson": {"schema": {"type": "string"}}}}
FORMAT = ("format", {"type": "string", "enum": ["csv", "json", "ndjson"], "default": "json"},
          "csv (formula cells neutralised), a JSON array, or one JSON object per line")


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add GET /monitors/{id}/mentions (the list), label overrides, lexicon adjustments, exports."""
    bad = BAD
    spec_paths.setdefault("/api/v1/monitors/{monitor_id}/mentions", {}).update({
        "get": {"summary": "Scored mentions, newest first", "parameters": [MONITOR_ID, *_params(
            ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "page size"),
            ("offset", {"type": "integer", "minimum": 0, "maximum": 1_000_000, "default": 0},
             "rows to skip (each is read: to go deep into millions, page with before instead; a listing "
             "stopped after SEARCH_TIMEOUT_SECONDS answers 422 too_slow)"),
            ("before", {"type": "integer"}, "the id of a mention of this monitor: the items after it, newest "
             "first (keyset paging: only the rows returned are read; total counts from there; sort=newest only)"),
            ("since", {"type": "string", "format": "date-time"}, "published at or after"),
            ("until", {"type": "string", "format": "date-time"}, "published before"),
            ("label", {"type": "string", "enum": ["positive", "neutral", "negative", "mixed"]}, "label filter"),
            *LANGUAGE_FILTERS,
            ("sort", {"type": "string", "enum": ["newest", "oldest", "positive", "negative"], "default": "newest"},
             "order (unscored mentions last by sentiment)"))],
            "responses": {"200": {"description": "a page of mentions", **_json({"type": "object", "properties": {
                "items": {"type": "array", "items": _ref("Mention")}, "total": {"type": "integer"}}})},
                "404": ERROR, **bad}}
    })
    _, defs = models_json_schema([(m, "validation") for m in (LabelPatch, LexiconIn)], ref_template=REF)
    spec_schemas.update(defs["$defs"])
    spec_schemas["LabelOverride"] = {"type": "object", "properties": {
        "id": {"type": "integer"}, "label": {"type": "string"}, "scored_label": {"type": "string"},
        "overridden": {"type": "boolean"}, "previous_label": {"type": "string"},
        "overridden_by_id": {"type": ["integer", "null"]},
        "overridden_at": {"type": ["string", "null"], "format": "date-time"}}}
    spec_schemas["LexiconAdjustment"] = {"type": "object", "properties": {
        "word": {"type": "string"}, "valence": {"type": "number"},
        "base_valence": {"type": ["number", "null"], "description": "VADER's own valence of the word"},
        "created_by": {"type": ["string", "null"]}, "created_at": {"type": "string", "format": "date-time"}}}
    mention = spec_schemas.get("Mention", {}).setdefault("properties", {})
    mention["scored_label"] = {"type": "string", "description": "the scorer's label (label is the effective one)"}
    mention["overridden"] = {"type": "boolean", "description": "an editor overrode the label"}
    bad = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "415": ERROR, "422": ERROR}
    mention_id = {"name": "mention_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    word = {"name": "word", "in": "path", "required": True, "schema": {"type": "string"}}
    spec_paths["/api/v1/monitors/{monitor_id}/mentions/{mention_id}"] = {"patch": {
        "summary": "Override a mention's label, or restore the scored one with null (editors); rollups follow",
        "parameters": [MONITOR_ID, mention_id], "requestBody": {"required": True, **_json(_ref("LabelPatch"))},
        "responses": {"200": {"description": "the mention's labels now", **_json(_ref("LabelOverride"))}, **bad}}}
    spec_paths["/api/v1/monitors/{monitor_id}/lexicon"] = {
        "get": {"summary": "The monitor's lexicon adjustments", "parameters": [MONITOR_ID],
                "responses": {"200": {"description": "adjusted words", **_json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("LexiconAdjustment")}}})}, "401": ERROR, "404": ERROR}},
        "post": {"summary": "Set a word's valence for the monitor's new mentions (editors)",
                 "parameters": [MONITOR_ID], "requestBody": {"required": True, **_json(_ref("LexiconIn"))},
                 "responses": {"201": {"description": "added", **_json(_ref("LexiconAdjustment"))},
                               "200": {"description": "changed", **_json(_ref("LexiconAdjustment"))}, **bad}}}
    spec_paths["/api/v1/monitors/{monitor_id}/lexicon/{word}"] = {"delete": {
        "summary": "Remove a word's adjustment (editors)", "parameters": [MONITOR_ID, word],
        "responses": {"204": {"description": "removed"}, "401": ERROR, "403": ERROR, "404": ERROR}}}
    spec_paths["/api/v1/monitors/{monitor_id}/mentions/export"] = {"get": {
        "summary": "Every mention matching the filters, streamed", "parameters": [MONITOR_ID, *_params(FORMAT, *FILTERS)],
        "responses": {"200": DOWNLOAD, "400": ERROR, "401": ERROR, "404": ERROR}}}
    spec_paths["/api/v1/monitors/{monitor_id}/series/export"] = {"get": {
        "summary": "The monitor's series for a range, one row per bucket, streamed",
        "parameters": [MONITOR_ID, *_params(
            FORMAT,
            ("range", {"type": "string", "enum": ["24h", "7d", "30d", "90d"], "default": "7d"}, "range ending now"),
            ("start", {"type": "string", "format": "date-time"}, "instead of range"),
            ("end", {"type": "string", "format": "date-time"}, "default: now"),
            ("bucket", {"type": "string", "enum": ["15m", "1h", "1d"]}, "default by range"),
            ("source_id", {"type": "integer"}, "one source only"))],
        "responses": {"200": DOWNLOAD, "400": ERROR, "401": ERROR, "404": ERROR}}}
