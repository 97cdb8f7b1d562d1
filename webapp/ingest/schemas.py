"""The shape of a pushed or imported mention (pydantic): refused at the edge when the worker would
refuse it, so a push answered 202 and an import row counted as sent are stored.

One mention is `{"external_id", "text", "author"?, "url"?, "published_at"?, "lang"?, "reach"?,
"engagement"?}` (`lang` an ISO 639-1 code or `und`; `reach` and `engagement` whole numbers from 0
to 2^62, see webapp/insights/influence.py); any other field
is refused (a typo such as `publishedAt` would otherwise silently become "now").
`external_id` is a non-blank string (kept as given), or a JSON integer within 64 bits, written
out in decimal: `1` and `"1"` are the same mention. `true`, `1.0` and larger integers are
refused. `published_at` is read by `core.times.read_time` (ISO 8601 or Unix seconds, within
its range), exactly as the worker reads it. (NUL bytes are refused before this, for every
request, by `core.web.input_guard`; the importer checks its rows for them with `no_nul`.)
"""
from __future__ import annotations

from typing import Annotated

from pydantic import (
    BaseModel, ConfigDict, Field, StrictInt, StrictStr, StringConstraints, TypeAdapter, ValidationError, WithJsonSchema,
    field_validator,
)

from webapp.core.api_errors import MAX_ID
from webapp.core.limits import MAX_AUTHOR, MAX_EXTERNAL_ID, MAX_TEXT, MAX_URL
from webapp.core.times import UtcTime
from webapp.insights.languages import MAX_FIGURE, normalize_code

MAX_PUSH = 5000
Text = Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_TEXT)]
# An audience or engagement figure: a JSON integer (not true, not 1.5), 0 to MAX_FIGURE.
Figure = Annotated[StrictInt, Field(ge=0, le=MAX_FIGURE)]


class MentionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    external_id: Annotated[StrictStr, StringConstraints(min_length=1, max_length=MAX_EXTERNAL_ID),
                           WithJsonSchema({"oneOf": [
                               {"type": "string", "minLength": 1, "maxLength": MAX_EXTERNAL_ID},
                               {"type": "integer", "minimum": -MAX_ID, "maximum": MAX_ID}]})]
    text: Text
    author: Annotated[StrictStr, StringConstraints(max_length=MAX_AUTHOR)] | None = None
    url: Annotated[StrictStr, StringConstraints(max_length=MAX_URL)] | None = None
    published_at: UtcTime | None = None
    lang: Annotated[StrictStr, StringConstraints(max_length=8)] | None = None
    reach: Figure | None = None
    engagement: Figure | None = None

    @field_validator("lang")
    @classmethod
    def language(cls, value):
        return None if value is None else normalize_code(value)

    @field_validator("external_id", mode="before")
    @classmethod
    def id_kind(cls, value):
        """An integer id within 64 bits is written in decimal (`1` is the id "1"); any other
        kind is refused with one reason."""
        if isinstance(value, int) and not isinstance(value, bool):
            if -MAX_ID <= value <= MAX_ID:
                return str(value)
            raise ValueError("an integer id must fit in 64 bits")
        if not isinstance(value, str):
            raise ValueError("must be a string, or an integer within 64 bits (not true, false or 1.0)")
        return value

    @field_validator("external_id", "text", "author", "url")
    @classmethod
    def storable(cls, value):
        """Refuse here what the worker would refuse (`ingest.store.normalize`): a blank id or
        text; and a NUL byte, which PostgreSQL cannot store."""
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain a NUL byte")
        return value

    @field_validator("external_id", "text")
    @classmethod
    def not_blank(cls, value):
        # isspace() stops at the first letter; strip() would copy the whole text first.
        if isinstance(value, str) and (not value or value.isspace()):
            raise ValueError("must not be blank")
        return value

    def record(self) -> dict:
        """The mention's fields as `publish.mention_record` takes them (the time already as
        ISO 8601 text, written by pydantic's serializer rather than one Python call a field)."""
        return self.model_dump(mode="json")


MentionBatch = TypeAdapter(Annotated[list[MentionIn], Field(min_length=1, max_length=MAX_PUSH)])


def problems(exc: ValidationError) -> list[dict]:
    """The refused mentions' problems, one per field: `{"index"?, "field", "reason", "loc", "msg"}`
    (`loc`/`msg` as in every other 422 of the API)."""
    found = []
    for err in exc.errors(include_url=False, include_context=False, include_input=False):
        loc = list(err["loc"])
        index = loc.pop(0) if loc and isinstance(loc[0], int) else None
        # the field is the first place after the index (a union's branch names may follow it)
        field = str(loc[0]) if loc else ""
        where = ".".join(str(p) for p in ([] if index is None else [index]) + ([field] if field else []))
        entry = {"field": field, "reason": err["msg"], "loc": where, "msg": err["msg"]}
        if index is not None:
            entry = {"index": index, **entry}
        if entry not in found:
            found.append(entry)
    return found
