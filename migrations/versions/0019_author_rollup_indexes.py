"""Author rollup indexes for a fast top-authors answer: each bucket's largest reach and
engagement (candidates and bounds), and one author's rows over a range.

Revision ID: 0019
Revises: 0017
"""
from alembic import op

revision = '0019'
down_revision = '0017'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_author_rollups_reach': ['monitor_id', 'bucket', 'start', 'reach'],
    'ix_author_rollups_engagement': ['monitor_id', 'bucket', 'start', 'engagement'],
    'ix_author_rollups_author': ['monitor_id', 'bucket', 'author', 'start'],
}


def upgrade():
    for name, columns in INDEXES.items():
        op.create_index(name, 'author_rollups', columns)


def downgrade():
    for name in INDEXES:
        op.drop_index(name, table_name='author_rollups')
