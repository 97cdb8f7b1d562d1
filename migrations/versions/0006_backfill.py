"""Backfills (slices with checkpoints), backfilled mentions, and URL deduplication of mentions.

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

URL_KEY_SET = sa.text('url_key IS NOT NULL')


def upgrade():
    op.create_table(
        'backfills',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.Column('until', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('skipped', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('finished_at', sa.DateTime(), nullable=True),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_backfills_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_backfills_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backfills')),
    )
    op.create_index(op.f('ix_backfills_monitor_id'), 'backfills', ['monitor_id'])
    op.create_table(
        'backfill_slices',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('backfill_id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.Column('until', sa.DateTime(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('page', sa.JSON(), nullable=False),
        sa.Column('fetched', sa.Integer(), nullable=False),
        sa.Column('published', sa.Integer(), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['backfill_id'], ['backfills.id'],
                                name=op.f('fk_backfill_slices_backfill_id_backfills'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_id'], ['sources.id'],
                                name=op.f('fk_backfill_slices_source_id_sources'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_backfill_slices')),
    )
    op.create_index('ix_backfill_slices_backfill_status', 'backfill_slices', ['backfill_id', 'status'])
    op.create_index('ix_backfill_slices_status_updated', 'backfill_slices', ['status', 'updated_at'])
    # Plain ADD COLUMN, never a batch rebuild: on SQLite a rebuild copies the whole (large) table
    # and drop-and-recreate can cascade deletes; ADD COLUMN allows a NOT NULL with a default.
    op.add_column('mentions', sa.Column('backfilled', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('mentions', sa.Column('url_key', sa.String(length=32), nullable=True))
    # Partial: only fetched mentions carry a url_key; pushed and imported ones are kept as given.
    op.create_index('ux_mentions_monitor_url_key', 'mentions', ['monitor_id', 'url_key'], unique=True,
                    postgresql_where=URL_KEY_SET, sqlite_where=URL_KEY_SET)


def downgrade():
    op.drop_index('ux_mentions_monitor_url_key', table_name='mentions')
    op.drop_column('mentions', 'url_key')
    op.drop_column('mentions', 'backfilled')
    op.drop_index('ix_backfill_slices_status_updated', table_name='backfill_slices')
    op.drop_index('ix_backfill_slices_backfill_status', table_name='backfill_slices')
    op.drop_table('backfill_slices')
    op.drop_index(op.f('ix_backfills_monitor_id'), table_name='backfills')
    op.drop_table('backfills')
