"""Apache Kafka for scripts/services.py: KRaft brokers in combined mode (broker + controller in
one JVM), from jars resolved by Maven from scripts/kafka/pom.xml.

Variants: 1 node (client 59092, controller 59093) for ordinary tests, 3 nodes (clients
59392/59492/59592, controllers 59393/59493/59593) for fault tests. Each variant has its own
folder, <services>/kafka-<N>node/node<I>/ with server.properties, log4j2.properties, data/,
server.log, kafka.out and kafka.pid, and ports of its own: both can run at once.
Storage is formatted once per node with a dynamic KRaft quorum: `--standalone` for one node,
`--initial-controllers` (the same list for every node) for three.
"""
from __future__ import annotations

import base64
import functools
import hashlib
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import uuid
from pathlib import Path

from services_common import (HOST, KAFKA_CLIENT_PORTS, KAFKA_CONTROLLER_PORTS, ServiceError,
                             cache_dir, check_ports_free, connect, pid_alive, read_pid,
                             services_dir, spawn, terminate, wait_until)

POM = Path(__file__).resolve().with_name("kafka") / "pom.xml"
HEAP = {1: "-Xmx512m", 3: "-Xmx384m"}
# The 3-node cluster serves fault tests, where broker restarts dominate: the C1 compiler alone
# starts a broker sooner on a small machine (the 1-node broker keeps the full JIT for throughput).
JIT = {1: [], 3: ["-XX:TieredStopAtLevel=1"]}
LOG4J = """\
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = ${sys:kafka.logs.dir}/server.log
appender.file.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 20MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
"""


# --- jars and java ---------------------------------------------------------------------------

def version() -> str:
    return re.search(r"<kafka\.version>([^<]+)</kafka\.version>", POM.read_text()).group(1)


def libs() -> Path:
    """${SENTIMON_CACHE:-~/.cache/sentimon}/kafka-<version>/libs"""
    return cache_dir() / f"kafka-{version()}" / "libs"


def ensure_jars() -> bool:
    """Resolve the broker's jars with Maven unless cached for this very pom; True if fetched."""
    target = libs()
    stamp = target.parent / "pom.sha256"
    digest = hashlib.sha256(POM.read_bytes()).hexdigest()
    if target.is_dir() and stamp.is_file() and stamp.read_text().strip() == digest:
        return False
    mvn = shutil.which("mvn")
    if not mvn:
        raise ServiceError("Maven (mvn) is needed once to fetch the Kafka jars: apt-get install "
                           "maven, or put mvn on PATH.")
    tmp = target.with_name("libs.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"services: fetching Kafka {version()} jars with Maven into {target}", flush=True)
    result = subprocess.run([mvn, "-B", "-q", "-f", str(POM), "dependency:copy-dependencies",
                             "-DincludeScope=runtime", f"-DoutputDirectory={tmp}"],
                            text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if result.returncode or not any(tmp.glob("kafka_2.13-*.jar")):
        raise ServiceError("mvn dependency:copy-dependencies failed:\n"
                           + "\n".join(result.stdout.splitlines()[-30:]))
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    stamp.write_text(digest + "\n")
    return True


@functools.cache
def java() -> str:
    """Path of a Java 17+ `java` ($JAVA_HOME first); a clear refusal when there is none."""
    home = os.environ.get("JAVA_HOME")
    path = str(Path(home) / "bin" / "java") if home and (Path(home) / "bin" / "java").exists() \
        else shutil.which("java")
    if not path:
        raise ServiceError("Java is missing: Kafka 4 needs Java 17 or newer (Debian: apt-get "
                           "install openjdk-17-jre-headless), on PATH or in JAVA_HOME.")
    out = subprocess.run([path, "-version"], capture_output=True, text=True).stderr
    found = re.search(r'version "(\d+)(?:\.(\d+))?', out)
    major = int(found.group(1)) if found else 0
    if major == 1 and found.group(2):
        major = int(found.group(2))
    if major < 17:
        raise ServiceError(f"{path} is Java {major or '?'}; Kafka 4 needs Java 17 or newer.")
    return path


# --- folders and configuration ---------------------------------------------------------------

def variant_dir(nodes: int) -> Path:
    return services_dir() / f"kafka-{nodes}node"


def node_dir(nodes: int, node: int) -> Path:
    return variant_dir(nodes) / f"node{node}"


def bootstrap(nodes: int) -> str:
    return ",".join(f"{HOST}:{KAFKA_CLIENT_PORTS[nodes][i]}" for i in range(1, nodes + 1))


def server_properties(nodes: int, node: int) -> str:
    replicas, min_isr = (3, 2) if nodes == 3 else (1, 1)
    voters = ",".join(f"{HOST}:{KAFKA_CONTROLLER_PORTS[nodes][i]}" for i in range(1, nodes + 1))
    client, controller = KAFKA_CLIENT_PORTS[nodes][node], KAFKA_CONTROLLER_PORTS[nodes][node]
    return f"""# Written by scripts/services.py on every start.
process.roles=broker,controller
node.id={node}
controller.quorum.bootstrap.servers={voters}
listeners=PLAINTEXT://{HOST}:{client},CONTROLLER://{HOST}:{controller}
advertised.listeners=PLAINTEXT://{HOST}:{client},CONTROLLER://{HOST}:{controller}
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs={node_dir(nodes, node) / "data"}
auto.create.topics.enable=false
num.partitions=6
default.replication.factor={replicas}
min.insync.replicas={min_isr}
offsets.topic.replication.factor={replicas}
offsets.topic.num.partitions=12
transaction.state.log.replication.factor={replicas}
transaction.state.log.min.isr={min_isr}
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor={replicas}
share.coordinator.state.topic.min.isr={min_isr}
group.initial.rebalance.delay.ms=0
# a killed broker is fenced (and its restart can re-register) after 6 s instead of 9 s
broker.session.timeout.ms=6000
broker.heartbeat.interval.ms=1000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
"""


def _kafka_uuid() -> str:
    """A random id in Kafka's format (22 characters of URL-safe base64, not starting with '-')."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _cluster(nodes: int) -> dict:
    """Cluster id and initial controllers of a variant: chosen once, kept in cluster.properties.
    A variant formatted for other controller ports (an older layout) is not running, so its
    folder is removed and formatted again: its data is test data."""
    path = variant_dir(nodes) / "cluster.properties"
    ports = [f"{HOST}:{KAFKA_CONTROLLER_PORTS[nodes][i]}:" for i in range(1, nodes + 1)]
    if path.exists() and not all(port in path.read_text() for port in ports) and not running_nodes(nodes):
        shutil.rmtree(variant_dir(nodes))
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        controllers = ",".join(f"{i}@{HOST}:{KAFKA_CONTROLLER_PORTS[nodes][i]}:{_kafka_uuid()}"
                               for i in range(1, nodes + 1))
        path.write_text(f"cluster.id={_kafka_uuid()}\ninitial.controllers={controllers}\n")
    return dict(line.split("=", 1) for line in path.read_text().split())


def _write_config(nodes: int, node: int) -> Path:
    folder = node_dir(nodes, node)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "log4j2.properties").write_text(LOG4J)
    props = folder / "server.properties"
    props.write_text(server_properties(nodes, node))
    return props


def ensure_formatted(nodes: int, java_bin: str) -> list[int]:
    """kafka.tools.StorageTool format every node of the variant not formatted yet (in parallel)."""
    cluster = _cluster(nodes)
    todo = [i for i in range(1, nodes + 1)
            if not (node_dir(nodes, i) / "data" / "meta.properties").exists()]
    quorum = ["--standalone"] if nodes == 1 else ["--initial-controllers",
                                                   cluster.get("initial.controllers", "")]
    procs = {}
    for i in todo:
        argv = [java_bin, "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", f"{libs()}/*",
                "kafka.tools.StorageTool", "format", "--config", str(_write_config(nodes, i)),
                "--cluster-id", cluster["cluster.id"], *quorum]
        procs[i] = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    text=True)
    for i, proc in procs.items():
        out = proc.communicate()[0]
        if proc.returncode:
            raise ServiceError(f"formatting Kafka node {i} failed:\n{out[-3000:]}")
    return todo


# --- processes -------------------------------------------------------------------------------

def _marker(nodes: int, node: int) -> str:
    return str(node_dir(nodes, node) / "server.properties")


def pid(nodes: int, node: int) -> int | None:
    return read_pid(node_dir(nodes, node) / "kafka.pid")


def running(nodes: int, node: int) -> bool:
    return pid_alive(pid(nodes, node), _marker(nodes, node))


def running_nodes(nodes: int) -> list[int]:
    return [i for i in range(1, nodes + 1) if running(nodes, i)]


def logs(nodes: int, node: int) -> list[Path]:
    return [node_dir(nodes, node) / "kafka.out", node_dir(nodes, node) / "server.log"]


def start(nodes: int, which: list[int] | None = None) -> str:
    """Start the variant's nodes that are not running (all nodes, or `which`) and wait until each
    answers a metadata request listing itself, and, for a full start, lists every node."""
    which = which or list(range(1, nodes + 1))
    todo = [i for i in which if not running(nodes, i)]
    if not todo and cluster_ready(nodes, which):
        return "already running"
    java_bin = java()
    fetched = ensure_jars()
    formatted = ensure_formatted(nodes, java_bin)
    procs = {}
    for i in todo:
        check_ports_free(f"Kafka node {i}", [KAFKA_CLIENT_PORTS[nodes][i], KAFKA_CONTROLLER_PORTS[nodes][i]])
    for i in todo:
        folder = node_dir(nodes, i)
        argv = [java_bin, HEAP[nodes], *JIT[nodes], "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
                "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true",
                f"-Dkafka.logs.dir={folder}",
                f"-Dlog4j2.configurationFile=file:{folder / 'log4j2.properties'}",
                "-cp", f"{libs()}/*", "kafka.Kafka", str(_write_config(nodes, i))]
        procs[i] = spawn(argv, folder / "kafka.out", cwd=folder)
        (folder / "kafka.pid").write_text(f"{procs[i].pid}\n")
    for i in which:
        died = (lambda i=i: None if running(nodes, i) else "the process is gone")
        wait_until(lambda i=i: i in brokers(KAFKA_CLIENT_PORTS[nodes][i]), 120,
                   f"Kafka node {i} ({HOST}:{KAFKA_CLIENT_PORTS[nodes][i]})", logs(nodes, i),
                   proc=procs.get(i), failed=died)
    if len(which) == nodes:
        wait_until(lambda: cluster_ready(nodes, which), 60, f"Kafka ({nodes} nodes)",
                   logs(nodes, 1))
    steps = ["jars fetched"] * fetched + [f"formatted {formatted}"] * bool(formatted)
    return ", ".join(steps + [f"started node(s) {todo}" if todo else "running"])


def stop(nodes: int, which: list[int] | None = None, kill: bool = False) -> str:
    """SIGTERM the nodes together (SIGKILL after 30 s), or SIGKILL them at once with kill=True."""
    which = [i for i in (which or range(1, nodes + 1)) if running(nodes, i)]
    if not which:
        return "not running"
    sig = signal.SIGKILL if kill else signal.SIGTERM
    for i in which:   # all at once: a lone survivor would wait for a quorum that is gone
        os.kill(pid(nodes, i), sig)
    for i in which:   # signal 0 only waits (until every thread has exited), then SIGKILL
        terminate(pid(nodes, i), _marker(nodes, i), timeout=30, sig=0)
        (node_dir(nodes, i) / "kafka.pid").unlink(missing_ok=True)
    return f"{'killed' if kill else 'stopped'} node(s) {which}"


# --- readiness: a Metadata request (API key 3, version 4) over the Kafka wire protocol ---------

def _recv(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("connection closed")
        data += chunk
    return data


def brokers(port: int, timeout: float = 2.0) -> list[int]:
    """Node ids of the live brokers the broker on `port` reports; [] when it does not answer."""
    client = b"sentimon-services"
    request = struct.pack(">hhih", 3, 4, 1, len(client)) + client + struct.pack(">ib", 0, 0)
    try:
        with connect(port, timeout) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            data = _recv(sock, struct.unpack(">i", _recv(sock, 4))[0])
        _correlation, _throttle, count = struct.unpack_from(">iii", data, 0)
        pos, nodes = 12, []
        for _ in range(count):
            node, host_len = struct.unpack_from(">ih", data, pos)
            pos += 6 + host_len + 4
            rack_len = struct.unpack_from(">h", data, pos)[0]
            pos += 2 + max(rack_len, 0)
            nodes.append(node)
        return sorted(nodes)
    except (OSError, struct.error):
        return []


def cluster_ready(nodes: int, which: list[int]) -> bool:
    """Every node in `which` answers; for the whole variant, each one sees all the nodes."""
    want = list(range(1, nodes + 1)) if len(which) == nodes else None
    for i in which:
        seen = brokers(KAFKA_CLIENT_PORTS[nodes][i])
        if i not in seen or (want and seen != want):
            return False
    return True


def describe(nodes: int) -> str:
    states = []
    for i in range(1, nodes + 1):
        if not running(nodes, i):
            states.append(f"node {i} down")
        else:
            seen = brokers(KAFKA_CLIENT_PORTS[nodes][i])
            state = "up" if i in seen else "running, not answering"
            states.append(f"node {i} {state} {HOST}:{KAFKA_CLIENT_PORTS[nodes][i]} pid {pid(nodes, i)}")
    alive = len(running_nodes(nodes))
    if not alive:
        return f"down  {variant_dir(nodes)}"
    head = "up" if all(" up " in state for state in states) else "partly up"
    return f"{head}  " + "; ".join(states) + f"  {variant_dir(nodes)}"
