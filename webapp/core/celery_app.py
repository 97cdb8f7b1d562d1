"""Celery bound to the Flask app, as in Flask's own examples/celery: tasks run in an app context.

Every task runs with acks_late; a task whose delivery keeps killing its worker is redelivered,
so each start is counted and a delivery that started MAX_DELIVERIES times is dropped (logged)
instead of crashing workers forever.

`celery -A tasks worker --beat-thread` runs the scheduler (beat) in a thread of the worker's main
process (`make run`'s single-machine layout: one process instead of two, about 100 MB less). The
scheduler holds the same lease as a separate `celery beat`, so one of either kind sends.
"""
from __future__ import annotations

import logging

from celery import Celery, Task, bootsteps
from flask import Flask

log = logging.getLogger(__name__)


def celery_init_app(app: Flask, worker_steps=()) -> Celery:
    """The Celery app of `app`; `worker_steps` are bootsteps every worker adds (the bus consumer)."""
    class FlaskTask(Task):
        def __call__(self, *args, **kwargs):
            with app.app_context():
                if not _admit(self):
                    return None
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object("celeryconfig")
    broker = app.config["CELERY_BROKER_URL"]
    celery_app.conf.update(
        broker_url=broker,
        result_backend=app.config["CELERY_RESULT_BACKEND"],
        beat_schedule_filename=app.config.get("CELERY_BEAT_SCHEDULE_FILE")
        or f"{app.instance_path}/celerybeat-schedule",
    )
    if broker.startswith(("redis://", "rediss://")):
        celery_app.conf.broker_transport_options = dict(celery_app.conf.REDIS_TRANSPORT_OPTIONS)
    celery_app.conf.update(app.config.get("CELERY", {}))
    celery_app.flask_app = app
    for step in (*worker_steps, BeatThread):
        celery_app.steps["worker"].add(step)
    _add_beat_thread_option(celery_app)
    _dispose_engine_in_forked_children(app)
    _count_task_outcomes()
    _serve_worker_metrics(app)
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


class BeatThread(bootsteps.StartStopStep):
    """The beat scheduler in a thread of this worker, with `--beat-thread` (Celery's own `-B` forks
    a process for it). Stopped with the worker; the lease lets it stand by beside another beat."""

    label = "BeatThread"
    conditional = True

    def __init__(self, worker, beat_thread=False, **kwargs):
        self.enabled = bool(beat_thread)
        super().__init__(worker, **kwargs)

    def create(self, worker):
        from celery.beat import EmbeddedService

        # The worker's -S/--scheduler, else beat_scheduler (the leader lease); Celery's Service
        # would otherwise fall back to its plain PersistentScheduler.
        scheduler = getattr(worker, "scheduler", None) or worker.app.conf.beat_scheduler
        return EmbeddedService(worker.app, thread=True, scheduler_cls=scheduler)


def _add_beat_thread_option(celery_app: Celery) -> None:
    from click import Option

    options = celery_app.user_options["worker"]
    if not any("--beat-thread" in o.opts for o in options):
        options.add(Option(["--beat-thread"], is_flag=True, default=False,
                           help="Run the beat scheduler in a thread of this worker (single-machine mode)."))


def _admit(task: Task) -> bool:
    """False when this delivery of `task` has started too often (it kills its worker)."""
    request = task.request
    if request.id is None or request.called_directly or request.is_eager:
        return True
    from webapp.core.extensions import db
    from webapp.core import leases

    cap = task.app.conf.MAX_DELIVERIES
    key = f"{request.id}:{request.retries or 0}"
    try:
        starts = leases.count_start(db.engine, key, task.name)
    except Exception:  # the count is a safety net; never block work because it failed
        log.warning("could not count the start of %s", key, exc_info=True)
        return True
    if starts > cap:
        log.error("dropping task %s[%s]: started %d times without finishing (cap %d)",
                  task.name, key, starts, cap)
        return False
    return True


def _dispose_engine_in_forked_children(app: Flask) -> None:
    """A prefork child must not reuse the parent's pooled connections (SQLite or PostgreSQL)."""
    from celery.signals import worker_process_init

    from webapp.core.extensions import db

    def dispose(**_kwargs):
        with app.app_context():
            db.engine.dispose(close=False)

    worker_process_init.connect(dispose, weak=False)


def _count_task_outcomes() -> None:
    """Task failures and retries as Prometheus counters; a worker's exit drops its live gauges.

    dispatch_uid keeps one receiver per signal however many apps this process creates.
    """
    from celery.signals import task_failure, task_retry, worker_process_shutdown, worker_shutdown

    from webapp.core import metrics

    def failed(sender=None, **_kwargs):
        metrics.task_failed(getattr(sender, "name", None) or str(sender))

    def retried(sender=None, **_kwargs):
        metrics.task_retried(getattr(sender, "name", None) or str(sender))

    def exiting(**_kwargs):
        metrics.process_exit()

    task_failure.connect(failed, weak=False, dispatch_uid="sentimon.metrics.task_failure")
    task_retry.connect(retried, weak=False, dispatch_uid="sentimon.metrics.task_retry")
    worker_process_shutdown.connect(exiting, weak=False, dispatch_uid="sentimon.metrics.child_exit")
    worker_shutdown.connect(exiting, weak=False, dispatch_uid="sentimon.metrics.worker_exit")


def _serve_worker_metrics(app: Flask) -> None:
    """With WORKER_METRICS_PORT set, a worker's main process serves /metrics of its machine once
    it is ready (for hosts without a web process; the web's /metrics serves the others)."""
    port = app.config.get("WORKER_METRICS_PORT") or 0
    if not port:
        return
    from celery.signals import worker_ready

    from webapp.core import metrics

    def ready(**_kwargs):
        metrics.serve(app.config.get("WORKER_METRICS_ADDRESS") or "127.0.0.1", port,
                      app.config["PROMETHEUS_MULTIPROC_DIR"], app.config.get("METRICS_TOKEN", ""))

    worker_ready.connect(ready, weak=False, dispatch_uid="sentimon.metrics.worker_http")
