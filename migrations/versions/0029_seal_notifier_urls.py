"""Notifier URLs at rest: a chat service's incoming-webhook URL is its credential (anyone who has
it can post to the channel) and a webhook URL may carry a token, so `notifiers.settings.url` is
stored sealed like the webhook signing secret (webapp/core/crypto.py). Existing URLs are sealed
with the app's keyring (ENCRYPTION_KEY, else the key derived from SECRET_KEY); downgrade opens
them again. Settings are JSON: no column changes.

Revision ID: 0029
Revises: 0028
"""
import sqlalchemy as sa
from alembic import op

from webapp.core.crypto import migration_keyring

revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None

notifiers = sa.table('notifiers', sa.column('id', sa.Integer()), sa.column('settings', sa.JSON()))


def _convert(change) -> None:
    bind = op.get_bind()
    ring = None
    for row in bind.execute(sa.select(notifiers.c.id, notifiers.c.settings)).all():
        settings = row.settings if isinstance(row.settings, dict) else None
        if not settings or not isinstance(settings.get('url'), str) or not settings['url']:
            continue
        ring = ring or migration_keyring()
        new = {**settings, 'url': change(settings['url'], ring)}
        if new != settings:
            bind.execute(notifiers.update().where(notifiers.c.id == row.id).values(settings=new))


def upgrade():
    from webapp.core.crypto import seal

    _convert(seal)


def downgrade():
    from webapp.core.crypto import reveal

    _convert(reveal)
