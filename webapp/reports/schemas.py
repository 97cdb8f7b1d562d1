"""The report API's body: what to send, how often, when (team's time zone) and to whom."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt

MAX_NOTIFIERS = 20
NotifierId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    every: Literal["daily", "weekly"]
    notifiers: list[NotifierId] = Field(min_length=1, max_length=MAX_NOTIFIERS)
    format: Literal["html", "pdf"] = "html"
    hour: Annotated[StrictInt, Field(ge=0, le=23)] = Field(
        default=8, description="hour of sending, 0-23, in the team's time zone")
    weekday: Annotated[StrictInt, Field(ge=0, le=6)] = Field(
        default=0, description="weekly reports: day of sending, 0 Monday to 6 Sunday")
