"""Celery tasks: thin, named wrappers around services. `celery -A tasks worker` finds the app in tasks.celery."""
