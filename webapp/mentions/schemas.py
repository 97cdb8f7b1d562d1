"""Query parameters of the mention list API (pydantic)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from webapp.core.api_errors import DbId
from webapp.core.times import UtcTime


class MentionsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    before: DbId | None = None   # a mention id: the listing goes on after it (newest first)
    since: UtcTime | None = None
    until: UtcTime | None = None
    label: Literal["positive", "neutral", "negative"] | None = None
