"""A worker-like process for tests/test_metrics.py: records samples through webapp.core.metrics.

Run with SENTIMON_INSTANCE and DATABASE_URL set to a test's instance. It creates the app (which
configures the installation's multiprocess folder), records a known set of samples, starts a
bus consumer's live gauge, prints READY and waits until stdin closes (or it is killed).
"""
import sys

from webapp import create_app
from webapp.core import metrics

app = create_app()
metrics.mentions_fetched("rss", 7)
metrics.mentions_stored({"push": 2})
metrics.task_failed("fetch.run")
metrics.consumer_running(+1)
print("READY", app.config["PROMETHEUS_MULTIPROC_DIR"], flush=True)
sys.stdin.read()
metrics.consumer_running(-1)
