"""Noise control: muted and relevance flags on mentions, mute lists, per-monitor relevance models.

Revision ID: 0013
Revises: 0012
"""
from alembic import op
import sqlalchemy as sa

revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'mute_lists',
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('authors', sa.JSON(), nullable=False),
        sa.Column('domains', sa.JSON(), nullable=False),
        sa.Column('query', sa.Text(), nullable=False),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_mute_lists_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('monitor_id', name=op.f('pk_mute_lists')),
    )
    op.create_table(
        'relevance_models',
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('training_hash', sa.String(length=64), nullable=False),
        sa.Column('n_train', sa.Integer(), nullable=False),
        sa.Column('n_test', sa.Integer(), nullable=False),
        sa.Column('metrics', sa.JSON(), nullable=False),
        sa.Column('blob', sa.LargeBinary(), nullable=False),
        sa.Column('enabled', sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_relevance_models_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('monitor_id', name=op.f('pk_relevance_models')),
    )
    # Plain ADD COLUMN (never a batch rebuild of mentions, which on SQLite would cascade-delete).
    op.add_column('mentions', sa.Column('muted', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('mentions', sa.Column('irrelevant', sa.Boolean(), nullable=True))
    op.add_column('mentions', sa.Column('predicted_irrelevant', sa.Boolean(), nullable=True))


def downgrade():
    op.drop_column('mentions', 'predicted_irrelevant')
    op.drop_column('mentions', 'irrelevant')
    op.drop_column('mentions', 'muted')
    op.drop_table('relevance_models')
    op.drop_table('mute_lists')
