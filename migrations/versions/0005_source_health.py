"""Source health: a row per fetch, and the circuit-breaker state of each source.

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'source_fetches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('source_id', sa.Integer(), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('started_at', sa.DateTime(), nullable=False),
        sa.Column('duration_ms', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('items', sa.Integer(), nullable=False),
        sa.Column('published', sa.Integer(), nullable=False),
        sa.Column('error_code', sa.String(length=64), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_source_fetches_monitor_id_monitors'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['source_id'], ['sources.id'],
                                name=op.f('fk_source_fetches_source_id_sources'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_source_fetches')),
    )
    op.create_index('ix_source_fetches_source_started', 'source_fetches', ['source_id', 'started_at'])
    op.create_index('ix_source_fetches_monitor_started', 'source_fetches', ['monitor_id', 'started_at'])
    # Plain ADD COLUMN (no batch rebuild): rebuilding `sources` on SQLite would cascade-delete.
    op.add_column('sources', sa.Column('consecutive_failures', sa.Integer(), server_default='0', nullable=False))
    op.add_column('sources', sa.Column('paused_until', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('sources', 'paused_until')
    op.drop_column('sources', 'consecutive_failures')
    op.drop_index('ix_source_fetches_monitor_started', table_name='source_fetches')
    op.drop_index('ix_source_fetches_source_started', table_name='source_fetches')
    op.drop_table('source_fetches')
