"""Term rollups: mentions per term, time bucket and monitor (insights: terms, rising terms).

Revision ID: 0014
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'term_rollups',
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.String(length=4), nullable=False),
        sa.Column('start', sa.DateTime(), nullable=False),
        sa.Column('term', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('scored', sa.Integer(), nullable=False),
        sa.Column('sum_compound', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_term_rollups_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('monitor_id', 'bucket', 'start', 'term', name=op.f('pk_term_rollups')),
    )


def downgrade():
    op.drop_table('term_rollups')
