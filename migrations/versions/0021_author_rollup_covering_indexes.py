"""Author rollup indexes that answer top authors alone (index-only): the range's largest reaches
in one walk, each part's most engaged authors with their names, and one author's rows with
every figure the ranking sums.

Revision ID: 0021
Revises: 0019
"""
from alembic import op

revision = '0021'
down_revision = '0024'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_author_rollups_reach': ['monitor_id', 'bucket', 'reach', 'start', 'author'],
    'ix_author_rollups_engagement': ['monitor_id', 'bucket', 'start', 'engagement', 'author'],
    'ix_author_rollups_author': ['monitor_id', 'bucket', 'author', 'start', 'mentions', 'reach', 'engagement',
                                 'scored', 'sum_compound'],
}
BEFORE = {
    'ix_author_rollups_reach': ['monitor_id', 'bucket', 'start', 'reach'],
    'ix_author_rollups_engagement': ['monitor_id', 'bucket', 'start', 'engagement'],
    'ix_author_rollups_author': ['monitor_id', 'bucket', 'author', 'start'],
}


def _replace(indexes):
    for name, columns in indexes.items():
        op.drop_index(name, table_name='author_rollups')
        op.create_index(name, 'author_rollups', columns)


def upgrade():
    _replace(INDEXES)


def downgrade():
    _replace(BEFORE)
