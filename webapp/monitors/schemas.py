"""Request shapes of the monitors API (pydantic), also its OpenAPI schemas."""
from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from webapp.core.api_errors import DbId
from webapp.core.query import MAX_QUERY_LENGTH


class SourceIn(BaseModel):
    """A source: its kind, an optional interval in seconds, and the kind's settings."""

    model_config = ConfigDict(extra="allow")
    kind: str
    every: int | None = Field(default=None, description="seconds between fetches (default 300)")


class MonitorIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    query: Annotated[str, StringConstraints(max_length=MAX_QUERY_LENGTH)] = Field(
        default="", description='words, "exact phrases", AND / OR / NOT, -word, parentheses')
    sources: list[SourceIn] = Field(default_factory=list, max_length=50)
    scorer: Annotated[str, StringConstraints(min_length=1, max_length=80)] | None = Field(
        default=None, description='vader (default), model:<name> or ensemble:<name> (GET /api/v1/scorers)')
    team_id: DbId | None = Field(default=None, description="the team it belongs to; optional when you "
                                 "belong to exactly one team (GET /api/v1/teams)")
