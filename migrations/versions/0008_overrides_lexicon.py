"""Label overrides on mentions (the scorer's label kept aside) and per-monitor lexicon adjustments.

Revision ID: 0008
Revises: 0007
"""
from alembic import op
import sqlalchemy as sa

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'lexicon_adjustments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('word', sa.String(length=64), nullable=False),
        sa.Column('valence', sa.Float(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_lexicon_adjustments_created_by_id_users'), ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_lexicon_adjustments_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lexicon_adjustments')),
        sa.UniqueConstraint('monitor_id', 'word', name=op.f('uq_lexicon_adjustments_monitor_id_word')),
    )
    # Plain ADD COLUMN (nullable: no rewrite of the large mentions table; never a batch rebuild,
    # which on SQLite would cascade-delete).
    op.add_column('mentions', sa.Column('scored_label', sa.String(length=8), nullable=True))
    # Who overrode: a plain user id, no foreign key (SQLite cannot add one to an existing table
    # without a rebuild; a deleted user's id is kept as the record of who it was).
    op.add_column('mentions', sa.Column('overridden_by_id', sa.Integer(), nullable=True))
    op.add_column('mentions', sa.Column('overridden_at', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('mentions', 'overridden_at')
    op.drop_column('mentions', 'overridden_by_id')
    op.drop_column('mentions', 'scored_label')
    op.drop_table('lexicon_adjustments')
