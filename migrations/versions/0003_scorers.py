"""Scorers: trained models (scorer_models) and each monitor's choice of scorer (monitors.scorer).

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('scorer_models',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('training_hash', sa.String(length=64), nullable=False),
    sa.Column('n_train', sa.Integer(), nullable=False),
    sa.Column('n_test', sa.Integer(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('classes', sa.JSON(), nullable=False),
    sa.Column('blob', sa.LargeBinary(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scorer_models')),
    sa.UniqueConstraint('name', name=op.f('uq_scorer_models_name'))
    )
    with op.batch_alter_table('monitors', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scorer', sa.String(length=80), server_default='vader', nullable=False))


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        # Not batch mode: recreating `monitors` would drop it, and with foreign keys on, that
        # deletes every source and mention by cascade. SQLite >= 3.35 drops a column in place.
        op.execute('ALTER TABLE monitors DROP COLUMN scorer')
    else:
        op.drop_column('monitors', 'scorer')

    op.drop_table('scorer_models')
