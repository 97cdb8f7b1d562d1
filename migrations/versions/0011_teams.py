"""Teams: every monitor and notifier belongs to one team; users are members with a team role.

Existing installations move into a team named `Default`: its id fills monitors.team_id and
notifiers.team_id, and every user joins it (global admin -> owner, editor -> editor,
viewer -> viewer).

SQLite: making team_id NOT NULL with its foreign key rebuilds the monitors and notifiers
tables, and dropping a parent table while foreign keys are on deletes its children (ON DELETE
CASCADE): every mention, source and rule would go. So the rebuild runs with foreign keys off
(a PRAGMA that only takes effect outside a transaction, hence the commit before it) and checks
the foreign keys before turning them back on.

Revision ID: 0011
Revises: 0010
"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

from webapp.core.sql import sqlite_foreign_keys_off

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TEAM_ROLE_OF = {'admin': 'owner', 'editor': 'editor', 'viewer': 'viewer'}
TABLES = ('monitors', 'notifiers')


def _foreign_keys_off():
    """On SQLite, table rebuilds inside run with foreign keys off (see the module docstring)."""
    return sqlite_foreign_keys_off(op.get_bind())


def upgrade():
    teams = op.create_table(
        'teams',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('time_zone', sa.String(length=64), server_default='UTC', nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_teams')),
        sa.UniqueConstraint('name', name=op.f('uq_teams_name')),
    )
    op.create_table(
        'team_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('team_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(['team_id'], ['teams.id'], name=op.f('fk_team_members_team_id_teams'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_team_members_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_team_members')),
        sa.UniqueConstraint('team_id', 'user_id', name='uq_team_members_team_user'),
    )
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_team_members_team_id'), ['team_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_team_members_user_id'), ['user_id'], unique=False)

    bind = op.get_bind()
    op.bulk_insert(teams, [{'name': 'Default', 'time_zone': 'UTC',
                            'created_at': datetime.now(timezone.utc).replace(tzinfo=None)}])
    default_id = bind.execute(sa.text("SELECT id FROM teams WHERE name = 'Default'")).scalar_one()
    for role, team_role in TEAM_ROLE_OF.items():
        bind.execute(sa.text(
            'INSERT INTO team_members (team_id, user_id, role) '
            'SELECT :team, id, :team_role FROM users WHERE role = :role'
        ), {'team': default_id, 'team_role': team_role, 'role': role})

    for table in TABLES:
        op.add_column(table, sa.Column('team_id', sa.Integer(), nullable=True))
        bind.execute(sa.text(f'UPDATE {table} SET team_id = :team'), {'team': default_id})
    with _foreign_keys_off():
        for table in TABLES:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.alter_column('team_id', existing_type=sa.Integer(), nullable=False)
                batch_op.create_index(batch_op.f(f'ix_{table}_team_id'), ['team_id'], unique=False)
                batch_op.create_foreign_key(batch_op.f(f'fk_{table}_team_id_teams'), 'teams',
                                            ['team_id'], ['id'])


def downgrade():
    with _foreign_keys_off():
        for table in TABLES:
            with op.batch_alter_table(table, schema=None) as batch_op:
                batch_op.drop_constraint(batch_op.f(f'fk_{table}_team_id_teams'), type_='foreignkey')
                batch_op.drop_index(batch_op.f(f'ix_{table}_team_id'))
                batch_op.drop_column('team_id')
    with op.batch_alter_table('team_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_team_members_user_id'))
        batch_op.drop_index(batch_op.f('ix_team_members_team_id'))
    op.drop_table('team_members')
    op.drop_table('teams')
