"""`make run`'s small footprint: what its processes import, how they are sized, and the pieces that
let fewer processes do the work (beat in a worker thread, migrations loaded only where they run).
The whole layout runs in tests/core/test_end_to_end.py; bench/bench_footprint.py measures it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import app_config

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
import run as supervisor  # noqa: E402  (scripts/run.py: standard library only)

HEAVY = ("flask_migrate", "alembic", "mako", "pygments", "numpy", "nltk", "sklearn", "scipy", "matplotlib",
         "weasyprint", "pandas", "prompt_toolkit", "py3langid")


def loaded_after(tmp_path, code: str) -> dict:
    """Which HEAVY modules a fresh interpreter has after running `code` in the project."""
    env = {**os.environ, "SENTIMON_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BUS_URL"):
        env.pop(key, None)
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_web_and_worker_import_nothing_heavy_they_do_not_use(tmp_path):
    assert loaded_after(tmp_path, "import wsgi") == []
    # The worker: its app, every task module, the bus consumer, its command line (not Celery's umbrella one).
    worker = ("import importlib, celeryconfig, tasks.celery, tasks.worker, webapp.ingest.consumer\n"
              "from celery.bin.worker import worker\n"
              "[importlib.import_module(m) for m in celeryconfig.imports]")
    assert loaded_after(tmp_path, worker) == ["pygments"]  # celery.bin.base colours its JSON output with it


def test_migrations_still_run_and_load_flask_migrate_on_first_use(tmp_path):
    code = ("import sys\nfrom webapp import create_app\n"
            f"app = create_app({app_config(tmp_path)!r})\n"
            "assert 'flask_migrate' not in sys.modules and 'db' in app.cli.commands\n"
            "from flask_migrate import upgrade\n"
            "with app.app_context():\n    upgrade()\n"
            "from sqlalchemy import inspect\nfrom webapp.core.extensions import db\n"
            "with app.app_context():\n    assert 'mentions' in inspect(db.engine).get_table_names()\n"
            "assert app.extensions['migrate'].directory.endswith('migrations')")
    assert "flask_migrate" in loaded_after(tmp_path, code)


def test_flask_db_commands_work_through_the_lazy_group(tmp_path):
    env = {**os.environ, "SENTIMON_INSTANCE": str(tmp_path / "instance"), "PYTHONPATH": str(ROOT)}
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "BUS_URL"):
        env.pop(key, None)
    flask = [str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db"]
    upgraded = subprocess.run([*flask, "upgrade"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert upgraded.returncode == 0, upgraded.stderr[-2000:]
    current = subprocess.run([*flask, "current"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "(head)" in current.stdout
    helped = subprocess.run([*flask, "--help"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "--directory" in helped.stdout and "upgrade" in helped.stdout
    bad = subprocess.run([*flask, "no-such-command"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "No such command" in bad.stderr and "Traceback" not in bad.stderr


def test_machine_defaults_size_make_run_to_the_machine_and_respect_the_environment():
    assert supervisor.machine_defaults(2, {}) == {"WEB_CONCURRENCY": "1", "WEB_THREADS": "4", "MALLOC_ARENA_MAX": "2"}
    assert supervisor.machine_defaults(None, {})["WEB_CONCURRENCY"] == "1"
    eight = supervisor.machine_defaults(8, {})
    assert eight["WEB_CONCURRENCY"] == "4" and eight["GUNICORN_CMD_ARGS"] == "--preload"
    mine = supervisor.machine_defaults(8, {"WEB_CONCURRENCY": "1", "MALLOC_ARENA_MAX": "8"})
    assert mine == {"WEB_THREADS": "4"}  # what the environment says stays; one process is not preloaded
    assert supervisor.machine_defaults(2, {"WEB_CONCURRENCY": "3"})["GUNICORN_CMD_ARGS"] == "--preload"
    assert "GUNICORN_CMD_ARGS" not in supervisor.machine_defaults(2, {"WEB_CONCURRENCY": "many"})
    assert "GUNICORN_CMD_ARGS" not in supervisor.machine_defaults(2, {"WEB_CONCURRENCY": "²"})


@pytest.mark.parametrize("value", ["many", "²", "0", "-2", "2.5", "9" * 5000, " "])
def test_make_run_refuses_a_size_that_is_not_a_count(value):
    if value.strip():
        assert supervisor.sizing_errors({"WEB_CONCURRENCY": value}) == [
            f"WEB_CONCURRENCY must be a number of web processes from 1 to 9999, not {value!r}"]
        assert "WEB_THREADS must be" in supervisor.sizing_errors({"WEB_THREADS": value})[0]
    else:
        assert supervisor.sizing_errors({"WEB_CONCURRENCY": value}) == []   # blank: the default
    assert supervisor.sizing_errors({"WEB_CONCURRENCY": " 3 ", "WEB_THREADS": "8"}) == []


@pytest.mark.parametrize("settings, says", [
    ({"WEB_CONCURRENCY": "many"}, "WEB_CONCURRENCY must be a number of web processes"),
    ({"WEB_THREADS": "\u00b2"}, "WEB_THREADS must be a number of threads"),
    ({"WORKERS": "two"}, "argument --workers: invalid int value: 'two'"),
    ({"PORT": "http"}, "argument --port: invalid int value: 'http'"),
])
def test_make_stack_refuses_a_bad_size_before_starting_anything(tmp_path, settings, says):
    """`make stack` says which setting is wrong (gunicorn's own int() would stop with a traceback
    after the database upgrade and the other processes had started)."""
    env = {**os.environ, "SENTIMON_INSTANCE": str(tmp_path), **settings}
    done = subprocess.run([sys.executable, str(Path(supervisor.__file__).with_name("stack.py")), "up"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and says in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "stack" / "pids").exists()


def test_the_worker_offers_beat_in_a_thread_once(tmp_path):
    from webapp import create_app
    from webapp.core.celery_app import BeatThread

    create_app(app_config(tmp_path))
    app = create_app(app_config(tmp_path))  # a second app in the same process: still one option
    celery = app.extensions["celery"]
    assert BeatThread in celery.steps["worker"]
    assert [o.name for o in celery.user_options["worker"]].count("beat_thread") == 1

    class Worker:  # what a bootstep is given
        app = celery

    assert not BeatThread(Worker()).enabled
    step = BeatThread(Worker(), beat_thread=True)
    service = step.create(Worker())
    assert step.enabled and service.daemon and service.name == "Beat"
    assert type(service.service.scheduler).__name__ == "LeaderScheduler"


def test_the_language_detector_keeps_only_its_languages():
    from webapp.insights import languages

    assert languages.detect("Das ist ein ganz normaler deutscher Satz über das Wetter heute.") == "de"
    identifier = languages._get()
    table, _, classes = identifier._full_model
    assert table is identifier.nb_ptc and set(classes) == set(languages.LANGUAGES)
    assert identifier._rowbase.typecode == "q" and identifier.tk_output.typecode == "l"
    assert languages.detect("C'est une phrase tout à fait ordinaire sur le temps qu'il fait.") == "fr"


def test_workers_build_the_app_without_what_only_serves_requests(tmp_path):
    """`create_app(web=False)` (tasks/celery.py): models, extensions, Celery and its tasks, the bus
    consumer; no page or API route, no `flask` command of the features, no form or chart module."""
    from webapp import create_app

    worker = create_app(app_config(tmp_path), web=False)
    web = create_app(app_config(tmp_path))
    assert [rule.rule for rule in worker.url_map.iter_rules()] == ["/static/<path:filename>"]
    assert "/api/v1/openapi.json" in {rule.rule for rule in web.url_map.iter_rules()}
    assert "seed-demo" in web.cli.commands and "seed-demo" not in worker.cli.commands
    celery = worker.extensions["celery"]
    assert celery.flask_app is worker and worker.extensions["sqlalchemy"] is not None
    loaded = loaded_after(tmp_path, "import sys, tasks.celery\n"
                                    "assert 'webapp.monitors.views' not in sys.modules, 'a view module'\n"
                                    "assert 'webapp.core.openapi' not in sys.modules, 'the OpenAPI builder'\n"
                                    "assert 'plotly' not in sys.modules, 'plotly'")
    assert loaded == []
