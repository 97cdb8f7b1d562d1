"""`python -m tasks.worker [-q|--quiet] [worker options]`: `celery -A tasks worker ...` without
Celery's umbrella command line, whose `amqp` shell alone imports prompt_toolkit and Pygments
(about 12 MB in the long-lived worker). Same worker, same options (`celery worker --help`), plus
this app's own (`--beat-thread`); `make run`'s Procfile starts the worker this way.
"""
from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    from celery.bin.base import CLIContext
    from celery.bin.worker import worker

    from tasks.celery import app

    args = list(sys.argv[1:] if argv is None else argv)
    quiet = bool({"-q", "--quiet"} & set(args[:1]))
    if quiet:
        args = args[1:]
    known = {option.name for option in worker.params}
    worker.params.extend(o for o in app.user_options["worker"] if o.name not in known)
    worker.main(args=args, prog_name="celery worker",
                obj=CLIContext(app=app, no_color=None, workdir=None, quiet=quiet))


if __name__ == "__main__":
    main()
