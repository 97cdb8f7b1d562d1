"""Gunicorn settings read from the working directory (gunicorn loads ./gunicorn.conf.py itself).

Processes, not threads: a request is CPU work in Python, and threads of one process take turns
on one interpreter lock, so under load their answers queue unevenly (bench/bench_web.py: p95 of
the dashboard with 50 clients on 2 cores 254 ms with 2 processes x 4 threads, 163 ms with 4 x 1).
`WEB_CONCURRENCY` (processes, default 2 per core) and `WEB_THREADS` (default 1) change that.

When a web worker exits, its live Prometheus gauges are dropped from the installation's
multiprocess folder (PROMETHEUS_MULTIPROC_DIR, else <instance>/prometheus), so /metrics stops
counting a process that is gone. Command-line options still apply over these.

With `--preload` (`make run` with several web processes, see scripts/run.py) the app is built
once in the master and the workers are forked from it: their pages are shared copy-on-write.
The master then freezes its objects out of the garbage collector's reach (`gc.freeze`), so a
collection in a worker does not write to, and so copy, every shared page; each worker drops the
database pool it inherited (none is opened while the app is built, but a pooled connection must
never cross a fork).
"""
import gc
import os

workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * (os.cpu_count() or 1))
threads = int(os.environ.get("WEB_THREADS") or 1)
# Quiet by default (`make run` prints the URL last, and it should stay on screen): LOG_LEVEL
# (default WARNING) for gunicorn's own log; ACCESS_LOG=1 (or a file path) writes the access log.
loglevel = (os.environ.get("LOG_LEVEL") or "warning").lower()
_access = os.environ.get("ACCESS_LOG", "")
accesslog = None if _access in ("", "0", "false", "no") else "-" if _access in ("1", "true", "yes") else _access


def _metrics_folder() -> str:
    from webapp.core import metrics

    instance = os.environ.get("SENTIMON_INSTANCE") or os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                                   "instance")
    return metrics.directory_setting(os.environ, os.path.abspath(instance))[0]


def child_exit(server, worker):
    from prometheus_client import multiprocess

    folder = _metrics_folder()
    if os.path.isdir(folder):
        multiprocess.mark_process_dead(worker.pid, folder)


def pre_fork(server, worker):
    if server.cfg.preload_app:
        gc.freeze()


def post_fork(server, worker):
    app = getattr(server.app, "callable", None) if server.cfg.preload_app else None
    if app is not None and hasattr(app, "app_context"):
        from webapp.core.extensions import db

        with app.app_context():
            db.engine.dispose(close=False)
