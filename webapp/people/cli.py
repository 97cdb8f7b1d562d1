"""`flask create-user` and `flask create-token`."""
from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from webapp.core.extensions import db
from webapp.people.auth import create_token
from webapp.people.models import DEFAULT_TEAM, TEAM_ROLES, User
from webapp.people.services import teams
from webapp.people.services.passwords import RULE, password_problem

# The installation role that goes with a team role when --admin is not given: it is also the
# reach of the user's API tokens (an owner's tokens may edit, a viewer's only read).
GLOBAL_ROLE_OF = {"owner": "editor", "editor": "editor", "viewer": "viewer"}


@click.command("create-user")
@with_appcontext
@click.argument("email")
@click.option("--admin", is_flag=True, help="an installation admin: sees and manages every team")
@click.option("--team", default=DEFAULT_TEAM, show_default=True, help="the team the user joins (created if missing)")
@click.option("--role", type=click.Choice(TEAM_ROLES), default="editor", show_default=True,
              help="the user's role in that team")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True, help=f"the password: {RULE}")
def create_user(email: str, admin: bool, team: str, role: str, password: str) -> None:
    """Create a user (prompts for a password if none is given) who joins TEAM with ROLE."""
    email = email.strip().lower()
    if "@" not in email:
        raise click.BadParameter("not an email address", param_hint="EMAIL")
    problem = password_problem(password)
    if problem:
        raise click.BadParameter(problem, param_hint="--password")
    if db.session.execute(select(User).where(User.email == email)).scalar_one_or_none():
        raise click.ClickException(f"a user {email} exists already")
    user = User(email=email, role="admin" if admin else GLOBAL_ROLE_OF[role])
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    try:
        joined = teams.ensure_team(db.session, team)
    except teams.TeamError as exc:
        db.session.rollback()
        raise click.BadParameter(str(exc), param_hint="--team") from exc
    teams.join(db.session, joined, user, role)
    db.session.commit()
    click.echo(f"created {user.role} {email}, {role} of team {joined.name}")


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
