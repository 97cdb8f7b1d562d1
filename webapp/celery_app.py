"""Celery bound to the Flask app, as in Flask's own examples/celery: tasks run in an app context."""
from __future__ import annotations

from celery import Celery, Task
from flask import Flask


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object("celeryconfig")
    celery_app.conf.update(
        broker_url=app.config["CELERY_BROKER_URL"],
        result_backend=app.config["CELERY_RESULT_BACKEND"],
        beat_schedule_filename=app.config.get("CELERY_BEAT_SCHEDULE_FILE")
        or f"{app.instance_path}/celerybeat-schedule",
    )
    celery_app.conf.update(app.config.get("CELERY", {}))
    celery_app.flask_app = app
    if app.config.get("BUS_CONSUMER_IN_WORKER", True):
        from tasks.consumer import BusConsumerStep

        celery_app.steps["worker"].add(BusConsumerStep)
    _dispose_engine_in_forked_children(app)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def _dispose_engine_in_forked_children(app: Flask) -> None:
    """A prefork child must not reuse the parent's pooled connections (SQLite or PostgreSQL)."""
    from celery.signals import worker_process_init

    from .extensions import db

    def dispose(**_kwargs):
        with app.app_context():
            db.engine.dispose(close=False)

    worker_process_init.connect(dispose, weak=False)
