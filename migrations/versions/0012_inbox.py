"""The mention inbox: tags, status and assignee, notes, per-user reads, auto-tag rules.

Revision ID: 0012
Revises: 0011
"""
from alembic import op
import sqlalchemy as sa

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

MENTION_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _mention(**kwargs):
    return sa.Column('mention_id', MENTION_ID, sa.ForeignKey('mentions.id', ondelete='CASCADE'),
                     nullable=False, **kwargs)


def upgrade():
    op.create_table(
        'tags',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('monitor_id', sa.Integer(), sa.ForeignKey('monitors.id', ondelete='CASCADE'), nullable=False),
        sa.Column('name', sa.String(40), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.UniqueConstraint('monitor_id', 'name', name='uq_tags_monitor_name'),
    )
    op.create_table(
        'mention_tags',
        _mention(primary_key=True),
        sa.Column('tag_id', sa.Integer(), sa.ForeignKey('tags.id', ondelete='CASCADE'), primary_key=True),
    )
    op.create_index('ix_mention_tags_tag_id', 'mention_tags', ['tag_id'])
    op.create_table(
        'mention_states',
        _mention(primary_key=True),
        sa.Column('status', sa.String(8), nullable=False, server_default='open'),
        sa.Column('assignee_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL')),
        sa.Column('updated_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_mention_states_assignee_id', 'mention_states', ['assignee_id'])
    op.create_table(
        'mention_reads',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='CASCADE'), primary_key=True),
        _mention(primary_key=True),
        sa.Column('read_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_mention_reads_mention_id', 'mention_reads', ['mention_id'])
    op.create_table(
        'mention_notes',
        sa.Column('id', sa.Integer(), primary_key=True),
        _mention(),
        sa.Column('author_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL')),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_mention_notes_mention_id', 'mention_notes', ['mention_id'])
    op.create_table(
        'autotag_rules',
        sa.Column('id', sa.Integer(), primary_key=True),
        sa.Column('monitor_id', sa.Integer(), sa.ForeignKey('monitors.id', ondelete='CASCADE'), nullable=False),
        sa.Column('tag_id', sa.Integer(), sa.ForeignKey('tags.id', ondelete='CASCADE'), nullable=False),
        sa.Column('query', sa.String(2000), nullable=False),
        sa.Column('created_by_id', sa.Integer(), sa.ForeignKey('users.id', ondelete='SET NULL')),
        sa.Column('created_at', sa.DateTime(), nullable=False),
    )
    op.create_index('ix_autotag_rules_monitor_id', 'autotag_rules', ['monitor_id'])


def downgrade():
    for table in ('autotag_rules', 'mention_notes', 'mention_reads', 'mention_states', 'mention_tags', 'tags'):
        op.drop_table(table)
