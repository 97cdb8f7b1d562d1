"""Flask-Migrate, imported only where migrations run.

Importing `flask_migrate` imports Alembic and, with it, the DDL modules of every SQL dialect, Mako
and Pygments: about 10 MB in each web and worker process, which never migrate. So `init_app` gives
the app, without importing it,

- a `flask db` command group that hands over to Flask-Migrate's own group on first use, and
- an `app.extensions["migrate"]` made on first access (Flask-Migrate's functions such as
  `flask_migrate.upgrade()` and migrations/env.py read it),

both configured as `Migrate().init_app(app, db, directory=..., **options)` configures them.
"""
from __future__ import annotations

from typing import Callable

import click


class Extensions(dict):
    """`app.extensions`, whose "migrate" entry is made (Flask-Migrate imported) when first read."""

    def __init__(self, items: dict, make_migrate: Callable[[], None]):
        super().__init__(items)
        self._make_migrate = make_migrate

    def __missing__(self, key):
        if key != "migrate":
            raise KeyError(key)
        self._make_migrate()  # Migrate.init_app stores the entry in this dict
        return dict.__getitem__(self, key)


class MigrationsGroup(click.Group):
    """`flask db`: hands the command line over to Flask-Migrate's own group, imported then."""

    def __init__(self, app):
        super().__init__(name="db", help="Perform database migrations.")
        self.app = app

    def make_context(self, info_name, args, parent=None, **extra):
        self.app.extensions["migrate"]  # noqa: B018 (made on first read)
        from flask_migrate.cli import db

        return db.make_context(info_name, args, parent=parent, **extra)


def init_app(app, db, directory: str, **options) -> None:
    def make() -> None:
        from flask_migrate import Migrate

        Migrate().init_app(app, db, directory=directory, **options)

    app.extensions = Extensions(app.extensions, make)
    app.cli.add_command(MigrationsGroup(app))
