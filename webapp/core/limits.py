"""The size limits of a mention's fields, each defined once.

Every way in uses these: the REST push (`ingest.schemas.MentionIn`, 422 at the edge), the file
import (`ingest.importer`, a bad row at once), the source adapters (`monitors.sources`, which
clamp what services send) and the worker that stores bus records (`ingest.store.normalize`).
Because the edge and the worker read the same numbers, a mention accepted at the edge (202, or
"published" by an import) is never refused later by the worker: the contract's "what would be
refused later is refused at once".

The column types are those of migration 0001 (`mentions`), which these values must fit:
external_id String(512), author String(255), url String(2048), text Text (unbounded).
"""
from __future__ import annotations

MAX_EXTERNAL_ID = 512
"""A mention's identity (monitor, source, external id) is unique, so an id is never cut: a
longer one is refused at the edge and by the worker, and an adapter replaces it with a sha256
of it (`sources.items.external_id`). 512 is the column's size."""

MAX_AUTHOR = 255
"""The `author` column's size. Longer authors are refused at the API edge and clamped by the
adapters; the worker and the importer clamp too (a clamped author stays the same person)."""

MAX_URL = 2048
"""The `url` column's size, and the longest feed or service URL a source setting may hold:
long enough for any real page address, short enough for an index-friendly string column."""

MAX_TEXT = 20_000
"""The longest mention text kept (and the longest text the score API and forms take).

Two values disagreed before: 20,000 at the API edge, the importer and the worker, 10,000 in the
adapters. The larger one is kept everywhere a text is accepted, because the `text` column is
unbounded (Text) and so holds it: nothing the API accepts today is refused or cut later. The
bound itself is about cost, not storage: VADER's time grows with the text, and a batch of
5,000 pushed mentions stays within a few tens of megabytes."""

FETCHED_TEXT = 10_000
"""How much of a fetched item's text an adapter keeps (cut at a word, with "…"). Below
MAX_TEXT on purpose: a fetched text is a title and a body joined, and a body longer than this
is an article whose start says what it is about; keeping it below MAX_TEXT also means the
worker never cuts an adapter's text again (the "…" stays the visible end)."""
