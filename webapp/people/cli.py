"""`flask create-user` and `flask create-token`."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.people.auth import create_token
from webapp.people.models import ROLES, User


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


COMMANDS = (create_user, create_token_cmd)
