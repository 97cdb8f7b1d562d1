"""The bus consumer as a Celery worker bootstep: every worker started adds consuming capacity."""
from __future__ import annotations

import logging
import os
import socket
import threading

from celery import bootsteps

from webapp.core import runtime
from webapp.ingest import pipeline

log = logging.getLogger(__name__)


# Not plainly English, so that the language detector's model is loaded too.
WARM_TEXT = "Der schnelle braune Fuchs springt über den faulen Hund"


def warm() -> None:
    """Load what the first batch would otherwise load on its own time (the language detector's
    model, about a second, and the scorer's lexicon), so the first mentions do not wait for it.

    Then every object alive (the app, the lexicon, the model, every imported module: ~157,000
    the collector tracks) is frozen out of the garbage collector's reach (`gc.freeze`, after one
    collection): a full collection walked them all, ~0.1 s each time and every few thousand
    mentions of the store loop. What the loop makes later is collected as before."""
    import gc

    from webapp.insights.languages import detect_many
    from webapp.scoring.sentiment import score_texts

    detect_many([WARM_TEXT])
    score_texts([WARM_TEXT])
    gc.collect()
    gc.freeze()


def consumer_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


class BusConsumerStep(bootsteps.StartStopStep):
    """Runs the mentions consumer in a thread of the worker's main process."""

    requires = {"celery.worker.components:Pool"}

    def __init__(self, worker, **kwargs):
        super().__init__(worker, **kwargs)
        self.stop_event = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self, worker):
        flask_app = worker.app.flask_app

        def loop():
            with flask_app.app_context():
                pipeline.run(runtime.bus(flask_app), runtime.session_scope, self.stop_event,
                             consumer_name(), batch_size=flask_app.config["BUS_BATCH_SIZE"], prepare=warm)

        self.thread = threading.Thread(target=loop, name="bus-consumer", daemon=True)
        self.thread.start()
        log.info("bus consumer started")

    def stop(self, worker):
        self.stop_event.set()
        if self.thread is not None:
            self.thread.join(timeout=15)
