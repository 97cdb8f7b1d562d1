"""`flask rotate-secrets`: re-encrypt stored secrets with the first ENCRYPTION_KEY."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from webapp.core.extensions import db


@click.command("rotate-secrets")
@with_appcontext
def rotate_secrets() -> None:
    """Re-encrypt stored webhook secrets, notifier URLs and source credentials with the first ENCRYPTION_KEY."""
    from webapp.core.crypto import SecretUnreadable
    from webapp.admin.secret_rotation import rotate_all

    try:
        counts = rotate_all(db.session)
    except SecretUnreadable as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc} (nothing was changed)") from None
    click.echo(f"re-encrypted the secrets of {counts['notifiers']} notifiers and {counts['sources']} sources "
               "with the first ENCRYPTION_KEY; the other keys can be removed now")


COMMANDS = (rotate_secrets,)
