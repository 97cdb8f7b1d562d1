"""Services of Sentimon's distributed mode on loopback: PostgreSQL, Redis and KRaft Kafka.

    python3 scripts/services.py up [--kafka-nodes 1|3]   install what is missing, start the rest
    python3 scripts/services.py down [--kafka-nodes 1|3|all]
    python3 scripts/services.py status                   one line per service; exit 3 if not all up
    python3 scripts/services.py env [--kafka-nodes 1|3]  KEY=VALUE settings for the app
    python3 scripts/services.py kill-kafka NODE | stop-kafka NODE | start-kafka NODE  (fault tests;
                                                         --kafka-nodes 3 for the 3-node cluster)
    python3 scripts/services.py stop-postgres | start-postgres | restart-redis

Ports: PostgreSQL 55432, Redis 56379, Kafka 59092 (controller 59093) for one node, and clients
59392/59492/59592, controllers 59393/59493/59593 for the three-node cluster, which can run beside
the one-node broker (pass --kafka-nodes 3 to reach it), all on 127.0.0.1. Folders: $SENTIMON_SERVICES (default
~/.cache/sentimon/services) for data, logs and pid files; $SENTIMON_CACHE (default
~/.cache/sentimon) for the Kafka jars. $SENTIMON_PORT_OFFSET (default 0) adds to every port: with a
folder of its own it is a second, independent set of servers (the fault tests start one). Everything is idempotent, and the processes run in their
own sessions, so they outlive this script until `down`. Standard library only.
"""
from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import services_kafka as kafka  # noqa: E402
import services_postgres as postgres  # noqa: E402
import services_redis as redis  # noqa: E402
from services_common import (HOST, PG_PORT, REDIS_PORT, ServiceError, apt_install,  # noqa: E402
                             reserve_ports, services_dir)


@contextmanager
def locked():
    """One `up`/`down`/helper at a time per services folder (parallel test runs, make -j)."""
    services_dir().mkdir(parents=True, exist_ok=True)
    with open(services_dir() / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def variant_file() -> Path:
    return services_dir() / "kafka-variant"


def current_variant() -> int:
    """The Kafka variant that runs, else the one the last `up` started, else 1."""
    for nodes in (1, 3):
        if kafka.running_nodes(nodes):
            return nodes
    try:
        return int(variant_file().read_text())
    except (OSError, ValueError):
        return 1


def say(text: str) -> None:
    """print, but a closed pipe (`services.py down | head -1`) does not stop the work."""
    try:
        print(text, flush=True)
    except BrokenPipeError:
        sys.stdout = open(os.devnull, "w")


def timed(name: str, action) -> None:
    start = time.monotonic()
    outcome = action()
    say(f"{name}: {outcome} ({time.monotonic() - start:.1f} s)")


def cmd_up(args) -> None:
    nodes = args.kafka_nodes or current_variant()
    # The variants have ports of their own and may run side by side; the file only names the
    # default of the next `up` without --kafka-nodes (the 3-node cluster of a test is never it).
    if nodes == 1 or not kafka.running_nodes(1):
        variant_file().write_text(f"{nodes}\n")
    missing = [package for package, present in (("postgresql", postgres.bin_dir()),
                                                 ("redis-server", shutil.which("redis-server")))
               if not present]
    if missing:
        apt_install(missing)   # one apt-get, before the threads start
    if len(kafka.running_nodes(nodes)) < nodes:
        kafka.java()           # refuse before starting anything when Java is missing
        kafka.ensure_jars()
    # Kafka takes longest: start it alongside PostgreSQL and Redis.
    jobs = {"postgres": postgres.start, "redis": redis.start,
            f"kafka ({nodes} node{'s' * (nodes > 1)})": lambda: kafka.start(nodes)}
    with ThreadPoolExecutor(len(jobs)) as pool:
        futures = {name: pool.submit(timed, name, job) for name, job in jobs.items()}
    errors = [f"{name}: {f.exception()}" for name, f in futures.items() if f.exception()]
    if errors:
        raise ServiceError("\n".join(errors))


def cmd_down(args) -> None:
    """Everything, or with --kafka-nodes 1|3 only that Kafka variant (the servers stay up)."""
    if args.kafka_nodes not in (None, "all"):
        nodes = int(args.kafka_nodes)
        timed(f"kafka ({nodes} node{'s' * (nodes > 1)})", lambda: kafka.stop(nodes))
        if variant_file().exists() and variant_file().read_text().strip() == str(nodes):
            variant_file().unlink()
        return
    for nodes in (1, 3):
        timed(f"kafka ({nodes} node{'s' * (nodes > 1)})", lambda: kafka.stop(nodes))
    timed("redis", redis.stop)
    timed("postgres", postgres.stop)
    variant_file().unlink(missing_ok=True)


def cmd_status(args) -> int:
    lines = {"postgres": postgres.describe(), "redis": redis.describe(),
             "kafka-1node": kafka.describe(1), "kafka-3node": kafka.describe(3)}
    for name, line in lines.items():
        say(f"{name:<12} {line}")
    kafka_up = any(lines[f"kafka-{n}node"].startswith("up") for n in (1, 3))
    all_up = kafka_up and lines["postgres"].startswith("up") and lines["redis"].startswith("up")
    return 0 if all_up else 3


def settings(nodes: int) -> dict[str, str]:
    """The app's settings for the services (see README, Settings)."""
    redis_url = f"redis://{HOST}:{REDIS_PORT}"
    return {
        "DATABASE_URL": f"postgresql+psycopg://sentimon@{HOST}:{PG_PORT}/sentimon",
        "CELERY_BROKER_URL": f"{redis_url}/0",
        "CELERY_RESULT_BACKEND": f"{redis_url}/1",
        "BUS_URL": f"kafka://{kafka.bootstrap(nodes)}",
        "REDIS_URL": f"{redis_url}/2",
    }


def cmd_env(args) -> None:
    for key, value in settings(args.kafka_nodes or current_variant()).items():
        say(f"{key}={value}")


def kafka_node(args) -> tuple[int, int]:
    nodes = args.kafka_nodes or current_variant()
    if not 1 <= args.node <= nodes:
        raise ServiceError(f"node {args.node} is not in the {nodes}-node Kafka (nodes 1..{nodes}).")
    return nodes, args.node


def cmd_kill_kafka(args) -> None:
    nodes, node = kafka_node(args)
    timed(f"kafka node {node}", lambda: kafka.stop(nodes, [node], kill=True))


def cmd_stop_kafka(args) -> None:
    """A controlled shutdown of one broker (SIGTERM): the rolling restart of the fault tests."""
    nodes, node = kafka_node(args)
    timed(f"kafka node {node}", lambda: kafka.stop(nodes, [node]))


def cmd_start_kafka(args) -> None:
    nodes, node = kafka_node(args)
    timed(f"kafka node {node}", lambda: kafka.start(nodes, [node]))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="services.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    nodes = dict(type=int, choices=(1, 3), help="Kafka variant (default: the running one, else 1)")
    sub.add_parser("up", help="install and start what is missing").add_argument(
        "--kafka-nodes", **nodes)
    sub.add_parser("down", help="stop everything `up` started").add_argument(
        "--kafka-nodes", choices=("1", "3", "all"), default="all",
        help="only this Kafka variant (PostgreSQL, Redis and the other variant stay up); default: all")
    sub.add_parser("status", help="one line per service")
    sub.add_parser("env", help="KEY=VALUE settings for the app").add_argument(
        "--kafka-nodes", **nodes)
    for name, text in (("kill-kafka", "kill -9 one broker"), ("stop-kafka", "stop one broker (SIGTERM)"),
                       ("start-kafka", "start one broker")):
        one = sub.add_parser(name, help=text)
        one.add_argument("node", type=int, help="node number, 1..N")
        one.add_argument("--kafka-nodes", **nodes)
    sub.add_parser("stop-postgres", help="pg_ctl stop -m fast")
    sub.add_parser("start-postgres", help="start PostgreSQL again")
    sub.add_parser("restart-redis", help="stop Redis cleanly and start it again")
    args = parser.parse_args(argv)

    simple = {"stop-postgres": lambda a: timed("postgres", postgres.stop),
              "start-postgres": lambda a: timed("postgres", postgres.start),
              "restart-redis": lambda a: (timed("redis", redis.stop), timed("redis", redis.start))}
    commands = {"up": cmd_up, "down": cmd_down, "kill-kafka": cmd_kill_kafka,
                "start-kafka": cmd_start_kafka, "stop-kafka": cmd_stop_kafka, **simple}
    try:
        if args.command == "status":
            return cmd_status(args)
        if args.command == "env":
            cmd_env(args)
            return 0
        with locked():
            reserve_ports()
            commands[args.command](args)
        return 0
    except ServiceError as exc:
        print(f"services.py {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
