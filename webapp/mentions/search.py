"""Search, filter, sort and page a monitor's mentions; the same filters drive the exports.

`parse_filters(args)` turns query-string parameters into a `MentionFilter` and a dict of
problems (pure: no database, no Flask); a bad parameter is reported and left out, never
raised. `conditions`/`ordering` turn a filter into SQL that works the same on SQLite and
PostgreSQL; `search` reads one page (`count` and `window` read a total and any slice, as the
API's limit/offset does); `iter_rows` streams every match in chunks for exports.

Parameters (all optional, all kept in the page's URL):
  q       words that must all occur (substring, case-insensitive) in the text or the author;
          "double quotes" keep a phrase together
  label   positive | neutral | negative | mixed (both parts substantial, insights/influence.py)
  lang    an ISO 639-1 code (en, fr, ...) or und
  mixed   true | false
  source  a source id, or a source kind (rss, push, ...)
  since   ISO 8601 time or date: published at or after (a date means its midnight, UTC)
  until   ISO 8601 time: published before; a date alone means up to the end of that day
  min, max  compound score bounds, from -1 to 1 (inclusive)
  tag     a tag name (the monitor's vocabulary, models.Tag)
  status  open | done
  assignee  me | nobody | a user id
  read    read | unread (for the user looking: `parse_filters(args, viewer_id)`)
  muted   hide (default: muted mentions are left out) | only | all (noise control)
  sort    newest (default) | oldest | positive (most positive first) | negative
  page    1, 2, ...     per_page  25 | 50 | 100
"""
from __future__ import annotations

import re
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Iterator, Mapping

from sqlalchemy import and_, exists, func, or_, select, text as sql_text, type_coerce
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import aliased
from sqlalchemy.types import NullType

from webapp.ingest.models import LABELS, Mention
from webapp.mentions import fulltext, records
from webapp.mentions.inbox.models import MAX_TAG, STATUSES, MentionRead, MentionState, MentionTag, Tag
from webapp.monitors.models import Source
from webapp.core.times import read_time
from webapp.insights.languages import normalize_code
from webapp.core import sql
from webapp.core.numbers import whole_number

SORTS = {"newest": "newest first", "oldest": "oldest first", "positive": "most positive first",
         "negative": "most negative first"}
LABEL_CHOICES = (*LABELS, "mixed")
PER_PAGE = (25, 50, 100)
MUTED = {"hide": "without muted mentions", "only": "muted mentions only", "all": "with muted mentions"}
DEFAULT_PER_PAGE = 50
MAX_TERMS = 10
MAX_QUERY = 200
COUNT_CAP = 1_000   # the mentions page counts matches up to this many, then shows "1000+"
MAX_DEPTH = 10_000  # matches the pages reach (page x per_page); past them, a narrower search or an export
WALK_BUDGET = 5_000  # mentions a page with more matches than it counts walks first, in its order
WALK_LIMIT = 50_000  # and at most (walk_window); beyond, every match is gathered through the index
# SQLite's word index gathers a match for the cost of about 2 walked mentions: it walks less
SQLITE_WALK_BUDGET, SQLITE_WALK_LIMIT = 1_000, 10_000
# PostgreSQL counts a word by scanning the table when the walk's share puts cap + 1 matches
# within this many mentions (about 1 µs each); a rarer word's count reads the trigram index
SCAN_LIMIT = 100_000
_TERMS = re.compile(r'"([^"]*)"|(\S+)')
_KIND = re.compile(r"[a-z][a-z0-9_]{0,31}")


@dataclass(frozen=True)
class MentionFilter:
    q: str = ""
    terms: tuple[str, ...] = ()
    label: str | None = None
    lang: str | None = None
    mixed: bool | None = None
    source_id: int | None = None
    source_kind: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    min_score: float | None = None
    max_score: float | None = None
    tag: str | None = None
    status: str | None = None
    assignee: int | str | None = None     # a user id, "nobody", or the viewer's id for "me"
    read: str | None = None               # "read" | "unread", for viewer_id
    viewer_id: int | None = None
    mention_ids: tuple[int, ...] = ()     # a selection by id (the API's bulk filter "ids")
    muted: str = "hide"                   # hide | only | all (noise control, mentions/noise.py)
    sort: str = "newest"
    # keyset paging (the API's `before`): only mentions after this (published_at, id) newest first
    after: tuple[datetime, int] | None = None
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


def clean_tag(text) -> str:
    """A tag name as stored: trimmed, lower-case, 1 to MAX_TAG printable characters (pure)."""
    if not isinstance(text, str):
        raise ValueError("a tag is a string")
    name = " ".join(text.split()).lower()
    if not name:
        raise ValueError("a tag must not be empty")
    if len(name) > MAX_TAG:
        raise ValueError(f"a tag is at most {MAX_TAG} characters")
    if not name.isprintable():
        raise ValueError("a tag must not contain control characters")
    return name


def _choice(given, name: str, options, values: dict, raw: dict, errors: dict) -> None:
    """A parameter that must be one of `options` (label, status)."""
    text = given(name)
    if text:
        if text in options:
            values[name] = raw[name] = text
        else:
            errors[name] = f"{name} must be one of {', '.join(options)}"


def _cleaned(given, name: str, clean, values: dict, raw: dict, errors: dict) -> None:
    """A parameter that `clean` normalises when given; its ValueError's message is the error."""
    text = given(name)
    if text:
        try:
            values[name] = raw[name] = clean(text)
        except ValueError as exc:
            errors[name] = str(exc)


def _inbox_filters(given, viewer_id: int | None, values: dict, raw: dict, errors: dict) -> None:
    """The inbox parameters (tag, status, assignee, read) of parse_filters."""
    _cleaned(given, "tag", clean_tag, values, raw, errors)
    _choice(given, "status", STATUSES, values, raw, errors)
    assignee = given("assignee")
    if assignee == "me" and viewer_id is not None:
        values["assignee"], raw["assignee"] = viewer_id, "me"
    elif assignee == "nobody":
        values["assignee"] = raw["assignee"] = "nobody"
    elif (user_id := whole_number(assignee)) is not None:
        values["assignee"], raw["assignee"] = user_id, assignee
    elif assignee:
        errors["assignee"] = "assignee must be me, nobody or a user id"
    read = given("read")
    if read in ("read", "unread") and viewer_id is not None:
        values["read"] = raw["read"] = read
    elif read:
        errors["read"] = "read must be read or unread"


def _language_filters(given, values: dict, raw: dict, errors: dict) -> None:
    """The lang and mixed parameters of parse_filters."""
    _cleaned(given, "lang", normalize_code, values, raw, errors)
    mixed = given("mixed").lower()
    if mixed in ("true", "false"):
        values["mixed"] = mixed == "true"
        raw["mixed"] = mixed
    elif mixed:
        errors["mixed"] = "mixed must be true or false"


def _score(value: str) -> float:
    number = float(value)
    if number != number or not -1 <= number <= 1:
        raise ValueError
    return number


def parse_filters(args: Mapping[str, str], viewer_id: int | None = None) -> tuple[MentionFilter, dict[str, str]]:
    """A MentionFilter from query-string parameters, and {parameter: problem} for bad ones (pure).

    `viewer_id` is the user looking: `assignee=me` and `read=` are about them."""
    errors: dict[str, str] = {}
    raw: dict[str, str] = {}
    values: dict = {"viewer_id": viewer_id}

    def given(name: str) -> str:
        value = args.get(name)
        return value.strip() if isinstance(value, str) else ""

    _choice(given, "muted", MUTED, values, raw, errors)
    if raw.get("muted") == "hide":  # the default: no need to keep it in links
        del raw["muted"]
    q = given("q")
    if q:
        if len(q) > MAX_QUERY:
            errors["q"] = f"the search is longer than {MAX_QUERY} characters"
        elif "\x00" in q:  # no stored text holds one (PostgreSQL text cannot)
            errors["q"] = "the search must not contain a NUL character"
        else:
            terms = split_terms(q)
            if len(terms) > MAX_TERMS:
                errors["q"] = f"at most {MAX_TERMS} search words"
            elif terms:
                values.update(q=q, terms=terms)
                raw["q"] = q
    _choice(given, "label", LABEL_CHOICES, values, raw, errors)
    if values.get("label") == "mixed":
        values["label"], values["mixed"] = None, True
    _language_filters(given, values, raw, errors)
    source = given("source")
    if source:
        if (source_id := whole_number(source, 9)) is not None:
            values["source_id"] = source_id
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
    _inbox_filters(given, viewer_id, values, raw, errors)
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
        number = whole_number(per_page, 3)
        if number in PER_PAGE:
            values["per_page"] = number
            if number != DEFAULT_PER_PAGE:
                raw["per_page"] = per_page
        else:
            errors["per_page"] = f"per_page must be one of {', '.join(map(str, PER_PAGE))}"
    page = given("page")
    if page:
        last = MAX_DEPTH // values.get("per_page", DEFAULT_PER_PAGE)
        number = whole_number(page, 7)
        if number is not None and 1 <= number <= last:
            values["page"] = number
            raw["page"] = str(number)
        else:
            errors["page"] = (f"page must be a whole number from 1 to {last}: the first {MAX_DEPTH:,} matches "
                              "are paged (narrow the search, or export every match)")
    return MentionFilter(raw=raw, **values), errors


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def word_conditions(terms, text, author) -> list:
    """Each term a case-insensitive substring of `text` or of `author` (the search's meaning)."""
    return [or_(text.ilike(pattern, escape="\\"), author.ilike(pattern, escape="\\"))
            for pattern in map(_like, terms)]


def conditions(monitor_id: int, spec: MentionFilter, session=None, m=Mention) -> list:
    """SQL conditions of `spec` on mentions, or `m` (an alias of them), joined to sources for a kind filter.

    With `session`, word searches also use the database's search index where it needs a
    condition of its own (SQLite's FTS table, mentions/fulltext.py); the answers are the same."""
    out = [m.monitor_id == monitor_id]
    if session is not None:
        out += fulltext.prefilter(session, m.id, spec.terms)
    out += word_conditions(spec.terms, m.text, m.author)
    if spec.label:
        out.append(m.label == spec.label)
    if spec.lang:
        out.append(m.lang == spec.lang)
    if spec.mixed is not None:
        out.append(m.mixed.is_(spec.mixed))
    if spec.source_id is not None:
        out.append(m.source_id == spec.source_id)
    if spec.source_kind:
        out.append(Source.kind == spec.source_kind)
    if spec.since:
        out.append(m.published_at >= spec.since)
    if spec.until:
        out.append(m.published_at < spec.until)
    if spec.after is not None:   # (the first condition bounds the (monitor, published_at) index's range)
        at, mention_id = spec.after
        out += [m.published_at <= at, or_(m.published_at < at, m.id < mention_id)]
    if spec.min_score is not None:
        out.append(m.compound >= spec.min_score)
    if spec.max_score is not None:
        out.append(m.compound <= spec.max_score)
    if spec.muted == "only":
        out.append(m.muted.is_(True))
    elif spec.muted == "hide" and not spec.mention_ids:  # a selection by id is taken as given
        out.append(m.muted.is_(False))
    return out + _inbox_conditions(monitor_id, spec, m)


def _state(m, *where):
    return exists().where(MentionState.mention_id == m.id, *where)


def _inbox_conditions(monitor_id: int, spec: MentionFilter, m=Mention) -> list:
    """EXISTS / NOT EXISTS over the inbox tables (a missing row means open, nobody, unread)."""
    out = []
    if spec.mention_ids:
        out.append(m.id.in_(spec.mention_ids))
    if spec.tag:
        out.append(exists().where(MentionTag.mention_id == m.id, MentionTag.tag_id == Tag.id,
                                  Tag.monitor_id == monitor_id, Tag.name == spec.tag))
    if spec.status == "done":
        out.append(_state(m, MentionState.status == "done"))
    elif spec.status == "open":
        out.append(~_state(m, MentionState.status == "done"))
    if spec.assignee == "nobody":
        out.append(~_state(m, MentionState.assignee_id.is_not(None)))
    elif spec.assignee is not None:
        out.append(_state(m, MentionState.assignee_id == spec.assignee))
    if spec.read and spec.viewer_id is not None:
        seen = exists().where(MentionRead.mention_id == m.id, MentionRead.user_id == spec.viewer_id)
        out.append(seen if spec.read == "read" else ~seen)
    return out


def ordering(spec: MentionFilter, columns=Mention) -> list:
    """The ORDER BY of `spec`'s sort over `columns` (mentions, or a subquery's id, published_at and
    compound columns)."""
    c = columns
    return {
        "newest": [c.published_at.desc(), c.id.desc()],
        "oldest": [c.published_at.asc(), c.id.asc()],
        # unscored mentions (no compound) last either way, on both databases
        "positive": [c.compound.desc().nulls_last(), c.published_at.desc(), c.id.desc()],
        "negative": [c.compound.asc().nulls_last(), c.published_at.desc(), c.id.desc()],
    }[spec.sort]


@dataclass
class Page:
    rows: list          # (Mention, source kind)
    total: int          # exact, or the bound when `more`
    page: int
    pages: int
    spec: MentionFilter
    more: bool = False  # more than `total` match (the page counts up to COUNT_CAP)


def count(session, monitor_id: int, spec: MentionFilter, limit: int | None = None, words: str | None = None) -> int:
    """How many of the monitor's mentions match `spec` (at most `limit`: counting stops there,
    which lets a common word's count end early instead of reading millions of rows)."""
    matches = _matches(session, monitor_id, spec, Mention.id, words=words)
    if limit is not None:
        matches = matches.limit(limit)
    with _reading_words(session, words):
        return session.execute(select(func.count()).select_from(matches.subquery())).scalar()


def _matches(session, monitor_id: int, spec: MentionFilter, *columns, words: str | None = None):
    """SELECT `columns` (of Mention) of the monitor's mentions matching `spec`, joined to sources.

    `words` (PostgreSQL; the statement runs inside `_reading_words`): the word conditions in a
    subquery of their own (OFFSET 0: the planner keeps the other filters out of it), read by the
    way named ("index": the trigram indexes alone; "scan": the table in its order; "either": as
    the planner likes), the other
    filters tested on what it finds in turn; so a LIMIT outside stops the reads, and no bitmap of
    another index (half a monitor's labels) is joined to the words'. Else (None) the planner
    chooses, and SQLite's FTS table drives when it can (a match at a time)."""
    if words:
        worded = select(Mention).where(Mention.monitor_id == monitor_id,
                                       *word_conditions(spec.terms, Mention.text, Mention.author)) \
            .offset(0).subquery("worded")
        m = aliased(Mention, worded)
        return select(*(getattr(m, c.key) for c in columns)).join(Source, Source.id == m.source_id) \
            .where(*conditions(monitor_id, replace(spec, terms=()), m=m))
    match = fulltext.match_condition(session, spec.terms)
    if match is None:
        return select(*columns).join(Source, Source.id == Mention.source_id) \
            .where(*conditions(monitor_id, spec, session))
    return select(*columns).select_from(fulltext.FTS).join(Mention, Mention.id == fulltext.FTS.c.rowid) \
        .join(Source, Source.id == Mention.source_id).where(match, *conditions(monitor_id, spec))


# how `_matches(words=...)` reads the words on PostgreSQL: the plan setting ruled out meanwhile
# ("either": the planner's choice, for words without a trigram)
_WORD_READS = {"index": "enable_seqscan", "scan": "enable_bitmapscan", "either": None}
# a run pg_trgm makes trigrams of in any locale (in the C locale it indexes ASCII letters and digits only)
_TRIGRAM_RUN = re.compile(r"[A-Za-z0-9]{3}")


def _index_read(terms) -> str:
    """How the gathering reads the words: "index" when a term has a run the trigram indexes
    know, else "either" (ruling out a scan for words the index cannot narrow would read the
    whole index)."""
    return "index" if any(_TRIGRAM_RUN.search(t) for t in terms) else "either"


@contextmanager
def _reading_words(session, words: str | None):
    """The statements inside planned so that the words' subquery is read `words`' way
    (PostgreSQL: sequential or bitmap scans ruled out for this transaction, then restored; a
    statement that fails leaves the transaction to be rolled back, which undoes it too)."""
    setting = _WORD_READS[words] if words else None
    if setting is None:
        yield
        return
    session.execute(sql_text(f"SET LOCAL {setting} = off"))
    yield
    session.execute(sql_text(f"SET LOCAL {setting} TO DEFAULT"))


def window(session, monitor_id: int, spec: MentionFilter, limit: int, offset: int) -> list:
    """(Mention, source kind) rows matching `spec`, in its order: `limit` of them from `offset`."""
    return session.execute(
        select(Mention, Source.kind).join(Source, Source.id == Mention.source_id)
        .where(*conditions(monitor_id, spec, session)).order_by(*ordering(spec)).limit(limit).offset(offset)
    ).all()


def walk_window(session, monitor_id: int, spec: MentionFilter, limit: int, offset: int) -> list | None:
    """window's rows found by walking the monitor's mentions in `spec`'s order (its other filters
    applied through their indexes), testing each for the words, or None when a walk within
    WALK_LIMIT mentions would not reach them (the caller then gathers every match).

    For a common word this is the cheap way: the page's rows come first and no word index is
    read (which would gather every match first). The walk is a subquery with a LIMIT (its
    budget), so the planner can neither push the word conditions into it nor plan it as a scan
    and sort of every mention (at 10 M mentions it guessed two common words rare and sorted them
    all: 36 s). The first walk reads WALK_BUDGET mentions; when they hold too few matches, their
    share sizes one longer walk (a quarter more than the share says it needs), taken only when
    it stays within WALK_LIMIT: a rarer word is cheaper to gather through the index (SQLite,
    whose FTS table gathers cheaply, walks SQLITE_WALK_BUDGET and at most SQLITE_WALK_LIMIT)."""
    need = offset + limit
    budget, most = WALK_BUDGET, WALK_LIMIT
    if session.get_bind().dialect.name != "postgresql":
        budget, most = min(budget, SQLITE_WALK_BUDGET), min(most, SQLITE_WALK_LIMIT)
    while True:
        rows = _walk(session, monitor_id, spec, need, budget)
        if len(rows) >= need:
            return rows[offset:]
        budget = _longer_walk(budget, len(rows), need, most)
        if budget is None:
            return None


def _longer_walk(budget: int, found: int, need: int, most: int) -> int | None:
    """The next walk's length after `budget` mentions held `found` matches of the `need`: a
    quarter more than their share says it takes, or None when that passes `most` (pure)."""
    longer = -(-budget * need * 5 // (4 * found)) if found else most + 1
    return None if budget >= most or longer > most else longer


def _walked(monitor_id: int, spec: MentionFilter, budget: int, *columns):
    """The subquery "walked": `columns` of the monitor's first `budget` mentions in `spec`'s
    order, every filter but the words applied (they are tested outside it)."""
    return select(*columns).join(Source, Source.id == Mention.source_id) \
        .where(*conditions(monitor_id, replace(spec, terms=()))).order_by(*ordering(spec)).limit(budget) \
        .subquery("walked")


def _walk(session, monitor_id: int, spec: MentionFilter, need: int, budget: int) -> list:
    """The first `need` matches among the monitor's first `budget` mentions in `spec`'s order."""
    walked = _walked(monitor_id, spec, budget, Mention, Source.kind.label("source_kind"))
    return session.execute(
        select(aliased(Mention, walked), walked.c.source_kind)
        .where(*word_conditions(spec.terms, walked.c.text, walked.c.author))
        .order_by(*ordering(spec, walked.c)).limit(need)).all()


def search(session, monitor_id: int, spec: MentionFilter) -> Page:
    """One page of the monitor's mentions that match `spec`; a page past the end shows the last.

    Counts up to COUNT_CAP matches (or to the page asked for, if deeper): past that the page
    says "more than", so a common word over millions of mentions answers as fast as a rare one.

    One statement gathers up to cap + 1 matches (each tested once, through the word index when
    the planner finds that cheaper), counts them and returns the page of them in its order
    (`page_of_matches`). When more match, the page is read by walking the monitor's newest (in
    the page's order) WALK_BUDGET mentions (`walk_window`), which a common word fills at once;
    when they hold too few matches, every match is gathered through the word index and sorted.
    PostgreSQL walks first instead (`_search_walking_first`)."""
    cap = max(COUNT_CAP, spec.page * spec.per_page)
    if spec.terms and session.get_bind().dialect.name == "postgresql":
        return _search_walking_first(session, monitor_id, spec, cap)
    page = _gathered_page(session, monitor_id, spec, cap, cap + 1)
    if page.more:  # its rows are the first matches the plan met: the page is read in order
        offset = (page.page - 1) * spec.per_page
        rows = walk_window(session, monitor_id, spec, spec.per_page, offset)
        page.rows = rows if rows is not None else page_of_matches(session, monitor_id, spec, None, offset)[0]
    return page


class SearchTooSlow(Exception):
    """A search stopped after the time it was given (`bounded_search`); the message says what to do."""


def bounded_search(session, monitor_id: int, spec: MentionFilter, seconds: float) -> Page:
    """`search` with its statements stopped once `seconds` have passed, in all, on PostgreSQL (0: never;
    core.sql.time_bound): SearchTooSlow when one was, the request's transaction going on. What
    the trigram indexes cannot narrow (a term without three letters or digits in a row) is read
    from the table, which at millions of mentions takes longer than a page should keep a web
    thread and the database busy. SQLite's full-text table reads one match at a time."""
    try:
        with sql.time_bound(session, seconds):
            return search(session, monitor_id, spec)
    except sql.TimedOut as exc:
        raise SearchTooSlow(
            f"the search took more than {exc.seconds:g} s and was stopped: narrow it (a longer or rarer word, "
            "a shorter time range, a label or a source), or export every match") from None


def empty_page(spec: MentionFilter) -> Page:
    """A Page with no rows, for a search that was not run (pure)."""
    return Page(rows=[], total=0, page=1, pages=1, spec=replace(spec, page=1))


def _counted(spec: MentionFilter, found: int, cap: int, rows: list) -> Page:
    """A Page of `rows` for `found` matches counted up to `cap` + 1: the total shown, the pages,
    and the page shown (the last when `spec`'s is past the end) (pure)."""
    total = min(found, cap)
    pages = max(1, -(-total // spec.per_page))
    page = min(spec.page, pages)
    return Page(rows=rows, total=total, page=page, pages=pages, spec=replace(spec, page=page), more=found > cap)


def _search_walking_first(session, monitor_id: int, spec: MentionFilter, cap: int) -> Page:
    """search on PostgreSQL: the words' share among the newest mentions decides the way.

    pg_trgm cannot tell the planner how rare a substring is (it guesses about 1 %), so at 10 M
    mentions one statement for the count and the page was a gamble: a word of 0.02 % read by a
    scan meant to stop after 1,001 matches (6 s). Here the walk comes first (`_walk_hits`: the
    monitor's first WALK_BUDGET mentions in the page's order, its other filters through their
    indexes, the words tested on each) and decides:

    * more than `cap` matches walked, or the monitor walked to its end: the count and the page
      are the walk's (a common word ends here);
    * the page's matches walked but fewer than `cap`: the page is the walk's, and the count
      stops at `cap` + 1 (`count(..., words=...)`): by a scan in the table's order when the
      walk's share says cap + 1 lie within its first SCAN_LIMIT mentions, else through the
      trigram index (whose common trigrams cost more than such a scan);
    * too few for the page: once more, as many mentions as the share says the page needs, when
      that stays within WALK_LIMIT; else every match is gathered through the trigram index and
      sorted (a rare word: few matches)."""
    need = spec.page * spec.per_page
    budget = WALK_BUDGET
    while True:
        hits, walked = _walk_hits(session, monitor_id, spec, budget)
        if walked < budget or len(hits) > cap:  # walked to the end, or more than counted
            found = len(hits)
            break
        if len(hits) >= need:  # a scan in the table's order finds cap + 1 where the share says
            scan = (cap + 1) * walked <= SCAN_LIMIT * len(hits)
            found = count(session, monitor_id, spec, limit=cap + 1, words="scan" if scan else _index_read(spec.terms))
            break
        budget = _longer_walk(budget, len(hits), need, WALK_LIMIT)
        if budget is None:  # a rare word: every match gathered through the trigram index
            return _gathered_page(session, monitor_id, spec, cap, None, _index_read(spec.terms))
    page = _counted(spec, found, cap, [])
    page.rows = _rows_in_order(session, hits[(page.page - 1) * spec.per_page:page.page * spec.per_page])
    return page


def _gathered_page(session, monitor_id: int, spec: MentionFilter, cap: int, limit: int | None,
                   words: str | None = None) -> Page:
    """search's count and page from one gathering of up to `limit` matches (`page_of_matches`,
    reading the words `words`' way); a page past the end shows the last. With more than `cap`
    matches and a `limit`, the rows are the first the plan met (the caller reads the page)."""
    rows, found = page_of_matches(session, monitor_id, spec, limit, (spec.page - 1) * spec.per_page, words)
    if found is None:  # no row on the page asked for: no match at all, or a page past the end
        found = 0 if spec.page == 1 else count(session, monitor_id, spec, limit=cap + 1, words=words)
    page = _counted(spec, found, cap, rows)
    if page.page != spec.page and page.total:
        page.rows, _ = page_of_matches(session, monitor_id, spec, limit, (page.page - 1) * spec.per_page, words)
    return page


def _walk_hits(session, monitor_id: int, spec: MentionFilter, budget: int) -> tuple[list[int], int]:
    """(the ids of the matches among the monitor's first `budget` mentions in `spec`'s order, in
    that order; how many mentions were walked): one row from PostgreSQL (array_agg)."""
    walked = _walked(monitor_id, spec, budget, Mention.id, Mention.published_at, Mention.compound,
                     Mention.text, Mention.author)
    hit = and_(*word_conditions(spec.terms, walked.c.text, walked.c.author))
    ids, n = session.execute(select(
        func.array_agg(aggregate_order_by(walked.c.id, *ordering(spec, walked.c))).filter(hit),
        func.count())).one()
    return ids or [], n


def _rows_in_order(session, ids: list[int]) -> list:
    """(Mention, source kind) rows of `ids`, in their order."""
    if not ids:
        return []
    found = {m.id: (m, kind) for m, kind in session.execute(
        select(Mention, Source.kind).join(Source, Source.id == Mention.source_id).where(Mention.id.in_(ids)))}
    return [found[i] for i in ids if i in found]


def page_of_matches(session, monitor_id: int, spec: MentionFilter, limit: int | None, offset: int,
                    words: str | None = None) -> tuple[list, int | None]:
    """((Mention, source kind) rows, how many matched) of up to `limit` (None: every) mentions
    matching `spec` (which ones, when more match, is the plan's choice): `spec.per_page` of them
    from `offset` in `spec`'s order, and their number (None when the page holds no row)."""
    matches = _matches(session, monitor_id, spec, Mention.id, Mention.published_at, Mention.compound,
                       words=words).limit(limit).cte("matches").prefix_with("MATERIALIZED")
    page = select(matches.c.id, matches.c.published_at, matches.c.compound, func.count().over().label("found")) \
        .order_by(*ordering(spec, matches.c)).limit(spec.per_page).offset(offset).subquery("page")
    with _reading_words(session, words):
        rows = session.execute(
            select(Mention, Source.kind, page.c.found).join(page, page.c.id == Mention.id)
            .join(Source, Source.id == Mention.source_id).order_by(*ordering(spec, page.c))).all()
    return [(mention, kind) for mention, kind, _ in rows], (rows[0].found if rows else None)


EXPORT_COLUMNS = ("id", "external_id", "published_at", "source", "source_id", "author", "url", "text",
                  "compound", "pos", "neu", "neg", "label", "scored_label", "overridden_at", "backfilled",
                  "lang", "scored", "mixed", "reach", "engagement")
# The export columns that hold text from outside (the only ones a spreadsheet formula can start).
EXPORT_FREE_TEXT = tuple(EXPORT_COLUMNS.index(c) for c in ("external_id", "author", "url", "text"))


EXPORT_CHUNK = 1000  # rows per read from the cursor (and per chunk of an export's body)


def iter_record_batches(session, monitor_id: int, spec: MentionFilter, chunk: int = EXPORT_CHUNK) -> Iterator[list]:
    """Every mention matching `spec` (no paging) in its order, in lists of up to `chunk` tuples of
    EXPORT_COLUMNS ready to write: times in ISO 8601, `scored_label` the label itself unless an
    editor overrode it (records.converter).

    Streams: a server-side cursor on PostgreSQL (`yield_per`) and SQLite's stepping cursor read
    `chunk` rows at a time, so memory stays flat however many rows match. The columns are read
    without SQLAlchemy's type processing and turned into tuples a batch at a time, which keeps
    the export's cost near the cursor's own.
    """
    # the driver's values, untouched by SQLAlchemy's types (records.converter formats them)
    columns = [type_coerce(c, NullType()).label(c.key) for c in (
        Mention.id, Mention.external_id, Mention.published_at, Source.kind, Mention.source_id, Mention.author,
        Mention.url, Mention.text, Mention.compound, Mention.pos, Mention.neu, Mention.neg, Mention.label,
        Mention.scored_label, Mention.overridden_at, Mention.backfilled, Mention.lang, Mention.scored,
        Mention.mixed, Mention.reach, Mention.engagement)]
    stmt = (
        select(*columns).join(Source, Source.id == Mention.source_id).where(*conditions(monitor_id, spec, session))
        .order_by(*ordering(spec))
    )
    connection = session.connection()
    convert = records.converter(connection.dialect)
    if connection.dialect.name != "sqlite":
        for rows in connection.execute(stmt.execution_options(yield_per=chunk)).partitions():
            yield convert(rows)
        return
    # SQLite's cursor steps as it is read: its rows are taken from it directly, as the driver's
    # tuples, without a Row object made for each (about a tenth of a CSV export's cost)
    result = connection.execute(stmt)
    try:
        while rows := result.cursor.fetchmany(chunk):
            yield convert(rows)
    finally:
        result.close()


def iter_records(session, monitor_id: int, spec: MentionFilter, chunk: int = EXPORT_CHUNK) -> Iterator[tuple]:
    """iter_record_batches, one tuple at a time."""
    for batch in iter_record_batches(session, monitor_id, spec, chunk):
        yield from batch


def iter_rows(session, monitor_id: int, spec: MentionFilter, chunk: int = 1000) -> Iterator[dict]:
    """iter_records as dicts of EXPORT_COLUMNS."""
    for record in iter_records(session, monitor_id, spec, chunk):
        yield dict(zip(EXPORT_COLUMNS, record))
