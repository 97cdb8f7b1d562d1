"""scripts/services.py: the CLI runs, and after `up` PostgreSQL, Redis and Kafka answer.

Select with `pytest -m services` (or leave out with `-m "not services"`). The module fixture runs
`services.py up` (installing what is missing the first time; a no-op when they run) and leaves
the services running for the rest of the session and other sessions: `make services-down` stops
them.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [
    pytest.mark.services,
    # kafka-python 3.0 loads its protocol schemas with importlib.resources' legacy functions
    pytest.mark.filterwarnings("ignore:.*is deprecated. Use files:DeprecationWarning"),
]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "services.py"


def services(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=timeout)


def parse_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


@pytest.fixture(scope="module")
def settings():
    """Bring the services up (the running Kafka variant, else one node); the app's settings."""
    result = services("up", timeout=1200)
    if result.returncode:
        pytest.fail(f"services.py up failed:\n{result.stdout}\n{result.stderr}")
    return parse_env(services("env").stdout)


def test_status_prints_one_line_per_service():
    result = services("status")
    assert result.returncode in (0, 3), result.stderr
    names = [line.split()[0] for line in result.stdout.splitlines()]
    assert names == ["postgres", "redis", "kafka-1node", "kafka-3node"]


def test_env_prints_the_app_settings():
    one = parse_env(services("env", "--kafka-nodes", "1").stdout)
    assert one == {
        "DATABASE_URL": "postgresql+psycopg://sentimon@127.0.0.1:55432/sentimon",
        "CELERY_BROKER_URL": "redis://127.0.0.1:56379/0",
        "CELERY_RESULT_BACKEND": "redis://127.0.0.1:56379/1",
        "BUS_URL": "kafka://127.0.0.1:59092",
        "REDIS_URL": "redis://127.0.0.1:56379/2",
    }
    three = parse_env(services("env", "--kafka-nodes", "3").stdout)
    assert three["BUS_URL"] == "kafka://127.0.0.1:59392,127.0.0.1:59492,127.0.0.1:59592"


def test_postgres_accepts_a_connection(settings):
    psycopg = pytest.importorskip("psycopg")
    url = settings["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT current_user, current_database(), 6 * 7").fetchone()
    assert row == ("sentimon", "sentimon", 42)


def test_redis_answers_ping(settings):
    import redis

    client = redis.Redis.from_url(settings["REDIS_URL"], socket_timeout=5)
    try:
        assert client.ping() is True
    finally:
        client.close()


def test_kafka_answers_a_metadata_request(settings):
    from kafka import KafkaAdminClient

    bootstrap = settings["BUS_URL"].removeprefix("kafka://").split(",")
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="sentimon-test",
                             request_timeout_ms=15000)
    try:
        assert isinstance(admin.list_topics(), list)
        assert len(admin.describe_cluster()["brokers"]) == len(bootstrap)
    finally:
        admin.close()


def test_a_second_up_is_quick(settings):
    start = time.monotonic()
    result = services("up")
    assert result.returncode == 0, result.stderr
    assert "already running" in result.stdout
    assert time.monotonic() - start < 10   # nothing started again (Kafka alone takes ~20 s)
