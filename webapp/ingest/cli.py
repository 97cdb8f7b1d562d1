"""`flask import FILE --monitor ID` (mentions from a file, through the bus), `flask consume` and
`flask fold-terms` (the term rollup fold now; beat runs it every TERMS_FOLD_EVERY seconds)."""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.core import runtime
from webapp.core.api_errors import MAX_ID
from webapp.core.cli import echo_bad_rows
from webapp.core.extensions import db
from webapp.ingest import pipeline
from webapp.ingest.importer import ImportReport, count_lines, read_rows
from webapp.ingest.publish import publish_mentions
from webapp.monitors.models import Monitor
from webapp.monitors.services.manage import system_source


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--monitor", "monitor_id", type=int, required=True, help="monitor id")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="file format (default: from the file name)")
@click.option("--encoding", default=None,
              help="the file's text encoding, e.g. latin-1 (default: UTF-8; another is refused, not guessed)")
def import_cmd(file: Path, monitor_id: int, fmt: str | None, encoding: str | None) -> None:
    """Import a CSV or JSONL file of mentions through the bus, with a progress bar.

    Every row is published or listed as refused with its line number and reason; a published
    row passed the same checks as a push (ingest.schemas.MentionIn), so the worker stores it
    (once: a row whose id is stored already adds nothing)."""
    monitor = db.session.get(Monitor, monitor_id) if 0 < monitor_id <= MAX_ID else None
    if monitor is None:
        raise click.ClickException(f"no monitor with id {monitor_id}")
    source = system_source(monitor, "import")
    report, chunk, bus = ImportReport(), [], runtime.bus()
    try:
        length = count_lines(file, utf8=encoding is None)   # one pass: the bar's length, UTF-8 checked
        rows = read_rows(file, fmt, encoding, checked=True)
        with click.progressbar(rows, length=length or 1, label=f"importing {file.name}",
                               file=sys.stderr) as bar:
            for line, mention, error in bar:
                report.rows += 1
                if error:
                    report.bad.append((line, error))
                    continue
                chunk.append(mention)
                if len(chunk) >= 1000:
                    report.published += publish_mentions(bus, monitor.id, source.id, chunk)
                    chunk = []
        report.published += publish_mentions(bus, monitor.id, source.id, chunk)
    except (ValueError, OSError) as exc:   # not UTF-8, unknown encoding or format, unreadable file
        if report.published:
            click.echo(f"published {report.published} rows before stopping", err=True)
        raise click.ClickException(str(exc)) from exc
    click.echo(f"published {report.published} of {report.rows} rows to monitor {monitor.id}; "
               f"{len(report.bad)} bad rows (refused, nothing of them published)")
    echo_bad_rows(report.bad)


@click.command("consume")
@with_appcontext
def consume() -> None:
    """Run the bus consumer in the foreground (workers run one already) until Ctrl-C."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo("consuming; Ctrl-C to stop", err=True)
    try:
        pipeline.run(runtime.bus(), runtime.session_scope, stop, f"cli-{id(stop)}",
                     batch_size=current_app.config["BUS_BATCH_SIZE"])
    except KeyboardInterrupt:
        stop.set()


@click.command("fold-terms")
@click.option("--monitor", "monitor_id", type=click.IntRange(1, MAX_ID), default=None, help="only this monitor")
@with_appcontext
def fold_terms(monitor_id: int | None) -> None:
    """Fold the closed days of the term rollups into 1d and 1w rows (ingest/term_fold.py)."""
    from datetime import datetime, timezone

    from webapp.ingest.term_fold import fold_due

    if monitor_id is not None and db.session.get(Monitor, monitor_id) is None:
        raise click.ClickException(f"no monitor {monitor_id}")
    done = fold_due(db.session, datetime.now(timezone.utc), monitor_id)
    click.echo(f"folded {sum(done.values())} days of {len(done)} monitors")


COMMANDS = (import_cmd, consume, fold_terms)
