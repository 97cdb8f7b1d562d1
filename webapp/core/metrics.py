"""Prometheus metrics shared by every web and worker process of an installation.

prometheus_client's multiprocess mode: each process writes its samples to memory-mapped files
named after its pid in one directory, and /metrics (any web process) adds them all up. Which
mode a metric uses is decided when its value object is made (prometheus_client reads
PROMETHEUS_MULTIPROC_DIR when it is imported and when a value is created), so:

- importing this module does nothing (no prometheus_client import, no file);
- `configure(directory)` (called by create_app) creates the directory, sets the environment
  variable for this process and the processes it forks, switches prometheus_client to
  multiprocess values, and drops the files of dead processes' live gauges;
- metric objects are made lazily on first use, after configuration, never registered in the
  global registry (the scrape builds a fresh registry from the files).

The recording helpers never raise: a metric must not break ingest or delivery.
"""
from __future__ import annotations

import glob
import hmac
import ipaddress
import logging
import os
import re
import threading
from collections import Counter
from typing import Iterable, Mapping

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"
# Set beside ENV when the directory is this installation's default, so that a child process
# started with another instance folder (tests, scripts) does not take it for an explicit setting.
AUTO_ENV = "SENTIMON_METRICS_AUTO_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
_LIVE_FILE = re.compile(r"^gauge_live\w*?_(\d+)\.db$")

_lock = threading.Lock()
_state: dict = {"directory": None, "metrics": None}


def default_directory(instance_path: str) -> str:
    return os.path.join(instance_path, "prometheus")


def directory_setting(environ: Mapping[str, str], instance_path: str) -> tuple[str, bool]:
    """(directory, defaulted): PROMETHEUS_MULTIPROC_DIR when set by the user, else the default."""
    explicit = (environ.get(ENV) or "").strip()
    if explicit and explicit != environ.get(AUTO_ENV):
        return explicit, False
    return default_directory(instance_path), True


def configure(directory: str, *, defaulted: bool = False) -> str:
    """Use `directory` for this process's samples (idempotent per directory); returns it."""
    directory = os.path.abspath(directory)
    with _lock:
        if _state["directory"] == directory:
            return directory
        os.makedirs(directory, exist_ok=True)
        os.environ[ENV] = directory
        if defaulted:
            os.environ[AUTO_ENV] = directory
        elif os.environ.get(AUTO_ENV) == directory:
            del os.environ[AUTO_ENV]
        from prometheus_client import values

        previous = values.ValueClass
        if hasattr(previous, "close_all_files"):  # another folder before (tests): free its mmaps
            previous.close_all_files()
        values.ValueClass = values.MultiProcessValue()
        _state.update(directory=directory, metrics=None)
    remove_dead_processes(directory)
    return directory


def directory() -> str | None:
    return _state["directory"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_dead_processes(path: str) -> list[int]:
    """Drop the live-gauge files of processes that no longer run (killed without a hook)."""
    from prometheus_client import multiprocess

    dead = set()
    for name in os.listdir(path) if os.path.isdir(path) else ():
        found = _LIVE_FILE.match(name)
        if found and not _alive(int(found.group(1))):
            dead.add(int(found.group(1)))
    for pid in dead:
        multiprocess.mark_process_dead(pid, path)
    return sorted(dead)


def process_exit(pid: int | None = None) -> None:
    """A process of this installation ends: its live gauges stop counting (its counters stay)."""
    path = _state["directory"] or os.environ.get(ENV)
    if not path:
        return
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid or os.getpid(), path)
    except Exception:  # noqa: BLE001 - an exit hook must not fail the exit
        log.warning("could not mark process %s dead for metrics", pid, exc_info=True)


# -- the metrics ----------------------------------------------------------------------------------

class _Metrics:
    def __init__(self):
        from prometheus_client import Counter as C, Gauge, Histogram

        self.fetched = C("sentimon_mentions_fetched", "Items fetched from sources, by source kind",
                         ["kind"], registry=None)
        self.scored = C("sentimon_mentions_scored", "Mentions scored by the consumer, by source kind",
                        ["kind"], registry=None)
        self.stored = C("sentimon_mentions_stored", "Mentions stored (new, committed), by source kind",
                        ["kind"], registry=None)
        self.scoring = Histogram("sentimon_scoring_seconds", "Time to score one batch of mentions",
                                 buckets=LATENCY_BUCKETS, registry=None)
        self.batch = Histogram("sentimon_batch_seconds", "Time to handle one bus batch (score, store, commit)",
                               buckets=LATENCY_BUCKETS, registry=None)
        self.task_failures = C("sentimon_task_failures", "Celery tasks that raised, by task name",
                               ["task"], registry=None)
        self.task_retries = C("sentimon_task_retries", "Celery task retries, by task name",
                              ["task"], registry=None)
        self.deliveries = C("sentimon_alert_deliveries", "Alert delivery attempts by outcome "
                            "(sent, failed = will retry, permanent_failure)", ["outcome"], registry=None)
        self.consumers = Gauge("sentimon_bus_consumers", "Bus consumers running (live processes)",
                               multiprocess_mode="livesum", registry=None)


def _metrics() -> _Metrics:
    found = _state["metrics"]
    if found is None:
        with _lock:
            found = _state["metrics"]
            if found is None:
                found = _state["metrics"] = _Metrics()
    return found


def _safe(record):
    def wrapper(*args, **kwargs):
        try:
            record(*args, **kwargs)
        except Exception:  # noqa: BLE001 - metrics never break the work they measure
            log.warning("recording metric %s failed", record.__name__, exc_info=True)
    wrapper.__name__ = record.__name__
    wrapper.__doc__ = record.__doc__
    return wrapper


def by_kind(rows: Iterable[dict], kinds: Mapping[int, str]) -> dict[str, int]:
    """Rows per source kind (rows carry `source_id`; `kinds` maps source id to kind)."""
    return dict(Counter(kinds.get(row["source_id"], "unknown") for row in rows))


@_safe
def mentions_fetched(kind: str, count: int) -> None:
    if count:
        _metrics().fetched.labels(kind=kind).inc(count)


@_safe
def mentions_scored(counts: Mapping[str, int], seconds: float) -> None:
    m = _metrics()
    for kind, n in counts.items():
        m.scored.labels(kind=kind).inc(n)
    m.scoring.observe(seconds)


@_safe
def mentions_stored(counts: Mapping[str, int]) -> None:
    m = _metrics()
    for kind, n in counts.items():
        if n:
            m.stored.labels(kind=kind).inc(n)


@_safe
def batch_handled(seconds: float) -> None:
    _metrics().batch.observe(seconds)


@_safe
def task_failed(task: str) -> None:
    _metrics().task_failures.labels(task=task).inc()


@_safe
def task_retried(task: str) -> None:
    _metrics().task_retries.labels(task=task).inc()


@_safe
def alert_delivery(outcome: str) -> None:
    _metrics().deliveries.labels(outcome=outcome).inc()


@_safe
def consumer_running(delta: int) -> None:
    _metrics().consumers.inc(delta)


# -- exposition -----------------------------------------------------------------------------------

def pipeline_families(health) -> list:
    """Gauges measured at scrape time from a pipeline_health.PipelineHealth."""
    from prometheus_client.core import GaugeMetricFamily

    lag = GaugeMetricFamily("sentimon_consumer_lag", "Records the ingest consumer group has not "
                            "committed yet, per topic partition", labels=["topic", "group", "partition"])
    for p in health.lag:
        lag.add_metric([p.topic, health.group, str(p.partition)], p.lag)
    families = [lag]
    queues = GaugeMetricFamily("sentimon_celery_queue_depth", "Celery messages waiting per queue",
                               labels=["queue"])
    for name, depth in sorted(health.queues.items()):
        if depth is not None:
            queues.add_metric([name], depth)
    families.append(queues)
    families.append(GaugeMetricFamily("sentimon_dead_letters_pending",
                                      "Dead letters not replayed", value=health.dead_letters_pending))
    families.append(GaugeMetricFamily("sentimon_pipeline_probe_errors",
                                      "Health probes that failed during this scrape", value=len(health.errors)))
    return families


class _Static:
    def __init__(self, families):
        self.families = families

    def collect(self):
        return self.families


def render(path: str, families: list | None = None) -> bytes:
    """The text exposition of every process's samples in `path` plus scrape-time `families`."""
    from prometheus_client import CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    remove_dead_processes(path)
    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=path)
    if families:
        registry.register(_Static(families))
    return generate_latest(registry)


def allowed(remote_addr: str | None, headers, token: str) -> bool:
    """May this request read the metrics? (pure; see the module docstring)"""
    if token:
        scheme, _, given = (headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode())
    if headers.get("Forwarded") or headers.get("X-Forwarded-For"):
        return False
    try:
        return ipaddress.ip_address((remote_addr or "").split("%")[0]).is_loopback
    except ValueError:
        return False


def serve(address: str, port: int, path: str, token: str = ""):
    """Serve GET /metrics of this machine's processes (the samples in `path`) on address:port
    from a daemon thread, with the web's access rule (`allowed`); returns the server (its
    `shutdown()` stops it). For hosts that run workers and no web process (WORKER_METRICS_PORT)."""
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from prometheus_client import CONTENT_TYPE_LATEST

    def app(environ, start_response):
        headers = {"Authorization": environ.get("HTTP_AUTHORIZATION"), "Forwarded": environ.get("HTTP_FORWARDED"),
                   "X-Forwarded-For": environ.get("HTTP_X_FORWARDED_FOR")}
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"only /metrics here\n"]
        if not allowed(environ.get("REMOTE_ADDR"), headers, token):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"metrics are open on loopback, or with the METRICS_TOKEN bearer token\n"]
        body = render(path)
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST), ("Cache-Control", "no-store")])
        return [body]

    class Quiet(WSGIRequestHandler):
        def log_message(self, *_args):  # no line per scrape
            pass

    server = make_server(address, port, app, handler_class=Quiet)
    threading.Thread(target=server.serve_forever, name="worker-metrics", daemon=True).start()
    return server


def files(path: str) -> list[str]:
    """The sample files in `path` (for tests and troubleshooting)."""
    return sorted(glob.glob(os.path.join(path, "*.db")))
