"""The reports part of the OpenAPI document."""
from __future__ import annotations

from pydantic.json_schema import models_json_schema

from webapp.core.openapi import ERROR, MONITOR_ID, REF, _json, _ref
from webapp.reports.schemas import ReportIn

REPORT_ID = {"name": "report_id", "in": "path", "required": True, "schema": {"type": "integer"}}


def _obj(**properties) -> dict:
    return {"type": "object", "properties": properties}


def schemas() -> dict:
    _, defs = models_json_schema([(ReportIn, "validation")], ref_template=REF)
    found = defs["$defs"]
    run = _obj(id={"type": "integer"}, manual={"type": "boolean"},
               status={"type": "string", "enum": ["queued", "sending", "retry", "sent", "failed"]},
               error={"type": ["string", "null"]}, attempts={"type": "integer"}, period_start={"type": "string", "format": "date-time"},
               period_end={"type": "string", "format": "date-time"}, sent_at={"type": ["string", "null"]})
    found["Report"] = _obj(id={"type": "integer"}, monitor_id={"type": "integer"},
                           every={"type": "string", "enum": ["daily", "weekly"]},
                           format={"type": "string", "enum": ["html", "pdf"]}, hour={"type": "integer"},
                           weekday={"type": "integer"}, notifiers={"type": "array", "items": {"type": "integer"}},
                           time_zone={"type": "string"}, next_send_at={"type": "string", "format": "date-time"},
                           runs={"type": "array", "items": run})
    return found


def paths() -> dict:
    errors = {"400": ERROR, "401": ERROR, "403": ERROR, "404": ERROR}
    report = {"description": "the report", **_json(_ref("Report"))}
    return {
        "/api/v1/monitors/{monitor_id}/reports": {
            "parameters": [MONITOR_ID],
            "get": {"summary": "The monitor's scheduled reports",
                    "responses": {"200": {"description": "reports", **_json({"type": "array", "items": _ref("Report")})},
                                  **errors}},
            "post": {"summary": "Schedule a daily or weekly report (hour and weekday in the team's time zone)",
                     "requestBody": {"required": True, **_json(_ref("ReportIn"))},
                     "responses": {"201": report, **errors}},
        },
        "/api/v1/reports/{report_id}": {
            "parameters": [REPORT_ID],
            "get": {"summary": "A report and its last runs", "responses": {"200": report, **errors}},
            "delete": {"summary": "Stop and remove a report", "responses": {"204": {"description": "removed"}, **errors}},
        },
        "/api/v1/reports/{report_id}/send": {
            "parameters": [REPORT_ID],
            "post": {"summary": "Send the report now (the report's length of time up to this hour)",
                     "responses": {"202": {"description": "queued", **_json(_obj(
                         report_id={"type": "integer"}, run_id={"type": "integer"}, status={"type": "string"}))},
                         **errors}},
        },
    }


def extend(spec_schemas: dict, spec_paths: dict) -> None:
    spec_schemas.update(schemas())
    spec_paths.update(paths())
