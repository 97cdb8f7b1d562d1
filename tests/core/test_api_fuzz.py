"""schemathesis against /api/v1/openapi.json: no 500 and no answer that breaks the spec.

Every operation of the document, state-changing ones included, gets generated requests (valid
and invalid) through the WSGI app, with an editor's bearer token. Each answer must not be a
5xx, must use a status code the operation documents, and must match the documented schema
and content type.

Generating the requests is most of the work (Hypothesis drawing from the document's schemas, 7x
the cost of sending them), and with a fixed seed it gives the same requests every time: so an
operation's requests, once they have all passed, are kept in a cache keyed by everything that
decides them (the operation's place in the document, the document itself, the seed, the number
of examples, the versions of schemathesis and Hypothesis) and sent again from there. A change to
any of these generates afresh (FUZZ_CACHE=0 always does).

The app never reaches the network: its egress policy resolves no names (a stub resolver
that fails every lookup) and a socket guard refuses connections to anything but loopback, so
notifier test sends to whatever URLs the fuzzer invents are refused here, not sent.
"""
from __future__ import annotations

import hashlib
import io
import ipaddress
import json
import os
import pickle
import socket
import time
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core import NOT_SET
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)
from sqlalchemy import select

from webapp.people.auth import create_token
from webapp.core.extensions import db
from webapp.people.models import User
from webapp.core.egress import EgressPolicy

from tests.helpers import app_config, make_user, migrated_app

# Examples per operation, valid and invalid ones mixed (each example is drawn from the positive
# or the negative strategy), from a fixed seed: the same requests every run, so a failure found
# once is found again. FUZZ_SEED=<n> explores other examples, FUZZ_EXAMPLES=<n> more of them.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "100"))
SEED = int(os.environ.get("FUZZ_SEED", "18"))
# The one operation that can revoke the token it is sent with gets a fresh token per request.
REVOKES_TOKENS = ("DELETE", "/api/v1/tokens/{token_id}")
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]
CACHE = (Path(os.environ.get("SENTIMON_CACHE") or Path.home() / ".cache" / "sentimon") / "fuzz-cases"
         if os.environ.get("FUZZ_CACHE", "1") != "0" else None)
PRUNE_DAYS = 14     # kept requests unused this long are deleted when new ones are kept
CASE_FIELDS = ("method", "path_parameters", "headers", "cookies", "query", "body", "media_type",
               "multipart_content_types", "_meta")


def _no_dns(host, port):
    raise socket.gaierror(socket.EAI_NONAME, f"no DNS in the fuzz tests ({host})")


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory):
    with migrated_app(app_config(tmp_path_factory.mktemp("fuzz"))) as app:
        make_user(app, email="fuzzer@example.com", role="editor", password="fuzzer password")
        app.extensions["sentimon.egress"] = EgressPolicy(resolver=_no_dns, connect_timeout=0.5, deadline=1.0)
        yield app


@pytest.fixture(scope="module")
def local_sockets_only():
    """Refuse connections to anything but loopback for the whole module."""
    real_connect = socket.socket.connect

    def connect(sock, address):
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(address[0].split("%")[0])
            if not (ip.is_loopback or ip.is_unspecified):
                raise ConnectionRefusedError(f"no connections to {address[0]} in the fuzz tests")
        return real_connect(sock, address)

    socket.socket.connect = connect
    yield
    socket.socket.connect = real_connect


@pytest.fixture(scope="module")
def api_schema(fuzz_app, local_sockets_only):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzz_app)


def _fresh_token(app) -> str:
    """A new token per request: the fuzzer may revoke (DELETE /tokens/{id}) the one it holds."""
    with app.app_context():
        user = db.session.execute(select(User).where(User.email == "fuzzer@example.com")).scalar_one()
        token = create_token(user)
        db.session.remove()
        return token


def _operations() -> list[tuple[str, str]]:
    """(METHOD, path) of every operation the document describes (build_spec is pure)."""
    from webapp import api_parts
    from webapp.core.openapi import build_spec
    return [(method.upper(), path) for path, item in build_spec(api_parts()[1])["paths"].items()
            for method in item if method in ("get", "post", "put", "patch", "delete")]


def _strategy(operation):
    """Valid and invalid requests of `operation`, mixed (an operation with nothing to make invalid
    has no negative strategy: only valid ones then)."""
    from hypothesis import strategies as st

    strategies = [operation.as_strategy(generation_mode=GenerationMode.POSITIVE)]
    if operation.path_parameters or operation.query or operation.body or operation.headers:
        strategies.append(operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return st.one_of(strategies)


def _cache_file(api_schema, method: str, path: str) -> Path | None:
    """Where the operation's generated requests are kept: named by everything that decides them."""
    if CACHE is None:
        return None
    document = json.dumps(api_schema.raw_schema, sort_keys=True, default=str)
    key = hashlib.sha256("\0".join([document, method, path, str(SEED), str(EXAMPLES), schemathesis.__version__,
                                     hypothesis.__version__]).encode()).hexdigest()
    return CACHE / f"{key}.pickle"


class _CasePickler(pickle.Pickler):
    """Pickles schemathesis' "not set" sentinel by name: it is told apart by identity."""

    def persistent_id(self, obj):
        return "NOT_SET" if obj is NOT_SET else None


class _CaseUnpickler(pickle.Unpickler):
    def persistent_load(self, pid):
        if pid != "NOT_SET":
            raise pickle.UnpicklingError(f"unknown reference {pid!r}")
        return NOT_SET


def _dumps(fields: dict) -> bytes:
    out = io.BytesIO()
    _CasePickler(out).dump(fields)
    return out.getvalue()


def _kept_cases(file: Path | None) -> list[dict] | None:
    if file is None or not file.exists():
        return None
    try:
        cases = [_CaseUnpickler(io.BytesIO(case)).load() for case in pickle.loads(file.read_bytes())]
    except Exception:  # noqa: BLE001  (a damaged or foreign file: generate afresh)
        return None
    file.touch()                        # in use: kept by the pruning below
    return cases


def _keep_cases(file: Path | None, cases: list[bytes]) -> None:
    if file is None:
        return
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_suffix(f".{os.getpid()}.tmp")
    partial.write_bytes(pickle.dumps(cases))
    partial.replace(file)
    _prune(file.parent)


def _prune(folder: Path, days: float = PRUNE_DAYS) -> None:
    """Forget the requests of documents no run has used for `days` (each API change leaves a set
    of about 10 MB behind)."""
    stale = time.time() - days * 86400
    for old in folder.glob("*.pickle"):
        try:
            if old.stat().st_mtime < stale:
                old.unlink()
        except FileNotFoundError:       # another worker pruned it first
            pass


@pytest.mark.parametrize("method, path", _operations())
def test_api_conforms_to_its_openapi_document(api_schema, fuzz_app, method, path):
    """(schemathesis' own pytest loader `from_fixture` does not work with pytest 9 yet, so each
    operation's Hypothesis strategy is driven here, as its Python API allows.)"""
    operation = api_schema[path][method]
    token = _fresh_token(fuzz_app)

    def send(case):
        fresh = _fresh_token(fuzz_app) if (method, path) == REVOKES_TOKENS else token
        case.call_and_validate(headers={"Authorization": f"Bearer {fresh}"}, checks=CHECKS)

    cache_file = _cache_file(api_schema, method, path)
    kept = _kept_cases(cache_file)
    if kept is not None:  # the same requests as a fresh generation would make, in the same order
        for fields in kept:
            send(operation.Case(**fields))
        return
    generated: list[bytes] = []   # each case as it was before it was sent

    @seed(SEED)
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    @given(case=_strategy(operation))
    def run(case):
        generated.append(_dumps({name: getattr(case, name) for name in CASE_FIELDS}))
        send(case)

    try:
        run()
    except Unsatisfiable:   # no valid example exists (nothing here is made that strict)
        pytest.fail(f"no example could be generated for {method} {path}")
    _keep_cases(cache_file, generated)


def test_the_cache_forgets_requests_unused_for_two_weeks(tmp_path):
    fresh, stale = tmp_path / "fresh.pickle", tmp_path / "stale.pickle"
    _keep_cases(fresh, [])
    _keep_cases(stale, [])
    old = time.time() - (PRUNE_DAYS + 1) * 86400
    os.utime(stale, (old, old))
    assert _kept_cases(stale) == []              # read: in use again
    os.utime(fresh, (old, old))
    _keep_cases(tmp_path / "new.pickle", [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new.pickle", "stale.pickle"]
