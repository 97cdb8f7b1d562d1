"""Query parameters of the series API (pydantic)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from webapp.core.api_errors import DbId
from webapp.core.times import UtcTime


class SeriesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: Literal["15m", "1h", "1d"] = "1h"
    start: UtcTime | None = None
    end: UtcTime | None = None
    source_id: DbId | None = None
