"""`flask seed-demo`: a demo admin and a demo monitor with bundled sample data, on an empty database."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.monitors.services.manage import create_monitor
from webapp.people.models import User

DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD = "sentimon-demo"
DEMO_QUERY = "acme* OR rocket OR espresso OR coffee*"


@click.command("seed-demo")
@with_appcontext
def seed_demo() -> None:
    """Create a demo admin and a demo monitor, only if the database has none."""
    if not db.session.execute(select(func.count()).select_from(User)).scalar():
        user = User(email=DEMO_EMAIL, role="admin")
        user.set_password(DEMO_PASSWORD)
        db.session.add(user)
        db.session.commit()
        click.echo(f"demo admin: {DEMO_EMAIL} / {DEMO_PASSWORD}")
    if not db.session.execute(select(func.count()).select_from(Monitor)).scalar():
        monitor = create_monitor(db.session, "Acme Rocket (demo)", DEMO_QUERY,
                                 [{"kind": "demo", "every": 60}], runtime.egress_policy())
        click.echo(f"demo monitor: {monitor.id} ({monitor.name})")


COMMANDS = (seed_demo,)
