"""A task that kills the process running it, loaded into test workers via CELERY_EXTRA_IMPORTS."""
import os
import signal

from celery import shared_task


@shared_task(name="testing.crash", acks_late=True)
def crash(marker_file: str) -> None:
    with open(marker_file, "a") as handle:
        handle.write("started\n")
    os.kill(os.getpid(), signal.SIGKILL)
