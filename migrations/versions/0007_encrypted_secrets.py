"""Secrets at rest: seal webhook secrets and source credentials; the login throttle's SQL table.

Existing plaintext values are encrypted with the app's keyring (ENCRYPTION_KEY, else the key
derived from SECRET_KEY; see webapp/crypto.py); downgrade decrypts them again. No column needs
widening: the largest webhook secret (whsec_ + 64 bytes) seals to 211 of notifiers.secret's 255
characters, and source settings are JSON.

Revision ID: 0007
Revises: 0006
"""
import sqlalchemy as sa
from alembic import op

from webapp.core.crypto import migration_keyring

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

notifiers = sa.table('notifiers', sa.column('id', sa.Integer()), sa.column('secret', sa.String(255)))
sources = sa.table('sources', sa.column('id', sa.Integer()), sa.column('settings', sa.JSON()))


def _convert(change) -> None:
    """Apply `change(value, ring)` to every notifier secret and every source credential."""
    from webapp.core.crypto import CREDENTIAL_KEYS

    bind = op.get_bind()
    ring = None
    for row in bind.execute(sa.select(notifiers.c.id, notifiers.c.secret)
                            .where(notifiers.c.secret.is_not(None))).all():
        ring = ring or migration_keyring()
        new = change(row.secret, ring)
        if new != row.secret:
            bind.execute(notifiers.update().where(notifiers.c.id == row.id).values(secret=new))
    for row in bind.execute(sa.select(sources.c.id, sources.c.settings)).all():
        settings = row.settings if isinstance(row.settings, dict) else None
        if not settings or not CREDENTIAL_KEYS.intersection(settings):
            continue
        ring = ring or migration_keyring()
        new = {k: change(v, ring) if k in CREDENTIAL_KEYS else v for k, v in settings.items()}
        if new != settings:
            bind.execute(sources.update().where(sources.c.id == row.id).values(settings=new))


def upgrade():
    from webapp.core.crypto import seal

    op.create_table(
        'login_throttle',
        sa.Column('key', sa.String(length=128), nullable=False),
        sa.Column('started', sa.Float(), nullable=False),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_login_throttle')),
    )
    _convert(seal)


def downgrade():
    from webapp.core.crypto import reveal

    _convert(reveal)
    op.drop_table('login_throttle')
