"""The shape of a pushed mention (pydantic): refused at the edge when the worker would refuse it."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, field_validator

from webapp.core.limits import MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_TEXT, MAX_URL

MAX_PUSH = 5000
Text = Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEXT)]


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
