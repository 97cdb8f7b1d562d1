"""PostgreSQL for scripts/services.py: a private cluster on 127.0.0.1:55432 with trust auth,
a `sentimon` role and database, made by initdb and run by pg_ctl from the Debian packages.

initdb refuses to run as root, so as root every PostgreSQL program runs as the `postgres` OS
user. That user must be able to reach the data folder; when the services folder sits under a
private home (/root is mode 700) the cluster lives in ~postgres/sentimon-<hash> instead and
<services>/postgres is a symlink to it.
"""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import stat
import subprocess
from pathlib import Path

from services_common import (HOST, PG_PORT, ServiceError, apt_install, check_ports_free,
                             listening, read_pid, pid_alive, services_dir, tails, wait_until)

SETTINGS = f"""# Written by scripts/services.py on every start.
listen_addresses = '{HOST}'
port = {PG_PORT}
unix_socket_directories = ''
max_connections = 200
fsync = off
"""
CREATE_ROLE_AND_DB = """
SELECT 'CREATE ROLE sentimon LOGIN CREATEDB'
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'sentimon') \\gexec
SELECT 'CREATE DATABASE sentimon OWNER sentimon'
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'sentimon') \\gexec
"""


def bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/<major>/bin with initdb, else the folder of initdb on PATH."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    return Path(on_path).resolve().parent if on_path else None


def ensure_installed() -> None:
    if bin_dir() is None:
        apt_install(["postgresql"])
    if bin_dir() is None:
        raise ServiceError("PostgreSQL installed, but no initdb found under /usr/lib/postgresql.")


def _os_user():
    """pwd entry of the `postgres` user when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise ServiceError("running as root needs the `postgres` OS user (apt-get install "
                           "postgresql makes it); initdb refuses to run as root.") from None


def _reachable(path: Path, user) -> bool:
    """Can `user` traverse every folder down to `path`?"""
    groups = {g for g in os.getgrouplist(user.pw_name, user.pw_gid)}
    for folder in [*reversed(path.parents)]:
        st = os.stat(folder)
        bit = (stat.S_IXUSR if st.st_uid == user.pw_uid else
               stat.S_IXGRP if st.st_gid in groups else stat.S_IXOTH)
        if not st.st_mode & bit:
            return False
    return True


def home() -> Path:
    """<services>/postgres: holds data/ (the cluster) and postgres.log."""
    return services_dir() / "postgres"


def _prepare_home() -> Path:
    """Create the cluster's folder, owned by the OS user running PostgreSQL; its real path."""
    link, user = home(), _os_user()
    if link.exists():
        return link.resolve()
    if link.is_symlink():   # its target was removed: start afresh
        link.unlink()
    link.parent.mkdir(parents=True, exist_ok=True)
    if user and not _reachable(link, user):
        tag = hashlib.sha1(str(link).encode()).hexdigest()[:10]
        target = Path(user.pw_dir) / f"sentimon-{tag}"
        target.mkdir(mode=0o700, parents=True, exist_ok=True)
        link.symlink_to(target)
    else:
        link.mkdir(mode=0o700)
    if user:
        os.chown(link.resolve(), user.pw_uid, user.pw_gid)
    return link.resolve()


def _run(argv: list[str], **kw) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program, as the postgres OS user when we are root."""
    user = _os_user()
    if user:
        kw.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                  env=dict(os.environ, HOME=user.pw_dir))
    return subprocess.run(argv, cwd="/", text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, **kw)


def pid() -> int | None:
    return read_pid(home() / "data" / "postmaster.pid")


def running() -> bool:
    """Our postmaster runs: the pid in postmaster.pid is a postgres with our data folder."""
    return pid_alive(pid(), f"-D {home().resolve() / 'data'}")


def ready() -> bool:
    """pg_isready against 127.0.0.1:55432."""
    if not listening(PG_PORT):   # pg_isready could otherwise connect to itself
        return False
    tool = (bin_dir() or Path("/usr/bin")) / "pg_isready"
    argv = [str(tool), "-q", "-h", HOST, "-p", str(PG_PORT), "-t", "2"]
    return subprocess.run(argv).returncode == 0


def start() -> str:
    """Initialise the cluster once, start it unless running, create role and database."""
    if running() and ready():
        return "already running"
    ensure_installed()
    real = _prepare_home()
    data, log = real / "data", real / "postgres.log"
    tools = bin_dir()
    note = ""
    if not (data / "PG_VERSION").exists():
        result = _run([str(tools / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                       "-E", "UTF8", "--no-locale", "--no-sync"])
        if result.returncode:
            raise ServiceError(f"initdb failed:\n{result.stdout}")
        with open(data / "postgresql.conf", "a") as conf:
            conf.write("\ninclude_if_exists = 'sentimon.conf'\n")
        note = "initdb, "
    (data / "sentimon.conf").write_text(SETTINGS)
    if _os_user():
        os.chown(data / "sentimon.conf", _os_user().pw_uid, _os_user().pw_gid)
    if not running():
        check_ports_free("PostgreSQL", [PG_PORT])
        result = _run([str(tools / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                       "start"], start_new_session=True)
        if result.returncode:
            raise ServiceError(f"PostgreSQL did not start (pg_ctl: {result.stdout.strip()}).\n"
                               + tails([log]))
    wait_until(ready, 30, "PostgreSQL", [log])
    result = subprocess.run([str(tools / "psql"), "-h", HOST, "-p", str(PG_PORT), "-U", "postgres",
                             "-d", "postgres", "-qAt", "-v", "ON_ERROR_STOP=1"],
                            input=CREATE_ROLE_AND_DB, text=True, capture_output=True)
    if result.returncode:
        raise ServiceError(f"creating role/database sentimon failed: {result.stderr.strip()}")
    return note + "started"


def stop() -> str:
    """pg_ctl stop -m fast; nothing to do when it is not running."""
    if not running():
        return "not running"
    result = _run([str(bin_dir() / "pg_ctl"), "-D", str(home().resolve() / "data"), "-m", "fast",
                   "-w", "-t", "60", "stop"])
    if result.returncode:
        raise ServiceError(f"pg_ctl stop failed: {result.stdout.strip()}")
    return "stopped"


def describe() -> str:
    if not running():
        return "down"
    state = "up" if ready() else "running, not answering"
    return f"{state}  {HOST}:{PG_PORT}  pid {pid()}  {home()}"

