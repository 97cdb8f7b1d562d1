"""Session versions: signing out or changing the password ends every cookie issued before.

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('users', sa.Column('session_version', sa.Integer(), nullable=False, server_default='0'))


def downgrade():
    op.drop_column('users', 'session_version')  # plain DROP COLUMN: a table rebuild would cascade on SQLite
