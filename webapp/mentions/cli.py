"""`flask prune-mentions`: apply the monitors' retention now (beat does it daily)."""
from __future__ import annotations

from datetime import datetime, timezone

import click
from flask.cli import with_appcontext

from webapp.core.extensions import db


@click.command("prune-mentions")
@click.option("--monitor", "monitor_id", type=click.IntRange(1, 2**63 - 1), default=None,
              help="only this monitor")
@with_appcontext
def prune_mentions(monitor_id: int | None) -> None:
    """Delete raw mentions older than their monitor's retention_days; rollups stay."""
    from webapp.mentions.retention import prune_all
    from webapp.monitors.models import Monitor

    if monitor_id is not None:
        monitor = db.session.get(Monitor, monitor_id)
        if monitor is None:
            raise click.ClickException(f"no monitor {monitor_id}")
        if monitor.retention_days is None:
            click.echo(f"monitor {monitor_id} keeps its mentions forever (no retention_days); deleted 0")
            return
    counts = prune_all(db.session, datetime.now(timezone.utc), monitor_id)
    for mid, deleted in counts.items():
        click.echo(f"monitor {mid}: deleted {deleted} mentions")
    click.echo(f"deleted {sum(counts.values())} mentions")


COMMANDS = (prune_mentions,)
