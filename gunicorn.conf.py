"""Gunicorn settings read from the working directory (gunicorn loads ./gunicorn.conf.py itself).

Only the Prometheus hook lives here: when a web worker exits, its live gauges are dropped from
the installation's multiprocess folder (PROMETHEUS_MULTIPROC_DIR, else <instance>/prometheus),
so /metrics stops counting a process that is gone. Command-line options still apply.
"""
import os


def _metrics_folder() -> str:
    from webapp.services import metrics

    instance = os.environ.get("SENTIMON_INSTANCE") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                   "instance")
    return metrics.directory_setting(os.environ, os.path.abspath(instance))[0]


def child_exit(server, worker):
    from prometheus_client import multiprocess

    folder = _metrics_folder()
    if os.path.isdir(folder):
        multiprocess.mark_process_dead(worker.pid, folder)
