"""Term deltas: ingest appends each batch's term counts per monitor and hour (one row, the
terms, each mention's number of terms and compound joined in text columns) and the fold moves
them into the term rollups.

Revision ID: 0027
Revises: 0026
"""
import sqlalchemy as sa
from alembic import op

revision = '0027'
down_revision = '0026'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'term_deltas',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('start', sa.DateTime(), nullable=False),
        sa.Column('terms', sa.Text(), nullable=False),
        sa.Column('lengths', sa.Text(), nullable=False),
        sa.Column('compounds', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_term_deltas_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_term_deltas')),
    )
    op.create_index(op.f('ix_term_deltas_monitor_id'), 'term_deltas', ['monitor_id'])
    if op.get_bind().dialect.name == 'postgresql':     # rows live seconds: no compression attempt
        for column in ('terms', 'lengths', 'compounds'):
            op.execute(f'ALTER TABLE term_deltas ALTER COLUMN {column} SET STORAGE EXTERNAL')


def downgrade():
    op.drop_index(op.f('ix_term_deltas_monitor_id'), table_name='term_deltas')
    op.drop_table('term_deltas')
