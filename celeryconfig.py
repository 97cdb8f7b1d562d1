"""Celery's lowercase settings, read from the environment.

The broker and result backend default to SQLite files (the embedded default) and are filled in
from the Flask config by `webapp.celery_app.celery_init_app`; the rest is fixed policy.
"""
import os
from datetime import timedelta

broker_url = os.environ.get("CELERY_BROKER_URL") or None
result_backend = os.environ.get("CELERY_RESULT_BACKEND") or None
imports = ("tasks.fetch", "tasks.maintenance")
timezone = "UTC"
enable_utc = True
task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
result_expires = timedelta(hours=6)
broker_connection_retry_on_startup = True

# At-least-once: a task is acknowledged after it ran; every scheduled unit is idempotent.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_time_limit = int(os.environ.get("CELERY_TASK_TIME_LIMIT", "300"))
task_soft_time_limit = int(os.environ.get("CELERY_TASK_SOFT_TIME_LIMIT", "240"))

# One queue per kind of work, so that slow fetches never hold up alert evaluation or delivery.
task_default_queue = "celery"
task_routes = {
    "fetch.*": {"queue": "fetch"},
    "alerts.*": {"queue": "alerts"},
    "notify.*": {"queue": "notify"},
}
QUEUES = "celery,fetch,alerts,notify"

beat_schedule = {
    "dispatch-due-fetches": {
        "task": "fetch.dispatch_due",
        "schedule": float(os.environ.get("FETCH_DISPATCH_EVERY", "15")),
    },
    "prune-bus-log": {"task": "bus.prune", "schedule": 3600.0},
}
