"""Scheduled reports (one run row per report and period, claimed before sending) and retention.

Revision ID: 0017
Revises: 0013
"""
from alembic import op
import sqlalchemy as sa

revision = '0017'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('every', sa.String(length=8), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('hour', sa.Integer(), nullable=False),
        sa.Column('weekday', sa.Integer(), nullable=False),
        sa.Column('notifier_ids', sa.JSON(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_reports_monitor_id_monitors'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'],
                                name=op.f('fk_reports_created_by_id_users'), ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_reports')),
    )
    op.create_index(op.f('ix_reports_monitor_id'), 'reports', ['monitor_id'], unique=False)
    op.create_table(
        'report_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('slot', sa.String(length=48), nullable=False),
        sa.Column('period_start', sa.DateTime(), nullable=False),
        sa.Column('period_end', sa.DateTime(), nullable=False),
        sa.Column('manual', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('attempts', sa.Integer(), server_default='0', nullable=False),
        sa.Column('sent_to', sa.JSON(), nullable=False),
        sa.Column('next_attempt_at', sa.DateTime(), nullable=True),
        sa.Column('claimed_at', sa.DateTime(), nullable=True),
        sa.Column('sent_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['report_id'], ['reports.id'],
                                name=op.f('fk_report_runs_report_id_reports'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_report_runs')),
        sa.UniqueConstraint('report_id', 'slot', name=op.f('uq_report_runs_report_id_slot')),
    )
    # Plain ADD COLUMN (never a batch rebuild of monitors, which on SQLite would cascade-delete).
    op.add_column('monitors', sa.Column('retention_days', sa.Integer(), nullable=True))
    op.add_column('monitors', sa.Column('pruned_before', sa.DateTime(), nullable=True))


def downgrade():
    op.drop_column('monitors', 'pruned_before')
    op.drop_column('monitors', 'retention_days')
    op.drop_table('report_runs')
    op.drop_index(op.f('ix_reports_monitor_id'), table_name='reports')
    op.drop_table('reports')
