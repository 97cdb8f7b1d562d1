"""Small SQL helpers that differ by dialect (SQLite in the embedded default, PostgreSQL)."""
from __future__ import annotations

import time
from contextlib import contextmanager

from sqlalchemy import event, func, select
from sqlalchemy.dialects import postgresql, sqlite


def insert_for(bind):
    """The dialect's INSERT construct, which has ON CONFLICT support on both SQLite and PostgreSQL."""
    name = bind.dialect.name
    if name == "postgresql":
        return postgresql.insert
    if name == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"Sentimon supports SQLite and PostgreSQL, not {name}")


_KEEP = "sentimon.keep_reader_writes"


def keep_writes(session) -> None:
    """Say that what this transaction wrote while reading is upkeep worth keeping (a reader's fold
    of pending term deltas): `end_read` then commits it instead of dropping it, so the next reader
    does not do it again."""
    _own(session).info[_KEEP] = True


def end_read(session) -> None:
    """End a request's transaction that only read with COMMIT instead of the rollback the
    session's close would send (PostgreSQL): the same for the data, but psycopg forgets every
    statement it prepared on the connection at a rollback (and the pool skips its own rollback
    after an ended transaction), so the server would parse and plan each statement of every
    request again: most of PostgreSQL's CPU per dashboard page. Only when the transaction wrote
    nothing (the server assigned it no transaction id) and nothing is pending in the session:
    anything written and not committed by the request is still rolled back, unless a reader
    marked its writes as upkeep to keep (`keep_writes`: committed, on both databases). Otherwise
    a no-op on SQLite (its driver keeps its statement cache across rollbacks)."""
    session = _own(session)
    keep = session.info.pop(_KEEP, False)
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return
    if keep:
        session.commit()
        return
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return
    cursor = reused_cursor(connection.connection)
    wrote = cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NOT NULL").fetchone()[0]
    if not wrote:
        session.commit()


def _own(session):
    """A scoped_session's own Session (each attribute of the scoped one looks it up again)."""
    return session() if hasattr(session, "registry") else session


def run(session, statement, params: dict):
    """`session.execute(statement, params)` for a prebuilt Core statement (bindparams, built once),
    run on the session's connection: the same rows and the same autoflush, without the ORM layer's
    per-statement work (about half the CPU of a small read on a page)."""
    if session.autoflush:
        session.flush()   # a no-op when nothing is pending, as session.execute's autoflush
    return session.connection().execute(statement, params)


class Rows(tuple):
    """Rows of a prebuilt statement as the driver returned them (`raw_rows`): plain tuples, cheap
    to read, hash and compare, so a page can key what it renders by them. `processed()` gives the
    values `session.execute` would (aware datetimes of UTCDateTime columns, SQLite's text times
    and JSON read), for the rare request that builds something from them."""

    def processed(self) -> tuple:
        if not self:
            return ()
        at = _processors(*self.origin)
        if not at:
            return tuple(self)
        out = []
        for row in self:
            row = list(row)
            for i, process in at:
                if row[i] is not None:
                    row[i] = process(row[i])
            out.append(tuple(row))
        return tuple(out)


_compiled: dict = {}
_processing: dict = {}


def _processors(compiled, dialect, type_codes: tuple) -> tuple:
    """(column index, result processor) of the columns whose values the dialect converts."""
    key = (compiled, dialect.name, type_codes)
    found = _processing.get(key)
    if found is None:
        found = _processing[key] = tuple(
            (i, process) for i, process in enumerate(
                column[3]._cached_result_processor(dialect, code)
                for column, code in zip(compiled._result_columns, type_codes)) if process is not None)
    return found


def rows(session, statement, params: dict, raw: bool = False, binary: bool = False) -> tuple:
    """The rows of a prebuilt statement as plain tuples: as `run` gives them, or with `raw` the
    driver's own (`raw_rows`, `Rows.processed` converts them)."""
    if raw:
        return raw_rows(session, statement, params, binary)
    return tuple(map(tuple, run(session, statement, params).all()))


def raw_rows(session, statement, params: dict, binary: bool = False) -> Rows:
    """`run(session, statement, params)`'s rows without SQLAlchemy's per-execution work: the
    statement (prebuilt, bindparams) is compiled once per dialect and run on the session's own
    DBAPI connection (same transaction, same autoflush), its parameters converted by the same
    bind processors. About 0.1 ms a small read instead of 0.25 ms; the values are the driver's
    (see `Rows.processed`). `binary`: PostgreSQL sends the values in its binary format, the same
    values (and hashes) for the built-in types of numbers, times and text, read with about a
    third less CPU; for reads of hundreds of rows (no other types: an unknown one comes as bytes)."""
    session = _own(session)
    if session.autoflush:
        session.flush()
    connection = session.connection()
    dialect = connection.dialect
    key = (statement, dialect.name, dialect.paramstyle)
    compiled = _compiled.get(key)
    if compiled is None:
        compiled = _compiled[key] = statement.compile(dialect=dialect)
    bind = compiled._bind_processors
    if compiled.post_compile_params or compiled.literal_execute_params:   # e.g. an expanding IN list
        text, given, order, processors = _expanded(compiled, params)
        if processors:   # those of the names the list was written out to
            bind = {**bind, **processors}
    else:
        text, given, order = compiled.string, compiled.construct_params(params), compiled.positiontup
    values = {name: (bind[name](value) if name in bind else value) for name, value in given.items()}
    if order is not None:
        values = tuple(values[name] for name in order)
    cursor = reused_cursor(connection.connection)
    if binary and dialect.name == "postgresql":
        cursor.execute(text, values, binary=True)
    else:
        cursor.execute(text, values)
    found = Rows(cursor.fetchall())
    result = getattr(cursor, "pgresult", None)   # PostgreSQL's column types, without description's objects
    found.origin = (compiled, dialect, tuple(result.ftype(i) for i in range(result.nfields)) if result is not None
                    else (None,) * len(cursor.description or ()))
    return found


_expansions: dict = {}


def _expanded(compiled, params: dict) -> tuple:
    """(SQL text, parameters, positional order, bind processors) of a statement whose expanding
    IN lists are written out for `params`. The text of lists of plain values depends only on
    their lengths, so it is written once per lengths (writing it out was a third of the feed's
    read of its dozen shown rows) and only the values are put in on every call."""
    lists = {b.key: params[b.key] if b.key in params else b.value for b in compiled.post_compile_params}
    if compiled.literal_execute_params or any(
            not isinstance(v, (list, tuple)) or any(isinstance(x, (list, tuple)) for x in v) for v in lists.values()):
        state = compiled.construct_expanded_state(params)   # values written into the text, or tuples
        return state.statement, state.parameters, state.positiontup, state.processors
    key = (compiled, tuple(sorted((name, len(v)) for name, v in lists.items())))
    found = _expansions.get(key)
    if found is None:
        if len(_expansions) >= 1024:   # lengths are few (a page's lists are of fixed size); bound it anyway
            _expansions.clear()
        state = compiled.construct_expanded_state(params)
        found = _expansions[key] = (state.statement, state.parameter_expansion, state.positiontup, state.processors)
    text, expansion, order, processors = found
    given = compiled.construct_params(params)
    for name, names in expansion.items():
        given.update(zip(names, given.pop(name)))
    return text, given, order, processors


QUERY_CANCELED = "57014"   # PostgreSQL's SQLSTATE of a statement stopped by statement_timeout


class TimedOut(Exception):
    """The statements inside `time_bound` ran past its `seconds` and were stopped."""

    def __init__(self, seconds: float):
        super().__init__(f"the statements took more than {seconds:g} s and were stopped")
        self.seconds = seconds


SHORTEN_MS = 250   # time_bound sets the timeout again before a statement once this much has passed


@contextmanager
def time_bound(session, seconds: float | None):
    """The statements inside stopped once `seconds` have passed since the block began, together
    (PostgreSQL's statement_timeout; None or 0: never), raising TimedOut; the session's transaction
    then goes on as it was before (a savepoint, whose rollback also undoes the setting and any SET
    LOCAL inside). A reader whose statements can run long at millions of mentions (a word the
    trigram index cannot narrow, a deep OFFSET) ends with a message instead of holding a web
    thread and the database past the web server's own worker timeout, however many statements
    it runs: before each statement run through SQLAlchemy the timeout is set again to what is
    left, once that is SHORTEN_MS less than the last setting (a fast search sets it once), and a
    statement due after the end is not sent. SQLite runs them unbounded."""
    if not seconds or seconds < 0 or session.get_bind().dialect.name != "postgresql":
        yield
        return
    deadline = time.monotonic() + seconds
    given = max(1, round(seconds * 1000))    # the timeout set last, in ms

    def shorten(_conn, cursor, *_args) -> None:
        nonlocal given
        left = round((deadline - time.monotonic()) * 1000)
        if left <= 0:
            raise TimedOut(seconds)
        if left < given - SHORTEN_MS:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", (str(left),))
            given = left

    try:
        with session.begin_nested():
            connection = session.connection()
            before = session.execute(select(func.current_setting("statement_timeout"), func.set_config(
                "statement_timeout", str(given), True))).first()[0]
            event.listen(connection, "before_cursor_execute", shorten)
            try:
                yield
            finally:
                event.remove(connection, "before_cursor_execute", shorten)
            session.execute(select(func.set_config("statement_timeout", before, True)))
    except TimedOut:
        raise
    except Exception as exc:   # SQLAlchemy's OperationalError, or psycopg's own from a raw cursor
        if getattr(getattr(exc, "orig", exc), "sqlstate", None) != QUERY_CANCELED:
            raise
        raise TimedOut(seconds) from None


_CURSOR = "sentimon.cursor"


def reused_cursor(pooled):
    """The one DBAPI cursor that `raw_rows` runs its statements on, made once per DBAPI connection
    and kept in its pool record (`pooled.info`, dropped with the connection): making and closing
    a psycopg cursor was about a third of a small read's CPU, and a page makes about fifteen. A
    connection serves one thread at a time, and each read fetches all its rows at once, so no
    two reads share it at the same time."""
    dbapi_connection = pooled.dbapi_connection
    cursor = pooled.info.get(_CURSOR)
    if cursor is None or cursor.connection is not dbapi_connection or getattr(cursor, "closed", False):
        cursor = pooled.info[_CURSOR] = dbapi_connection.cursor()
    return cursor


def unnest_select(table, columns: dict):
    """`SELECT unnest(:col_a), unnest(:col_b), ...` (PostgreSQL): rows given as one array per
    column name of `table`, for `insert(table).from_select(list(columns), ...)`. A dozen
    parameters instead of a dozen per row, which the driver would otherwise rewrite per batch."""
    from sqlalchemy import select

    return select(*[_unnest_array(table, name, values) for name, values in columns.items()])


def _unnest_array(table, name: str, values: list):
    from sqlalchemy import bindparam, cast, func
    from sqlalchemy.dialects.postgresql import ARRAY

    kind = ARRAY(table.c[name].type)
    return func.unnest(cast(bindparam(f"col_{name}", values, type_=kind), kind)).label(name)


@contextmanager
def sqlite_foreign_keys_off(bind):
    """Table rebuilds inside run with SQLite's foreign keys off (a no-op on other databases).

    SQLite rebuilds a table to change a column; dropping a parent table while foreign keys are on
    deletes its children (ON DELETE CASCADE). The PRAGMA only takes effect outside a
    transaction, hence the commit before it; the foreign keys are checked before they go back on.
    Used by migrations (0011, 0015).
    """
    if bind.dialect.name != "sqlite":
        yield
        return
    raw = bind.connection.dbapi_connection
    raw.commit()
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
        problems = raw.execute("PRAGMA foreign_key_check").fetchall()
        if problems:
            raise RuntimeError(f"foreign key problems after the rebuild: {problems[:5]}")
        raw.commit()
    finally:
        raw.execute("PRAGMA foreign_keys=ON")

def delete_cascading(session, obj) -> None:
    """Delete `obj`'s row with one DELETE and let the database's ON DELETE CASCADE remove what
    depends on it (SQLite enforces foreign keys: create_app switches them on per connection);
    the ORM loads no children. Commits."""
    from sqlalchemy import delete, inspect

    mapper = inspect(obj).mapper
    key = {column.key: getattr(obj, column.key) for column in mapper.primary_key}
    session.expunge(obj)
    session.execute(delete(mapper.class_).where(*(getattr(mapper.class_, k) == v for k, v in key.items())))
    session.commit()


def insert_rows(session, stmt, rows: list[dict]) -> None:
    """`session.execute(stmt, rows)` for an INSERT (with its ON CONFLICT clause) of many rows that
    have the same keys. On PostgreSQL it is one statement reading one array per column
    (`INSERT ... SELECT unnest(...)`, `unnest_rows`, rows in the given order), not one statement
    per row, which the server would plan and run thousands of times per batch; SQLite takes the
    executemany."""
    if not rows:
        return
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        session.execute(stmt, rows)
        return
    session.execute(stmt.from_select(*unnest_rows(bind, stmt.table, rows)))


SEP, NULL = "\x1f", "\x1e"   # ASCII unit and record separators: control characters, not text


def joined_text(values) -> str:
    """A column's values as text joined by SEP (None as NULL), for `string_to_array(..., SEP,
    NULL)` on the server; each distinct value's text is made once (a batch repeats its few
    monitors, starts and small counts)."""
    try:
        text = {value: NULL if value is None else str(value) for value in set(values)}
    except TypeError:   # unhashable values (JSON)
        return SEP.join(NULL if value is None else str(value) for value in values)
    return SEP.join(map(text.__getitem__, values))


def unnest_rows(bind, table, rows: list[dict]):
    """(column names, `SELECT unnest(...), ...`) of `rows` (PostgreSQL; each row the same keys),
    for `insert(table).from_select(...)`. Each column goes as one string of its values' text,
    split by the server (`string_to_array(...)::type[]`): the driver's array adapter walks every
    element in Python, a string is sent as it is. A column whose values hold a separator (text
    from outside may) goes as an array (`unnest_select`)."""
    from sqlalchemy import String, bindparam, cast, func, literal, select
    from sqlalchemy.dialects.postgresql import ARRAY

    names = list(rows[0])
    parts = []
    for name in names:
        column = table.c[name]
        values = [row[name] for row in rows]
        joined = _as_text(values, column.type.dialect_impl(bind.dialect).bind_processor(bind.dialect))
        if joined is None:
            parts.append(_unnest_array(table, name, values))
        else:
            split = func.string_to_array(bindparam(f"col_{name}", joined, type_=String),
                                         literal(SEP, String), literal(NULL, String))
            parts.append(func.unnest(cast(split, ARRAY(column.type))).label(name))
    return names, select(*parts)


def _as_text(values: list, to_db) -> str | None:
    """The values' text joined by SEP (None as NULL), or None when a value holds a separator or
    the column is one empty string (which the server would split into no element)."""
    if to_db is not None:   # e.g. UTCDateTime -> naive UTC; each distinct value once (one `now` a batch)
        try:
            done = {v: to_db(v) for v in set(values) if v is not None}
            values = [None if v is None else done[v] for v in values]
        except TypeError:   # unhashable values (JSON)
            values = [None if v is None else to_db(v) for v in values]
    joined = joined_text(values)
    if joined.count(SEP) != len(values) - 1 or joined.count(NULL) != values.count(None) or joined == "":
        return None
    return joined
