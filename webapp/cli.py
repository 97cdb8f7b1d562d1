"""`flask --app wsgi ...` commands: users, tokens, import, demo seeding, a standalone consumer."""
from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import func, select

from . import runtime
from .auth import create_token
from .extensions import db
from .models import ROLES, Monitor, User
from .services import pipeline
from .services.importer import ImportReport, count_lines, read_rows
from .services.monitors import create_monitor, system_source
from .services.publish import publish_mentions

DEMO_EMAIL = "admin@example.com"
DEMO_PASSWORD = "sentimon-demo"
DEMO_QUERY = "acme* OR rocket OR espresso OR coffee*"


def register(app: Flask) -> None:
    for command in (create_user, create_token_cmd, import_cmd, seed_demo, consume, rotate_secrets):
        app.cli.add_command(command)
    from .cli_scorers import register as register_scorer_commands
    register_scorer_commands(app)
    from .cli_backfill import register as register_backfill_commands
    register_backfill_commands(app)


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--admin", is_flag=True, help="give the user the admin role")
@click.option("--role", type=click.Choice(ROLES), default=None, help="role (default editor)")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
def create_user(email: str, admin: bool, role: str | None, password: str) -> None:
    """Create a user (prompts for a password if none is given)."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    if len(password) < 8:
        raise click.BadParameter("use at least 8 characters", param_hint="--password")
    if db.session.execute(select(User).where(User.email == email)).scalar_one_or_none():
        raise click.ClickException(f"a user {email} exists already")
    user = User(email=email, role="admin" if admin else (role or "editor"))
    user.set_password(password)
    db.session.add(user)
    db.session.commit()
    click.echo(f"created {user.role} {email}")


@click.command("rotate-secrets")
@with_appcontext
def rotate_secrets() -> None:
    """Re-encrypt stored webhook secrets and source credentials with the first ENCRYPTION_KEY."""
    from .crypto import SecretUnreadable
    from .services.secret_rotation import rotate_all

    try:
        counts = rotate_all(db.session)
    except SecretUnreadable as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc} (nothing was changed)") from None
    click.echo(f"re-encrypted the secrets of {counts['notifiers']} notifiers and {counts['sources']} sources "
               "with the first ENCRYPTION_KEY; the other keys can be removed now")


@click.command("create-token")
@with_appcontext
@click.argument("email")
@click.option("--name", default="cli", help="a label to recognise the token by")
def create_token_cmd(email: str, name: str) -> None:
    """Create an API token for EMAIL; the token is printed alone on the last line."""
    user = db.session.execute(select(User).where(User.email == email.strip().lower())).scalar_one_or_none()
    if user is None:
        raise click.ClickException(f"no user {email}")
    secret = create_token(user, name)
    click.echo(f"API token for {user.email} (shown once; store it now):", err=True)
    click.echo(secret)


@click.command("import")
@with_appcontext
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--monitor", "monitor_id", type=int, required=True, help="monitor id")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl"]), default=None,
              help="file format (default: from the file name)")
def import_cmd(file: Path, monitor_id: int, fmt: str | None) -> None:
    """Import a CSV or JSONL file of mentions through the bus, with a progress bar."""
    monitor = db.session.get(Monitor, monitor_id)
    if monitor is None:
        raise click.ClickException(f"no monitor with id {monitor_id}")
    source = system_source(monitor, "import")
    report, chunk, bus = ImportReport(), [], runtime.bus()
    try:
        rows = read_rows(file, fmt)
        with click.progressbar(rows, length=count_lines(file), label=f"importing {file.name}",
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
    except (ValueError, UnicodeError) as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"published {report.published} of {report.rows} rows to monitor {monitor.id}; "
               f"{len(report.bad)} bad rows")
    echo_bad_rows(report.bad)


def echo_bad_rows(bad: list[tuple[int, str]], shown: int = 20) -> None:
    """List rejected rows (line number and reason) on stderr, the first `shown` of them."""
    for line, reason in bad[:shown]:
        click.echo(f"  line {line}: {reason}", err=True)
    if len(bad) > shown:
        click.echo(f"  ... and {len(bad) - shown} more", err=True)


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
