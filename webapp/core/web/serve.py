"""`python -m webapp.core.web.serve --bind HOST:PORT`: `make run`'s web process (the Procfile's `web:` line).

Sized by the environment that scripts/run.py fills in for the machine:

- WEB_CONCURRENCY=1 (two cores or fewer): Waitress serves the app from this one process with
  WEB_THREADS threads (default 4). Gunicorn needs a master process beside its web process (about
  15 MB that serves no request); Waitress is a production WSGI server that needs none.
- WEB_CONCURRENCY>1: this process becomes gunicorn (`exec`), with gunicorn.conf.py's settings
  (several processes, preloaded when scripts/run.py said `--preload`).

`make stack` and docker-compose.yml start gunicorn themselves and do not use this.
LOG_LEVEL sets the server's log level; ACCESS_LOG=1 (or a file path) writes one line per
request in the common log format, as gunicorn.conf.py does for gunicorn.
"""
from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import time
from typing import Callable, Iterable

from webapp.core.numbers import whole_number

APP = "wsgi:app"


def plan(environ: dict[str, str]) -> tuple[str, int]:
    """Pure: ("waitress", threads) for one web process, ("gunicorn", processes) for several."""
    def number(name: str, default: int) -> int:
        value = (environ.get(name) or "").strip()
        number = whole_number(value, 6)
        return number if number else default

    processes = number("WEB_CONCURRENCY", 1)
    if processes > 1:
        return "gunicorn", processes
    return "waitress", number("WEB_THREADS", 4)


def access_log_target(value: str | None) -> str | None:
    """Pure: None (no access log), "-" (stdout) or a file path, read as gunicorn.conf.py reads ACCESS_LOG."""
    value = (value or "").strip()
    if value.lower() in ("", "0", "false", "no"):
        return None
    return "-" if value.lower() in ("1", "true", "yes", "-") else value


def with_access_log(app: Callable, write: Callable[[str], None]) -> Callable:
    """`app` writing one common-log-format line per request once its status is known."""
    def logged(environ, start_response):
        def start(status, headers, exc_info=None):
            size = next((v for k, v in headers if k.lower() == "content-length"), "-")
            path = environ.get("PATH_INFO", "") + ("?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else "")
            write(f'{environ.get("REMOTE_ADDR", "-")} - - [{time.strftime("%d/%b/%Y:%H:%M:%S %z")}] '
                  f'"{environ.get("REQUEST_METHOD", "-")} {path} {environ.get("SERVER_PROTOCOL", "-")}" '
                  f'{status.split(" ", 1)[0]} {size} "{environ.get("HTTP_REFERER", "-")}" '
                  f'"{environ.get("HTTP_USER_AGENT", "-")}"\n')
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)
        return app(environ, start)
    return logged


def _writer(target: str) -> Callable[[str], None]:
    stream = sys.stdout if target == "-" else open(target, "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    def write(line: str) -> None:
        stream.write(line)
        stream.flush()
    return write


def _exec_gunicorn(bind: str, extra: Iterable[str]) -> None:
    gunicorn = shutil.which("gunicorn") or os.path.join(os.path.dirname(sys.executable), "gunicorn")
    os.execv(gunicorn, [gunicorn, "--bind", bind, *extra, APP])


def serve_waitress(bind: str, threads: int) -> None:
    from waitress import serve

    from webapp.core import metrics
    from wsgi import app

    level = getattr(logging, (os.environ.get("LOG_LEVEL") or "WARNING").upper(), logging.WARNING)
    logging.basicConfig(level=level, format="[%(asctime)s] [%(levelname)s] %(name)s: %(message)s")
    application = app
    target = access_log_target(os.environ.get("ACCESS_LOG"))
    if target:
        application = with_access_log(app, _writer(target))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop as on Ctrl-C: the finally below runs
    try:
        serve(application, listen=bind, threads=threads, ident="Sentimon", clear_untrusted_proxy_headers=False)
    except KeyboardInterrupt:
        pass
    finally:
        metrics.process_exit()  # this process's live gauges stop counting on /metrics


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bind", default=f"127.0.0.1:{os.environ.get('PORT', '5000')}")
    args, extra = parser.parse_known_args(argv)
    server, size = plan(dict(os.environ))
    if server == "gunicorn":
        _exec_gunicorn(args.bind, extra)
    elif extra:
        parser.error(f"{' '.join(extra)}: gunicorn options need WEB_CONCURRENCY > 1")
    else:
        serve_waitress(args.bind, size)


if __name__ == "__main__":
    main()
