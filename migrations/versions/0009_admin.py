"""Admin: users can be deactivated (they can neither sign in nor use their API tokens).

Revision ID: 0009
Revises: 0008
"""
from alembic import op
import sqlalchemy as sa

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))


def downgrade():
    op.drop_column('users', 'active')  # plain DROP COLUMN: a table rebuild would cascade on SQLite
