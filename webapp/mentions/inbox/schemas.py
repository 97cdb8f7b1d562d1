"""Request shapes of the mention inbox API (pydantic): bulk actions, notes, auto-tag rules."""
from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field

from webapp.core.api_errors import DbId
from webapp.mentions.inbox.models import MAX_NOTE

Scalar = Optional[Union[str, int, float]]


class BulkFilter(BaseModel):
    """The mentions page's filters (search.parse_filters), or `ids` for chosen mentions."""

    model_config = ConfigDict(extra="forbid")
    q: Scalar = None
    label: Scalar = None
    source: Scalar = None
    since: Scalar = None
    until: Scalar = None
    min: Scalar = None
    max: Scalar = None
    tag: Scalar = None
    status: Scalar = None
    assignee: Scalar = None
    read: Scalar = None
    ids: Optional[list[DbId]] = Field(default=None, max_length=1000, description="only these mentions")

    def args(self) -> dict[str, str]:
        return {k: str(v) for k, v in self.model_dump(exclude={"ids"}).items()
                if v is not None and not isinstance(v, bool)}


class BulkIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filter: BulkFilter = Field(default_factory=BulkFilter, description="which mentions: every match")
    action: Literal["tag", "untag", "assign", "unassign", "done", "open", "read", "unread"]
    tag: Optional[str] = Field(default=None, max_length=200, description="for tag and untag")
    assignee: Optional[DbId] = Field(default=None, description="a member of the monitor's team, for assign")


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str = Field(min_length=1, max_length=MAX_NOTE)


class AutoTagRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tag: str = Field(min_length=1, max_length=200, description="the tag to add")
    query: str = Field(min_length=1, max_length=2000, description="query language, e.g. support OR help OR broken")
