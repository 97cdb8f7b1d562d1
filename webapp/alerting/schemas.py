"""Request shapes of the alerting API (rules: webapp.alerting.rules.RuleIn, shared with the form)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from webapp.core.api_errors import DbId
from webapp.core.times import UtcTime


class NotifierIn(BaseModel):
    """`{"kind": "webhook", "url", "secret"?}` or `{"kind": "email", "to": [...]}`."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["webhook", "email"]
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] | None = None
    url: Annotated[str, StringConstraints(max_length=2048)] | None = None
    secret: Annotated[str, StringConstraints(max_length=200)] | None = Field(
        default=None, description="whsec_ + base64 of 24-64 bytes; generated when absent")
    to: list[Annotated[str, StringConstraints(max_length=254)]] | None = Field(default=None, max_length=20)
    team_id: DbId | None = Field(default=None, description="the team it belongs to; optional when you "
                                 "belong to exactly one team (GET /api/v1/teams)")

    @model_validator(mode="after")
    def fields_of_kind(self):
        if self.kind == "webhook" and self.to is not None:
            raise ValueError("a webhook takes url and secret, not to")
        if self.kind == "email" and (self.url is not None or self.secret is not None):
            raise ValueError("an email notifier takes to, not url or secret")
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
