"""Celery's lowercase settings, read from the environment.

The broker and result backend default to SQLite files (the embedded default) and are filled in
from the Flask config by `webapp.core.celery_app.celery_init_app`; the rest is fixed policy.
"""
import os
from datetime import timedelta

broker_url = os.environ.get("CELERY_BROKER_URL") or None
result_backend = os.environ.get("CELERY_RESULT_BACKEND") or None
imports = (
    "webapp.monitors.tasks", "webapp.monitors.backfill.tasks", "webapp.admin.tasks",
    "webapp.scoring.tasks", "webapp.alerting.tasks", "webapp.alerting.notifiers.tasks",
    "webapp.mentions.tasks", "webapp.reports.tasks", "webapp.ingest.tasks",
) + tuple(
    name for name in os.environ.get("CELERY_EXTRA_IMPORTS", "").split(",") if name.strip()
)
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
# A delivery that started this many times without finishing (it kills its worker) is dropped.
MAX_DELIVERIES = int(os.environ.get("CELERY_MAX_DELIVERIES", "3"))
# Redis redelivers an unacknowledged task after the visibility timeout: it must exceed every
# task's time limit, or a long task would run twice. Applied only when the broker is Redis.
REDIS_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}

# One queue per kind of work, so that slow fetches never hold up alert evaluation or delivery.
task_default_queue = "celery"
task_routes = {
    "fetch.*": {"queue": "fetch"},
    "backfill.*": {"queue": "fetch"},  # history fetches share the fetch workers
    "alerts.*": {"queue": "alerts"},
    "notify.*": {"queue": "notify"},
}
QUEUES = "celery,fetch,alerts,notify"

# Exactly one active beat: the scheduler sends only while it holds a lease in the database.
beat_scheduler = "tasks.beat:LeaderScheduler"
beat_max_loop_interval = 2  # seconds; the lease (BEAT_LEASE_SECONDS) is renewed this often

beat_schedule = {
    "dispatch-due-fetches": {
        "task": "fetch.dispatch_due",
        "schedule": float(os.environ.get("FETCH_DISPATCH_EVERY", "15")),
    },
    "prune": {"task": "maintenance.prune", "schedule": 3600.0},
    # Rules are evaluated once per slot whatever this interval; ALERTS_LAG_SECONDS sets the lag.
    "evaluate-due-alerts": {
        "task": "alerts.evaluate_due",
        "schedule": float(os.environ.get("ALERTS_EVALUATE_EVERY", "60")),
    },
    "dispatch-due-deliveries": {"task": "notify.dispatch_due", "schedule": 60.0},
    # Backfill slices whose worker died (no checkpoint for 2 minutes) are queued again.
    "resume-stalled-backfills": {"task": "backfill.resume", "schedule": 300.0},
    # Raw mentions past their monitor's retention_days (rollups stay), in bounded batches.
    "prune-retention": {"task": "mentions.prune_retention", "schedule": 86400.0},
    # Scheduled reports that are due; each (report, period) is claimed once in the database.
    "send-due-reports": {"task": "reports.send_due", "schedule": float(os.environ.get("REPORTS_EVERY", "300"))},
    # Closed days of the hourly term rollups folded into 1d and 1w rows (a watermark per monitor).
    "fold-term-rollups": {"task": "terms.fold_due", "schedule": float(os.environ.get("TERMS_FOLD_EVERY", "3600"))},
    # Ingest's pending term deltas (one row per batch and hour) summed into the term rollups.
    "fold-term-deltas": {"task": "terms.fold_deltas",
                         "schedule": float(os.environ.get("TERMS_DELTAS_FOLD_EVERY", "15"))},
}
