"""Coordination tables: leases (exactly one active Celery beat) and task delivery counts.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'leases',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('owner', sa.String(length=128), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_leases')),
    )
    op.create_table(
        'task_deliveries',
        sa.Column('key', sa.String(length=200), nullable=False),
        sa.Column('task_name', sa.String(length=200), nullable=False),
        sa.Column('starts', sa.Integer(), nullable=False),
        sa.Column('first_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_task_deliveries')),
    )


def downgrade():
    op.drop_table('task_deliveries')
    op.drop_table('leases')
