"""Query parameters of the series API (pydantic)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from webapp.core.api_errors import DbId
from webapp.core.times import UtcTime


class SeriesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: Literal["15m", "1h", "1d"] = "1h"
    start: UtcTime | None = None
    end: UtcTime | None = None
    source_id: DbId | None = None


class AudienceQuery(BaseModel):
    """`range` (24h, 7d, 30d, 90d) and, for authors, `limit` (1 to 200) of the authors and
    languages APIs (insights/audience.py)."""
    model_config = ConfigDict(extra="ignore")
    range: Literal["24h", "7d", "30d", "90d"] = "7d"
    limit: int = Field(20, ge=1, le=200)
