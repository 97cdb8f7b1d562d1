"""The OpenAPI part of noise control: mute lists, relevance marks and model, lexicon suggestions."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.core.openapi import ERROR, MONITOR_ID, REF, _json, _ref
from webapp.mentions.noise.api import MutesIn, RelevanceMark, RelevanceSwitch

BAD = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR, "415": ERROR, "422": ERROR}


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add /monitors/{id}/mutes, /relevance, /mentions/{mention_id}/relevance, /lexicon/suggestions."""
    _, defs = models_json_schema([(m, "validation") for m in (MutesIn, RelevanceMark, RelevanceSwitch)],
                                 ref_template=REF)
    spec_schemas.update(defs["$defs"])
    strings = {"type": "array", "items": {"type": "string"}}
    spec_schemas["Mutes"] = {"type": "object", "properties": {
        "authors": strings, "domains": strings, "query": {"type": "string"},
        "muted_mentions": {"type": "integer", "description": "stored mentions muted now (GET)"},
        "muted": {"type": "integer", "description": "stored mentions this change muted (PUT)"},
        "unmuted": {"type": "integer", "description": "stored mentions this change unmuted (PUT)"}}}
    spec_schemas["Relevance"] = {"type": "object", "properties": {
        "marked_irrelevant": {"type": "integer"}, "marked_relevant": {"type": "integer"},
        "min_irrelevant": {"type": "integer"},
        "model": {"type": ["object", "null"], "description": "version, n_train, n_test, enabled and metrics "
                  "(hold-out precision, recall, f1 of the irrelevant class; confusion)"}}}
    spec_schemas["LexiconSuggestion"] = {"type": "object", "properties": {
        "word": {"type": "string"}, "moved_from": {"type": "string"}, "moved_to": {"type": "string"},
        "moves": {"type": "integer"}, "current_valence": {"type": ["number", "null"]},
        "valence": {"type": "number"}, "summary": {"type": "string"},
        "backtest": {"type": "object", "properties": {
            "changed": {"type": "integer", "description": "stored mentions whose label would change"},
            "scanned": {"type": "integer"}, "overrides": {"type": "integer"},
            "agreement_before": {"type": "number"}, "agreement_after": {"type": "number"}}}}}
    mention = spec_schemas.get("Mention", {}).setdefault("properties", {})
    mention["muted"] = {"type": "boolean", "description": "muted: stored, counted in no rollup"}
    mention["irrelevant"] = {"type": ["boolean", "null"], "description": "an editor's relevance mark"}
    mention_id = {"name": "mention_id", "in": "path", "required": True, "schema": {"type": "integer"}}
    word = {"name": "word", "in": "path", "required": True, "schema": {"type": "string"}}
    spec_paths["/api/v1/monitors/{monitor_id}/mutes"] = {
        "get": {"summary": "The monitor's mute list and how many stored mentions are muted",
                "parameters": [MONITOR_ID], "responses": {"200": {"description": "the mute list", **_json(
                    _ref("Mutes"))}, "401": ERROR, "404": ERROR}},
        "put": {"summary": "Replace the mute list (editors); stored mentions and rollups follow at once",
                "parameters": [MONITOR_ID], "requestBody": {"required": True, **_json(_ref("MutesIn"))},
                "responses": {"200": {"description": "the list and what moved", **_json(_ref("Mutes"))}, **BAD}}}
    spec_paths["/api/v1/monitors/{monitor_id}/mentions/{mention_id}/relevance"] = {"put": {
        "summary": "Mark a mention irrelevant, relevant or unmarked (editors)",
        "parameters": [MONITOR_ID, mention_id], "requestBody": {"required": True, **_json(_ref("RelevanceMark"))},
        "responses": {"200": {"description": "the mark", **_json({"type": "object"})}, **BAD}}}
    spec_paths["/api/v1/monitors/{monitor_id}/relevance"] = {
        "get": {"summary": "Relevance marks and the model's hold-out figures", "parameters": [MONITOR_ID],
                "responses": {"200": {"description": "status", **_json(_ref("Relevance"))}, "401": ERROR,
                              "404": ERROR}},
        "put": {"summary": "Enable or disable muting by the relevance model (editors)", "parameters": [MONITOR_ID],
                "requestBody": {"required": True, **_json(_ref("RelevanceSwitch"))},
                "responses": {"200": {"description": "status", **_json(_ref("Relevance"))}, "409": ERROR, **BAD}}}
    spec_paths["/api/v1/monitors/{monitor_id}/relevance/train"] = {"post": {
        "summary": "Train the relevance model on the marks (editors); it hides nothing until enabled",
        "parameters": [MONITOR_ID],
        "responses": {"201": {"description": "status", **_json(_ref("Relevance"))}, "409": ERROR, **BAD}}}
    spec_paths["/api/v1/monitors/{monitor_id}/lexicon/suggestions"] = {"get": {
        "summary": "Lexicon suggestions mined from label overrides, each with its backtest",
        "parameters": [MONITOR_ID], "responses": {"200": {"description": "suggestions", **_json({
            "type": "object", "properties": {"items": {"type": "array", "items": _ref("LexiconSuggestion")}}})},
            "401": ERROR, "404": ERROR}}}
    spec_paths["/api/v1/monitors/{monitor_id}/lexicon/suggestions/{word}"] = {"post": {
        "summary": "Apply a suggestion: set the word's valence for the monitor's new mentions (editors)",
        "parameters": [MONITOR_ID, word],
        "responses": {"201": {"description": "the suggestion and the adjustment made", **_json({"type": "object"})},
                      **BAD}}}
