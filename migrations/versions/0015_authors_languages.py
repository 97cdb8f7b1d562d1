"""Authors and languages: a mention's language, scored flag, reach, engagement and mixed flag;
language and author rollups (insights without scanning raw mentions).

A mention in a language that no configured scorer reads is stored unscored: compound, pos, neu,
neg and label become nullable. Existing mentions were all scored: `scored` is true for them,
their language `und` (not detected), and `mixed` is set by the documented rule
(pos >= 0.2 and neg >= 0.2, webapp/insights/influence.py).

SQLite: relaxing NOT NULL rebuilds the mentions table, and dropping a parent table while foreign
keys are on deletes its children (ON DELETE CASCADE: tags, notes, ...). So the rebuild runs with
foreign keys off (a PRAGMA that only takes effect outside a transaction, hence the commit before
it), and checks the foreign keys before turning them back on; the partial unique index on
url_key is dropped before and created again after the rebuild, with its WHERE clause.

Revision ID: 0015
Revises: 0013
"""

from alembic import op
import sqlalchemy as sa

from webapp.core.sql import sqlite_foreign_keys_off

revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

SCORE_COLUMNS = (('compound', sa.Float()), ('pos', sa.Float()), ('neu', sa.Float()), ('neg', sa.Float()),
                 ('label', sa.String(length=8)))
URL_INDEX = 'ux_mentions_monitor_url_key'


def _sqlite_rebuild():
    """On SQLite, table rebuilds inside run with foreign keys off (see the module docstring)."""
    return sqlite_foreign_keys_off(op.get_bind())


def _scores_nullable(nullable: bool):
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        for name, kind in SCORE_COLUMNS:
            op.alter_column('mentions', name, existing_type=kind, nullable=nullable)
        return
    op.drop_index(URL_INDEX, table_name='mentions')
    with _sqlite_rebuild():
        with op.batch_alter_table('mentions', schema=None) as batch_op:
            for name, kind in SCORE_COLUMNS:
                batch_op.alter_column(name, existing_type=kind, nullable=nullable)
    op.create_index(URL_INDEX, 'mentions', ['monitor_id', 'url_key'], unique=True,
                    postgresql_where=sa.text('url_key IS NOT NULL'),
                    sqlite_where=sa.text('url_key IS NOT NULL'))


def upgrade():
    # Plain ADD COLUMN with constant defaults: instant on PostgreSQL, no rebuild on SQLite.
    op.add_column('mentions', sa.Column('lang', sa.String(length=8), server_default='und', nullable=False))
    op.add_column('mentions', sa.Column('scored', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('mentions', sa.Column('mixed', sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column('mentions', sa.Column('reach', sa.BigInteger(), nullable=True))
    op.add_column('mentions', sa.Column('engagement', sa.BigInteger(), nullable=True))
    op.execute("UPDATE mentions SET mixed = (pos >= 0.2 AND neg >= 0.2) WHERE pos >= 0.2 AND neg >= 0.2")
    op.create_index('ix_mentions_monitor_lang_published', 'mentions', ['monitor_id', 'lang', 'published_at'])
    _scores_nullable(True)
    op.add_column('monitors', sa.Column('language_scorers', sa.JSON(), server_default='{}', nullable=False))

    op.create_table(
        'lang_rollups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.String(length=4), nullable=False),
        sa.Column('start', sa.DateTime(), nullable=False),
        sa.Column('lang', sa.String(length=8), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.Column('scored', sa.Integer(), nullable=False),
        sa.Column('mixed', sa.Integer(), nullable=False),
        sa.Column('reach', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_lang_rollups_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_lang_rollups')),
        sa.UniqueConstraint('monitor_id', 'bucket', 'start', 'lang',
                            name='uq_lang_rollups_bucket_lang'),
    )
    op.create_table(
        'author_rollups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('monitor_id', sa.Integer(), nullable=False),
        sa.Column('bucket', sa.String(length=4), nullable=False),
        sa.Column('start', sa.DateTime(), nullable=False),
        sa.Column('author', sa.String(length=255), nullable=False),
        sa.Column('mentions', sa.Integer(), nullable=False),
        sa.Column('reach', sa.BigInteger(), nullable=False),
        sa.Column('engagement', sa.BigInteger(), nullable=False),
        sa.Column('scored', sa.Integer(), nullable=False),
        sa.Column('sum_compound', sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(['monitor_id'], ['monitors.id'],
                                name=op.f('fk_author_rollups_monitor_id_monitors'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_author_rollups')),
        sa.UniqueConstraint('monitor_id', 'bucket', 'start', 'author',
                            name='uq_author_rollups_bucket_author'),
    )


def downgrade():
    op.drop_column('monitors', 'language_scorers')
    op.drop_table('author_rollups')
    op.drop_table('lang_rollups')
    # Unscored mentions get a neutral zero score back: the old schema has no place for "unscored".
    op.execute("UPDATE mentions SET compound = 0, pos = 0, neu = 1, neg = 0, label = 'neutral' "
               "WHERE label IS NULL")
    _scores_nullable(False)
    op.drop_index('ix_mentions_monitor_lang_published', table_name='mentions')
    for name in ('engagement', 'reach', 'mixed', 'scored', 'lang'):
        op.drop_column('mentions', name)
