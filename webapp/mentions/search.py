"""Search, filter, sort and page a monitor's mentions; the same filters drive the exports.

`parse_filters(args)` turns query-string parameters into a `MentionFilter` and a dict of
problems (pure: no database, no Flask); a bad parameter is reported and left out, never
raised. `conditions`/`ordering` turn a filter into SQL that works the same on SQLite and
PostgreSQL; `search` reads one page (`count` and `window` read a total and any slice, as the
API's limit/offset does); `iter_rows` streams every match in chunks for exports.

Parameters (all optional, all kept in the page's URL):
  q       words that must all occur (substring, case-insensitive) in the text or the author;
          "double quotes" keep a phrase together
  label   positive | neutral | negative
  source  a source id, or a source kind (rss, push, ...)
  since   ISO 8601 time or date: published at or after (a date means its midnight, UTC)
  until   ISO 8601 time: published before; a date alone means up to the end of that day
  min, max  compound score bounds, from -1 to 1 (inclusive)
  sort    newest (default) | oldest | positive (most positive first) | negative
  page    1, 2, ...     per_page  25 | 50 | 100
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterator, Mapping

from sqlalchemy import func, or_, select

from webapp.ingest.models import LABELS, Mention
from webapp.monitors.models import Source
from webapp.core.times import read_time

SORTS = {"newest": "newest first", "oldest": "oldest first", "positive": "most positive first",
         "negative": "most negative first"}
PER_PAGE = (25, 50, 100)
DEFAULT_PER_PAGE = 50
MAX_TERMS = 10
MAX_QUERY = 200
_TERMS = re.compile(r'"([^"]*)"|(\S+)')
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class MentionFilter:
    q: str = ""
    terms: tuple[str, ...] = ()
    label: str | None = None
    source_id: int | None = None
    source_kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_score: float | None = None
    max_score: float | None = None
    sort: str = "newest"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    # the parameters as given (valid ones only), to rebuild links
    raw: dict = field(default_factory=dict, compare=False)

    def args(self, **changes) -> dict:
        """The query-string parameters of this filter (valid ones only), with `changes` applied.

        A change to None drops the parameter; any change other than `page` returns to page 1.
        """
        out = dict(self.raw)
        if "page" not in changes:
            out.pop("page", None)
        for key, value in changes.items():
            if value is None or value == "":
                out.pop(key, None)
            else:
                out[key] = str(value)
        if out.get("page") == "1":
            del out["page"]
        return out

    def export_args(self) -> dict:
        """The filter's parameters without paging (an export covers every match)."""
        return {k: v for k, v in self.raw.items() if k not in ("page", "per_page")}


def split_terms(q: str) -> tuple[str, ...]:
    """The search words of `q`: whitespace-separated, "quoted phrases" kept whole (pure)."""
    return tuple(t for t in ((a or b).strip() for a, b in _TERMS.findall(q)) if t)


def _score(value: str) -> float:
    number = float(value)
    if number != number or not -1 <= number <= 1:
        raise ValueError
    return number


def parse_filters(args: Mapping[str, str]) -> tuple[MentionFilter, dict[str, str]]:
    """A MentionFilter from query-string parameters, and {parameter: problem} for bad ones (pure)."""
    errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    values: dict = {}

    def given(name: str) -> str:
        value = args.get(name)
        return value.strip() if isinstance(value, str) else ""

    q = given("q")
    if q:
        if len(q) > MAX_QUERY:
            errors["q"] = f"the search is longer than {MAX_QUERY} characters"
        else:
            terms = split_terms(q)
            if len(terms) > MAX_TERMS:
                errors["q"] = f"at most {MAX_TERMS} search words"
            elif terms:
                values.update(q=q, terms=terms)
                raw["q"] = q
    label = given("label")
    if label:
        if label in LABELS:
            values["label"] = raw["label"] = label
        else:
            errors["label"] = f"label must be one of {', '.join(LABELS)}"
    source = given("source")
    if source:
        if source.isdigit() and len(source) < 10:
            values["source_id"] = int(source)
            raw["source"] = source
        elif _KIND.fullmatch(source):
            values["source_kind"] = raw["source"] = source
        else:
            errors["source"] = "source must be a source id or a source kind such as rss or push"
    for name in ("since", "until"):
        text = given(name)
        if not text:
            continue
        try:
            values[name] = read_time(text, end_of_day=name == "until")
            raw[name] = text
        except ValueError:
            errors[name] = f"{name} must be an ISO 8601 date or time, e.g. 2026-05-01 or 2026-05-01T10:00:00Z"
    if values.get("since") and values.get("until") and values["since"] >= values["until"]:
        errors["until"] = "until must be after since"
        del values["until"]
        raw.pop("until")
    for name, key in (("min", "min_score"), ("max", "max_score")):
        text = given(name)
        if not text:
            continue
        try:
            values[key] = _score(text)
            raw[name] = text
        except ValueError:
            errors[name] = f"{name} must be a compound score from -1 to 1"
    if values.get("min_score") is not None and values.get("max_score") is not None \
            and values["min_score"] > values["max_score"]:
        errors["max"] = "max must not be below min"
        del values["max_score"]
        raw.pop("max")
    sort = given("sort")
    if sort:
        if sort in SORTS:
            values["sort"] = sort
            if sort != "newest":
                raw["sort"] = sort
        else:
            errors["sort"] = f"sort must be one of {', '.join(SORTS)}"
    per_page = given("per_page")
    if per_page:
        if per_page.isdigit() and int(per_page) in PER_PAGE:
            values["per_page"] = int(per_page)
            if int(per_page) != DEFAULT_PER_PAGE:
                raw["per_page"] = per_page
        else:
            errors["per_page"] = f"per_page must be one of {', '.join(map(str, PER_PAGE))}"
    page = given("page")
    if page:
        if page.isdigit() and 1 <= int(page) <= 1_000_000:
            values["page"] = int(page)
            raw["page"] = str(int(page))
        else:
            errors["page"] = "page must be a whole number from 1"
    return MentionFilter(raw=raw, **values), errors


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def conditions(monitor_id: int, spec: MentionFilter) -> list:
    """SQL conditions of `spec` on mentions (joined to sources for a kind filter)."""
    out = [Mention.monitor_id == monitor_id]
    for term in spec.terms:
        pattern = _like(term)
        out.append(or_(Mention.text.ilike(pattern, escape="\\"), Mention.author.ilike(pattern, escape="\\")))
    if spec.label:
        out.append(Mention.label == spec.label)
    if spec.source_id is not None:
        out.append(Mention.source_id == spec.source_id)
    if spec.source_kind:
        out.append(Source.kind == spec.source_kind)
    if spec.since:
        out.append(Mention.published_at >= spec.since)
    if spec.until:
        out.append(Mention.published_at < spec.until)
    if spec.min_score is not None:
        out.append(Mention.compound >= spec.min_score)
    if spec.max_score is not None:
        out.append(Mention.compound <= spec.max_score)
    return out


def ordering(spec: MentionFilter) -> list:
    return {
        "newest": [Mention.published_at.desc(), Mention.id.desc()],
        "oldest": [Mention.published_at.asc(), Mention.id.asc()],
        "positive": [Mention.compound.desc(), Mention.published_at.desc(), Mention.id.desc()],
        "negative": [Mention.compound.asc(), Mention.published_at.desc(), Mention.id.desc()],
    }[spec.sort]


@dataclass
class Page:
    rows: list          # (Mention, source kind)
    total: int
    page: int
    pages: int
    spec: MentionFilter


def count(session, monitor_id: int, spec: MentionFilter) -> int:
    """How many of the monitor's mentions match `spec`."""
    return session.execute(
        select(func.count()).select_from(Mention).join(Source, Source.id == Mention.source_id)
        .where(*conditions(monitor_id, spec))
    ).scalar()


def window(session, monitor_id: int, spec: MentionFilter, limit: int, offset: int) -> list:
    """(Mention, source kind) rows matching `spec`, in its order: `limit` of them from `offset`."""
    return session.execute(
        select(Mention, Source.kind).join(Source, Source.id == Mention.source_id)
        .where(*conditions(monitor_id, spec)).order_by(*ordering(spec)).limit(limit).offset(offset)
    ).all()


def search(session, monitor_id: int, spec: MentionFilter) -> Page:
    """One page of the monitor's mentions that match `spec`; a page past the end shows the last."""
    total = count(session, monitor_id, spec)
    pages = max(1, -(-total // spec.per_page))
    page = min(spec.page, pages)
    rows = window(session, monitor_id, spec, spec.per_page, (page - 1) * spec.per_page)
    return Page(rows=rows, total=total, page=page, pages=pages, spec=replace(spec, page=page))


EXPORT_COLUMNS = ("id", "external_id", "published_at", "source", "source_id", "author", "url", "text",
                  "compound", "pos", "neu", "neg", "label", "scored_label", "overridden_at", "backfilled")


def iter_rows(session, monitor_id: int, spec: MentionFilter, chunk: int = 1000) -> Iterator[dict]:
    """Every mention matching `spec` (no paging) in its order, as dicts of EXPORT_COLUMNS.

    Streams: plain columns (no ORM objects kept in the session) read with `yield_per`, which is
    a server-side cursor on PostgreSQL and a stepping cursor on SQLite, so memory stays flat
    however many rows match.
    """
    stmt = (
        select(Mention.id, Mention.external_id, Mention.published_at, Source.kind.label("source"),
               Mention.source_id, Mention.author, Mention.url, Mention.text, Mention.compound, Mention.pos,
               Mention.neu, Mention.neg, Mention.label, Mention.scored_label, Mention.overridden_at,
               Mention.backfilled)
        .join(Source, Source.id == Mention.source_id).where(*conditions(monitor_id, spec))
        .order_by(*ordering(spec)).execution_options(yield_per=chunk)
    )
    for row in session.connection().execute(stmt):  # Core rows: no ORM loading per row
        item = row._asdict()
        item["published_at"] = item["published_at"].isoformat()
        if item["overridden_at"] is not None:
            item["overridden_at"] = item["overridden_at"].isoformat()
        else:
            item["scored_label"] = item["label"]
        item["backfilled"] = bool(item["backfilled"])
        yield item
