"""Author totals: per monitor and author, the sums of its author rollups from a mark on (kept by
ingest) and its latest day, read in score order so that top authors stop after a few dozen
authors; and the mark
(`since`, `built_at`) per monitor. Both start empty: top authors use the candidate lists until
the fold job (or `flask fold-authors`) builds a monitor's totals.

Revision ID: 0026
Revises: 0021
"""
import sqlalchemy as sa
from alembic import op

revision = '0026'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'author_totals',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('author', sa.String(length=255), nullable=False),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.Column('reach', sa.BigInteger(), nullable=False),
        sa.Column('engagement', sa.BigInteger(), nullable=False),
        sa.Column('score', sa.BigInteger(), nullable=False),
        sa.Column('last_day', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_author_totals_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_author_totals')),
        sa.UniqueConstraint('monitor_id', 'author', name='uq_author_totals_author'),
    )
    op.create_index('ix_author_totals_score', 'author_totals', ['monitor_id', 'score', 'mentions', 'author', 'last_day'])
    op.create_table(
        'author_total_marks',
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('since', sa.DateTime(), nullable=False),
        sa.Column('built_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_author_total_marks_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('monitor_id', name=op.f('pk_author_total_marks')),
    )


def downgrade():
    op.drop_table('author_total_marks')
    op.drop_index('ix_author_totals_score', table_name='author_totals')
    op.drop_table('author_totals')
