"""Word and phrase search indexes, and score-sort indexes, over mentions (webapp/mentions/fulltext.py).

PostgreSQL: the pg_trgm extension and GIN trigram indexes on mentions.text and mentions.author,
which serve the search's ILIKE '%term%' as it is. SQLite: an FTS5 trigram table over (text,
author) with mentions as its content, filled from the rows already there and kept in step by
triggers. Both: the indexes of the sorts by score (fulltext.SORT_INDEXES). On a large
installation the upgrade reads every mention a few times (minutes per 10 million).

A later migration that rebuilds the mentions table on SQLite (batch mode) drops its triggers:
it must call fulltext.drop before and fulltext.create after the rebuild.

Revision ID: 0024
Revises: 0019
"""
from alembic import op

from webapp.mentions import fulltext

revision = '0024'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    fulltext.create(op.get_bind())


def downgrade():
    fulltext.drop(op.get_bind())
