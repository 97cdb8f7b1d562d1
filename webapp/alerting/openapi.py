"""The alerting part of the OpenAPI document (merged into build_spec's schemas and paths)."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.alerting.rules import rule_in
from webapp.alerting.schemas import NotifierIn, SilenceIn
from webapp.core.openapi import ERROR, MONITOR_ID, REF, _json, _params, _ref


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _obj(**properties) -> dict:
    return {"type": "object", "properties": properties}


def schemas() -> dict:
    _, defs = models_json_schema([(m, "validation") for m in (NotifierIn, rule_in(), SilenceIn)], ref_template=REF)
    found = defs["$defs"]
    found["Notifier"] = _obj(id={"type": "integer"}, kind={"type": "string", "enum": ["webhook", "email"]},
                             name={"type": "string"}, url={"type": "string"},
                             to={"type": "array", "items": {"type": "string"}}, enabled={"type": "boolean"},
                             disabled_reason={"type": ["string", "null"]},
                             secret={"type": "string", "description": "only in the 201 answer, when generated"})
    found["AlertEvent"] = _obj(id={"type": "integer"}, rule_id={"type": "integer"}, rule={"type": "string"},
                               **{"from": {"type": "string"}, "to": {"type": "string"}},
                               value={"type": ["number", "null"]}, threshold={"type": ["number", "null"]},
                               at={"type": "string", "format": "date-time"},
                               notification={"type": ["string", "null"],
                                             "enum": ["firing", "resolved", "reminder", None]},
                               suppressed={"type": "boolean"}, details={"type": "object"})
    found["Delivery"] = _obj(id={"type": "integer"}, status={"type": "string", "enum": [
        "pending", "sending", "sent", "failed", "permanent_failure"]}, attempts={"type": "integer"},
        webhook_id={"type": "string"}, last_http_status={"type": ["integer", "null"]},
        latency_ms={"type": ["integer", "null"]}, response_excerpt={"type": ["string", "null"]},
        last_error={"type": ["string", "null"]})
    found["Backtest"] = _obj(summary=_obj(fired={"type": "integer"}, resolved={"type": "integer"},
                                          notifications={"type": "integer"}, hours_firing={"type": "number"},
                                          firings={"type": "array"}),
                             points={"type": "array", "items": _obj(t={"type": "string"}, value={},
                                                                    threshold={}, state={"type": "string"})})
    return found


def paths() -> dict:
    bad = {"400": ERROR, "401": ERROR, "403": ERROR, "422": ERROR}
    notifier_id, rule_id = _path_id("notifier_id"), _path_id("rule_id")

    def ok(description: str, schema: dict | None = None) -> dict:
        return {"description": description, **(_json(schema) if schema else {})}

    def many(name: str) -> dict:
        return {"type": "array", "items": _ref(name)}

    return {
        "/api/v1/notifiers": {
            "get": {"summary": "List notifiers (secrets are never returned)",
                    "responses": {"200": ok("notifiers", many("Notifier")), "401": ERROR}},
            "post": {"summary": "Create an email or webhook notifier (a webhook secret is generated if none is given)",
                     "requestBody": {"required": True, **_json(_ref("NotifierIn"))},
                     "responses": {"201": ok("the notifier (with a generated secret, once)", _ref("Notifier")),
                                   **bad}}},
        "/api/v1/notifiers/{notifier_id}": {"delete": {
            "summary": "Delete a notifier (editors); rules stop sending to it, its delivery log goes",
            "parameters": [notifier_id],
            "responses": {"204": ok("deleted"), "401": ERROR, "403": ERROR, "404": ERROR}}},
        "/api/v1/notifiers/{notifier_id}/test": {"post": {
            "summary": "Send an alert.test message now", "parameters": [notifier_id],
            "responses": {"200": ok("the outcome and the delivery",
                                    _obj(outcome={"type": "string"}, delivery=_ref("Delivery"))),
                          "404": ERROR, "409": ERROR, **bad}}},
        "/api/v1/notifiers/{notifier_id}/enable": {"post": {
            "summary": "Enable a notifier that was disabled after failures", "parameters": [notifier_id],
            "responses": {"200": ok("the notifier", _ref("Notifier")), "404": ERROR, **bad}}},
        "/api/v1/monitors/{monitor_id}/rules": {
            "get": {"summary": "A monitor's alert rules with their state", "parameters": [MONITOR_ID],
                    "responses": {"200": ok("rules"), "404": ERROR}},
            "post": {"summary": "Create an alert rule", "parameters": [MONITOR_ID],
                     "requestBody": {"required": True, **_json(_ref("RuleIn"))},
                     "responses": {"201": ok("the rule"), "404": ERROR, **bad}}},
        "/api/v1/monitors/{monitor_id}/rules/backtest": {"post": {
            "summary": "Replay an unsaved rule over the past 30 days", "parameters": [MONITOR_ID],
            "requestBody": {"required": True, **_json(_ref("RuleIn"))},
            "responses": {"200": ok("when it would have fired and resolved", _ref("Backtest")), "404": ERROR, **bad}}},
        "/api/v1/rules/{rule_id}": {
            "get": {"summary": "One rule", "parameters": [rule_id], "responses": {"200": ok("the rule"), "404": ERROR}},
            "delete": {"summary": "Delete a rule and its history", "parameters": [rule_id],
                       "responses": {"204": ok("deleted"), "404": ERROR, **bad}}},
        "/api/v1/rules/{rule_id}/backtest": {"post": {
            "summary": "Replay a saved rule over the past 30 days", "parameters": [rule_id],
            "responses": {"200": ok("when it would have fired and resolved", _ref("Backtest")), "404": ERROR}}},
        "/api/v1/monitors/{monitor_id}/alerts": {"get": {
            "summary": "Alert state changes (and reminders), newest first",
            "parameters": [MONITOR_ID, *_params(
                ("limit", {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}, "page size"),
                ("offset", {"type": "integer", "minimum": 0, "default": 0}, "rows to skip"),
                ("rule_id", {"type": "integer"}, "one rule only"))],
            "responses": {"200": ok("events", many("AlertEvent")), "404": ERROR, **bad}}},
        "/api/v1/alerts/{event_id}/deliveries": {"get": {
            "summary": "The deliveries of one alert event", "parameters": [_path_id("event_id")],
            "responses": {"200": ok("deliveries", many("Delivery")), "404": ERROR}}},
        "/api/v1/deliveries/{delivery_id}/redeliver": {"post": {
            "summary": "Send the same message (same webhook-id) again, now", "parameters": [_path_id("delivery_id")],
            "responses": {"201": ok("the outcome and the new delivery"), "404": ERROR, "409": ERROR, **bad}}},
        "/api/v1/monitors/{monitor_id}/silences": {
            "get": {"summary": "Active silences", "parameters": [MONITOR_ID],
                    "responses": {"200": ok("silences"), "404": ERROR}},
            "post": {"summary": "Silence a rule or the whole monitor until a time",
                     "parameters": [MONITOR_ID], "requestBody": {"required": True, **_json(_ref("SilenceIn"))},
                     "responses": {"201": ok("the silence"), "404": ERROR, **bad}}},
        "/api/v1/silences/{silence_id}": {"delete": {
            "summary": "End a silence now", "parameters": [_path_id("silence_id")],
            "responses": {"204": ok("ended"), "404": ERROR, **bad}}},
    }


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    """Add the alerting schemas and paths to the document being built."""
    spec_schemas.update(schemas())
    spec_paths.update(paths())
