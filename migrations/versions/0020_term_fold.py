"""Term rollup fold: each monitor's watermark of the days folded from 1h into 1d and 1w rows.

Ingest now writes only 1h term rows; the fold job recomputes the 1d rows (and writes 1w rows)
of every day before the watermark. It starts empty (NULL): the first fold of each monitor
recomputes its 1d rows from the 1h rows, and readers use 1h rows until then.

Revision ID: 0020
Revises: 0019
"""
import sqlalchemy as sa
from alembic import op

revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN (never a batch rebuild of monitors, which on SQLite would cascade-delete).
    op.add_column('monitors', sa.Column('terms_folded_before', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('monitors', 'terms_folded_before')
