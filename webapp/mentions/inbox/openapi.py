"""The OpenAPI part of the mention inbox (inbox/api.py): filters, one mention, notes, bulk, tags, rules."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.core.openapi import ERROR, MONITOR_ID, REF, _json, _params, _ref
from webapp.mentions.inbox.schemas import AutoTagRuleIn, BulkIn, NoteIn

INBOX_FILTERS = (
    ("tag", {"type": "string", "maxLength": 40}, "mentions with this tag"),
    ("status", {"type": "string", "enum": ["open", "done"]}, "open (the default of every mention) or done"),
    ("assignee", {"type": "string"}, "me, nobody, or a user id"),
    ("read", {"type": "string", "enum": ["read", "unread"]}, "read or not by the caller"),
)
INBOX_FIELDS = {
    "tags": {"type": "array", "items": {"type": "string"}},
    "status": {"type": "string", "enum": ["open", "done"]},
    "assignee_id": {"type": ["integer", "null"]}, "assignee": {"type": ["string", "null"], "description": "email"},
    "read": {"type": "boolean", "description": "read by the caller"},
    "notes": {"type": "integer", "description": "how many notes (the notes themselves: GET one mention)"},
}


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    bad = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "415": ERROR, "422": ERROR}
    _, defs = models_json_schema([(m, "validation") for m in (BulkIn, NoteIn, AutoTagRuleIn)], ref_template=REF)
    spec_schemas.update(defs["$defs"])
    spec_schemas.get("Mention", {}).setdefault("properties", {}).update(INBOX_FIELDS)
    spec_schemas["AutoTagRule"] = {"type": "object", "properties": {
        "id": {"type": "integer"}, "tag": {"type": "string"}, "query": {"type": "string"},
        "created_at": {"type": "string", "format": "date-time"}}}
    listing = spec_paths.get("/api/v1/monitors/{monitor_id}/mentions", {}).get("get")
    if listing is not None:
        listing["parameters"] = [*listing["parameters"], *_params(*INBOX_FILTERS)]
    mention_id = {"name": "mention_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    rule_id = {"name": "autotag_rule_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    base = "/api/v1/monitors/{monitor_id}"
    spec_paths.setdefault(base + "/mentions/{mention_id}", {})["get"] = {
        "summary": "One mention with its tags, status, assignee, read mark and notes",
        "parameters": [MONITOR_ID, mention_id],
        "responses": {"200": {"description": "the mention", **_json({"type": "object"})}, "401": ERROR, "404": ERROR}}
    spec_paths[base + "/mentions/{mention_id}/notes"] = {"post": {
        "summary": "Add a note to a mention (editors)", "parameters": [MONITOR_ID, mention_id],
        "requestBody": {"required": True, **_json(_ref("NoteIn"))},
        "responses": {"201": {"description": "the note", **_json({"type": "object"})}, **bad}}}
    spec_paths[base + "/mentions/bulk"] = {"post": {
        "summary": "Tag, untag, assign, unassign, mark done/open (editors) or read/unread (anyone) every "
                   "mention the filter selects, in one statement (stopped after SEARCH_TIMEOUT_SECONDS with "
                   "nothing changed: 422 too_slow)",
        "parameters": [MONITOR_ID], "requestBody": {"required": True, **_json(_ref("BulkIn"))},
        "responses": {"200": {"description": "how many changed, of how many matched", **_json({
            "type": "object", "properties": {"action": {"type": "string"}, "changed": {"type": "integer"},
                                             "matched": {"type": ["integer", "null"],
                                                         "description": "null: the count ran past "
                                                                        "SEARCH_TIMEOUT_SECONDS"}}})}, **bad}}}
    spec_paths[base + "/tags"] = {"get": {
        "summary": "The monitor's tags with how many mentions (published in since/until) have each",
        "parameters": [MONITOR_ID, *_params(("since", {"type": "string"}, "ISO 8601"),
                                            ("until", {"type": "string"}, "ISO 8601"))],
        "responses": {"200": {"description": "tags, most used first", **_json({"type": "object"})}, **bad}}}
    spec_paths[base + "/autotag-rules"] = {
        "get": {"summary": "Auto-tag rules", "parameters": [MONITOR_ID],
                "responses": {"200": {"description": "rules", **_json({"type": "object", "properties": {
                    "items": {"type": "array", "items": _ref("AutoTagRule")}}})}, "401": ERROR, "404": ERROR}},
        "post": {"summary": "Tag new mentions whose text matches a query (editors); a bad query is a 422 "
                            "with the query language's message",
                 "parameters": [MONITOR_ID], "requestBody": {"required": True, **_json(_ref("AutoTagRuleIn"))},
                 "responses": {"201": {"description": "the rule", **_json(_ref("AutoTagRule"))}, **bad}}}
    spec_paths[base + "/autotag-rules/{autotag_rule_id}"] = {"delete": {
        "summary": "Remove an auto-tag rule (editors)", "parameters": [MONITOR_ID, rule_id],
        "responses": {"204": {"description": "removed"}, "401": ERROR, "403": ERROR, "404": ERROR}}}
    spec_paths[base + "/autotag-rules/apply"] = {"post": {
        "summary": "Apply the rules to the stored mentions (editors)", "parameters": [MONITOR_ID],
        "responses": {"200": {"description": "tags added", **_json({"type": "object", "properties": {
            "tagged": {"type": "integer"}}})}, **bad}}}
