"""Request shapes of the REST API (pydantic), also the source of the OpenAPI schemas."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator,
                      model_validator)

from webapp.core.limits import MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_TEXT, MAX_URL
from webapp.core.query import MAX_QUERY_LENGTH

MAX_SCORE_TEXTS = 1000
MAX_PUSH = 5000
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]


class ScoreIn(BaseModel):
    """Either one `text` or a list of `texts` (up to 1,000)."""

    model_config = ConfigDict(extra="forbid")
    text: Text | None = None
    texts: list[Annotated[str, StringConstraints(max_length=MAX_TEXT)]] | None = Field(
        default=None, min_length=1, max_length=MAX_SCORE_TEXTS)

    @model_validator(mode="after")
    def one_of(self):
        if (self.text is None) == (self.texts is None):
            raise ValueError("give exactly one of 'text' or 'texts'")
        return self


class ScoreOut(BaseModel):
    compound: float
    pos: float
    neu: float
    neg: float
    label: Literal["positive", "neutral", "negative"]


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


class MentionIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    external_id: Annotated[str, StringConstraints(min_length=1, max_length=MAX_EXTERNAL_ID)] | int
    text: Text
    author: Annotated[str, StringConstraints(max_length=MAX_AUTHOR)] | None = None
    url: Annotated[str, StringConstraints(max_length=MAX_URL)] | None = None
    published_at: datetime | None = None

    @field_validator("external_id", "text")
    @classmethod
    def storable(cls, value):
        """Refuse here what the worker would refuse (`ingest.store.normalize`): a blank id or
        text, an id that is longer than the column once written out."""
        if isinstance(value, str) and not value.strip():
            raise ValueError("must not be blank")
        if isinstance(value, int) and len(str(value)) > MAX_EXTERNAL_ID:
            raise ValueError(f"must be at most {MAX_EXTERNAL_ID} characters")
        return value


MentionBatch = TypeAdapter(Annotated[list[MentionIn], Field(min_length=1, max_length=MAX_PUSH)])


class MentionsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=1_000_000)
    since: datetime | None = None
    until: datetime | None = None
    label: Literal["positive", "neutral", "negative"] | None = None


class SeriesQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    bucket: Literal["15m", "1h", "1d"] = "1h"
    start: datetime | None = None
    end: datetime | None = None
    source_id: int | None = None
