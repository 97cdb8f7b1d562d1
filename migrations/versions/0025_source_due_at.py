"""Due fetches at scale: each source's next slot start as a generated, indexed column
(`sources.due_at`), so that beat's claim reads the due rows through an index.

Revision ID: 0025
Revises: 0019
"""
from alembic import op
import sqlalchemy as sa

revision = '0025'
down_revision = '0020'
branch_labels = None
depends_on = None

# The same expression as webapp.monitors.models.DUE_AT_SQL (a migration keeps its own copy).
DUE_AT_SQL = (
    "CASE WHEN enabled AND every > 0 AND kind NOT IN ('push', 'import') THEN "
    "(CASE WHEN coalesce(dispatched_slot, -1) >= coalesce(last_slot, -1) "
    "THEN coalesce(dispatched_slot, -1) ELSE coalesce(last_slot, -1) END + 1) * every END"
)


def upgrade():
    # SQLite adds a generated column only as VIRTUAL (computed on read, still indexable);
    # PostgreSQL stores it (it cannot index a virtual one).
    stored = True if op.get_bind().dialect.name == 'postgresql' else None
    op.add_column('sources', sa.Column('due_at', sa.BigInteger(), sa.Computed(DUE_AT_SQL, persisted=stored),
                                       nullable=True))
    op.create_index(op.f('ix_sources_due_at'), 'sources', ['due_at'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_sources_due_at'), table_name='sources')
    op.drop_column('sources', 'due_at')
