"""Query parameters of the series API (pydantic)."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class SeriesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: Literal["15m", "1h", "1d"] = "1h"
    start: datetime | None = None
    end: datetime | None = None
    source_id: int | None = None
