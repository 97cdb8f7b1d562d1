"""Request shapes of the alerting API (rules: webapp.alerting.rules.RuleIn, shared with the form)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from webapp.alerting.notifiers import CHANNELS, get_channel
from webapp.core.api_errors import DbId
from webapp.core.times import UtcTime


class NotifierIn(BaseModel):
    """`{"kind": "webhook", "url", "secret"?}`, `{"kind": "email", "to": [...]}`, or a chat service's
    incoming webhook: `{"kind": "slack"|"mattermost"|"discord"|"teams"|"google_chat", "url"}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal[tuple(CHANNELS)]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    secret: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="whsec_ + base64 of 24-64 bytes; generated when absent")
    to: list[Annotated[str, StringConstraints(max_length=254)]] | None = Field(default=None, max_length=20)
    team_id: DbId | None = Field(default=None, description="the team it belongs to; optional when you "
                                 "belong to exactly one team (GET /api/v1/teams)")

    @model_validator(mode="after")
    def fields_of_kind(self):
        takes = get_channel(self.kind).FIELDS
        given = [name for name in ("url", "secret", "to") if getattr(self, name) is not None]
        foreign = [name for name in given if name not in takes]
        if foreign:
            raise ValueError(f"a {self.kind} notifier takes {' and '.join(takes)}, not {' or '.join(foreign)}")
        return self


class SilenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rule_id: int | None = Field(default=None, description="one rule; absent: every rule of the monitor")
    ends_at: UtcTime | None = None
    duration_minutes: int | None = Field(default=None, ge=1, le=90 * 24 * 60)
    reason: Annotated[str, StringConstraints(max_length=500)] = ""

    @model_validator(mode="after")
    def one_end(self):
        if (self.ends_at is None) == (self.duration_minutes is None):
            raise ValueError("give exactly one of 'ends_at' or 'duration_minutes'")
        return self


class AlertsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    rule_id: int | None = None
