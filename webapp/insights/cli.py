"""`flask fold-authors` (build the author totals top authors read now; the fold job does it daily)."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask.cli import with_appcontext

from webapp.core.api_errors import MAX_ID
from webapp.core.extensions import db
from webapp.insights import author_totals
from webapp.monitors.models import Monitor


@click.command("fold-authors")
@click.option("--monitor", "monitor_id", type=click.IntRange(1, MAX_ID), default=None, help="only this monitor")
@click.option("--force", is_flag=True, help="rebuild even totals built today")
@with_appcontext
def fold_authors(monitor_id: int | None, force: bool) -> None:
    """Build the author totals (insights/author_totals.py) of monitors without today's."""
    if monitor_id is not None and db.session.get(Monitor, monitor_id) is None:
        raise click.ClickException(f"no monitor {monitor_id}")
    done = author_totals.refresh_due(db.session, datetime.now(timezone.utc), monitor_id, force)
    click.echo(f"built the author totals of {len(done)} monitors ({sum(done.values())} authors)")


COMMANDS = (fold_authors,)
