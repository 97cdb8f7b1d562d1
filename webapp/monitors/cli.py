"""`flask seed-demo`: a demo admin and a demo monitor with bundled sample data, on an empty database."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import func, select

from webapp.alerting import rules
from webapp.core import runtime
from webapp.core.extensions import db
from webapp.monitors.models import Monitor
from webapp.monitors.services.manage import create_monitor
from webapp.people.models import User

DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD = "sentimon-demo"
DEMO_QUERY = "acme* OR rocket OR espresso OR coffee*"
# The demo's rules: quiet while the demo talks as usual (about 31 % negative, average +0.16, its
# hourly pace), firing only when something really changes (tests/monitors/test_demo_day.py).
DEMO_RULES = (
    {"name": "Negative share at least 50 % over a day", "kind": "negative_share", "window": "24h",
     "op": ">=", "threshold": 50, "min_mentions": 50},
    {"name": "Average sentiment below −0.3 over 6 hours", "kind": "avg_sentiment", "window": "6h",
     "op": "<", "threshold": -0.3, "min_mentions": 30},
    {"name": "Volume spike", "kind": "volume_spike", "window": "1h", "ratio": 3},
)


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
        for spec in DEMO_RULES:
            rules.create_rule(db.session, monitor, rules.RuleIn.model_validate(spec))
        click.echo(f"demo monitor: {monitor.id} ({monitor.name}), with {len(DEMO_RULES)} alert rules")


COMMANDS = (seed_demo,)
