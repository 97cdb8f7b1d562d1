"""Request and answer shapes of the scoring API (pydantic), also its OpenAPI schemas."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from webapp.core.limits import MAX_TEXT

MAX_SCORE_TEXTS = 1000
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
