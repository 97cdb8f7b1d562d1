"""Term rollups without a foreign key: a trigger on monitors deletes a deleted monitor's rows.

The fold writes thousands of term rollup rows per transaction, and PostgreSQL checks a foreign
key once per inserted row (a lookup of the monitor under a lock): 37 of the 92 ms of a fold's
upsert of 6,432 rows. Every writer of term rollups already locks its monitors' rows for the
transaction (term_fold.marks, FOR KEY SHARE) and drops the rows of a monitor that is gone
(term_rollups.apply), which is what the key guaranteed; deleting a monitor (directly or by a cascade) still
takes its term rollups with it, through the trigger instead of ON DELETE CASCADE.

Revision ID: 0028
Revises: 0027
"""
import sqlalchemy as sa
from alembic import op

from webapp.core.sql import sqlite_foreign_keys_off

revision = '0028'
down_revision = '0027'
branch_labels = None
depends_on = None

FK = 'fk_term_rollups_monitor_id_monitors'
TRIGGER = 'term_rollups_of_deleted_monitor'


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == 'postgresql':
        op.drop_constraint(FK, 'term_rollups', type_='foreignkey')
        op.execute(f"""CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM term_rollups WHERE monitor_id = OLD.id;
    RETURN NULL;
END $$""")
        op.execute(f'CREATE TRIGGER {TRIGGER} AFTER DELETE ON monitors FOR EACH ROW EXECUTE FUNCTION {TRIGGER}()')
        return
    with sqlite_foreign_keys_off(bind):
        with op.batch_alter_table('term_rollups', schema=None) as batch_op:
            batch_op.drop_constraint(FK, type_='foreignkey')
    op.execute(f'CREATE TRIGGER {TRIGGER} AFTER DELETE ON monitors FOR EACH ROW BEGIN '
               'DELETE FROM term_rollups WHERE monitor_id = OLD.id; END')


def downgrade():
    bind = op.get_bind()
    op.execute(f'DROP TRIGGER {TRIGGER}' + (' ON monitors' if bind.dialect.name == 'postgresql' else ''))
    if bind.dialect.name == 'postgresql':
        op.execute(f'DROP FUNCTION {TRIGGER}()')
    op.execute('DELETE FROM term_rollups WHERE monitor_id NOT IN (SELECT id FROM monitors)')
    with sqlite_foreign_keys_off(bind):
        with op.batch_alter_table('term_rollups', schema=None) as batch_op:
            batch_op.create_foreign_key(FK, 'monitors', ['monitor_id'], ['id'], ondelete='CASCADE')
