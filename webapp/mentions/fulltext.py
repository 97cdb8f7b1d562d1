"""The word-search indexes over mentions' text and author, and the prefilter that uses them.

The search's meaning is fixed by `search.conditions`: every term is a case-insensitive substring
of the text or of the author (`ILIKE '%term%'`). The indexes only make that fast, the answers
stay the same:

* PostgreSQL: pg_trgm GIN indexes on `mentions.text` and `mentions.author` (PG_INDEXES). The
  planner uses them for `ILIKE '%term%'` as written (a bitmap scan with a recheck of the real
  condition), so the SQL does not change.
* SQLite: an FTS5 table with the trigram tokenizer over (text, author), its content read from
  `mentions` (external content: the text is stored once) and kept in step by triggers on
  insert, update of text/author and delete (a monitor's delete cascades and retention pruning
  are plain deletes, so they fire them too). `prefilter` adds `id IN (SELECT rowid ... MATCH)`
  for the terms of 3+ characters; FTS5 folds case over all of Unicode where SQLite's LIKE folds
  ASCII only, so the prefilter finds a superset and the LIKE condition, still applied, decides.

Migration 0024 makes both (and fills the FTS table from the rows already there), and the
indexes of the sorts by score (SORT_INDEXES), which the models leave out because their column
orders (NULLS LAST) differ between the databases.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary

from sqlalchemy import column, select, table

FTS_TABLE = "mentions_fts"
PG_INDEXES = {"ix_mentions_text_trgm": "text", "ix_mentions_author_trgm": "author"}
# The sorts by score (search.ordering "positive" and "negative", unscored last) read these instead
# of sorting every match: {name: (PostgreSQL columns, SQLite columns)}. SQLite keeps NULLs lowest,
# so a DESC column has them last already and its planner serves NULLS LAST from these.
SORT_INDEXES = {
    "ix_mentions_monitor_positive": ("monitor_id, compound DESC NULLS LAST, published_at DESC, id DESC",
                                     "monitor_id, compound DESC, published_at DESC, id DESC"),
    "ix_mentions_monitor_negative": ("monitor_id, compound ASC NULLS LAST, published_at DESC, id DESC",
                                     "monitor_id, compound, published_at DESC, id DESC"),
}
# A trigram index can only find terms of at least 3 characters; a NUL is left to the LIKE alone.
MIN_TERM = 3

SQLITE_CREATE = (
    f"CREATE VIRTUAL TABLE {FTS_TABLE} USING fts5(text, author, content='mentions', "
    "content_rowid='id', tokenize='trigram')",
    f"""CREATE TRIGGER {FTS_TABLE}_insert AFTER INSERT ON mentions BEGIN
  INSERT INTO {FTS_TABLE}(rowid, text, author) VALUES (new.id, new.text, new.author);
END""",
    f"""CREATE TRIGGER {FTS_TABLE}_delete AFTER DELETE ON mentions BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, author) VALUES ('delete', old.id, old.text, old.author);
END""",
    f"""CREATE TRIGGER {FTS_TABLE}_update AFTER UPDATE OF id, text, author ON mentions BEGIN
  INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, text, author) VALUES ('delete', old.id, old.text, old.author);
  INSERT INTO {FTS_TABLE}(rowid, text, author) VALUES (new.id, new.text, new.author);
END""",
)
SQLITE_FILL = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')"
SQLITE_CHECK = f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('integrity-check')"
SQLITE_DROP = (*(f"DROP TRIGGER IF EXISTS {FTS_TABLE}_{what}" for what in ("insert", "delete", "update")),
               f"DROP TABLE IF EXISTS {FTS_TABLE}")

FTS = table(FTS_TABLE, column("rowid"), column(FTS_TABLE))
_present: WeakKeyDictionary = WeakKeyDictionary()


def statements(dialect: str) -> list[str]:
    """The statements that make the search and sort indexes on `dialect` and fill them."""
    sorts = [f"CREATE INDEX IF NOT EXISTS {name} ON mentions ({columns[dialect == 'sqlite']})"
             for name, columns in SORT_INDEXES.items()]
    if dialect == "sqlite":
        return [*SQLITE_CREATE, SQLITE_FILL, *sorts]
    if dialect == "postgresql":
        return ["CREATE EXTENSION IF NOT EXISTS pg_trgm", *sorts, *(
            f"CREATE INDEX IF NOT EXISTS {name} ON mentions USING gin ({col} gin_trgm_ops)"
            for name, col in PG_INDEXES.items())]
    return sorts


def create(bind) -> None:
    """Make the indexes on `bind` (a connection) and fill them from the rows already there."""
    for statement in statements(bind.dialect.name):
        bind.exec_driver_sql(statement)


def drop(bind) -> None:
    names = [*SORT_INDEXES, *(PG_INDEXES if bind.dialect.name == "postgresql" else ())]
    for statement in (*(SQLITE_DROP if bind.dialect.name == "sqlite" else ()),
                      *(f"DROP INDEX IF EXISTS {name}" for name in names)):
        bind.exec_driver_sql(statement)


def is_search_object(name: str | None) -> bool:
    """Whether `name` is one of these indexes or the FTS table's own tables (made by the
    migration, not by the models: schema comparisons leave them out)."""
    return bool(name) and (name in PG_INDEXES or name in SORT_INDEXES or name == FTS_TABLE
                           or name.startswith(FTS_TABLE + "_"))


def include_name(name, type_, parent_names) -> bool:
    """Alembic's include_name hook: everything but the search objects."""
    return not is_search_object(name)


def sqlite_index_present(session) -> bool:
    """Whether the SQLite database behind `session` has the FTS table (looked up once per engine)."""
    engine = session.get_bind()
    known = _present.get(engine)
    if known is None:
        known = session.execute(select(column("name")).select_from(table("sqlite_master"))
                                .where(column("name") == FTS_TABLE)).first() is not None
        _present[engine] = known
    return known


def match_expression(terms) -> str | None:
    """An FTS5 query that every row matching all of `terms` as substrings matches, or None when
    no term is long enough for a trigram index (pure). Each term is one quoted FTS5 string."""
    usable = [t for t in terms if len(t) >= MIN_TERM and "\x00" not in t]
    if not usable:
        return None
    return " AND ".join('"' + t.replace('"', '""') + '"' for t in usable)


def match_condition(session, terms):
    """SQLite's `mentions_fts MATCH ...` condition that every mention matching all of `terms`
    meets (on the FTS table, FTS), or None: on PostgreSQL, with no usable term, or no index."""
    if session.get_bind().dialect.name != "sqlite" or not terms:
        return None
    expression = match_expression(terms)
    if expression is None or not sqlite_index_present(session):
        return None
    return FTS.c[FTS_TABLE].op("MATCH")(expression)


def prefilter(session, id_column, terms) -> list:
    """Extra conditions on `id_column` that let SQLite answer word searches from its FTS index
    ([] on PostgreSQL, where the trigram indexes serve ILIKE directly, or with no usable term)."""
    match = match_condition(session, terms)
    return [] if match is None else [id_column.in_(select(FTS.c.rowid).where(match))]
