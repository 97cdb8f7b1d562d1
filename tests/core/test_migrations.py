"""The schema comes only from migrations, and the migrations match the models."""
from __future__ import annotations

import pytest

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from webapp.core.extensions import db
from webapp.mentions import fulltext

pytestmark = pytest.mark.both_databases


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": fulltext.include_name})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff
