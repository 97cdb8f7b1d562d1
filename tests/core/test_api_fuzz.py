"""schemathesis against /api/v1/openapi.json: no 500 and no answer that breaks the spec.

Every operation of the document, state-changing ones included, gets generated requests (valid
and invalid) through the WSGI app, with an editor's bearer token. Each answer must not be a
5xx, must use a status code the operation documents, and must match the documented schema
and content type.

The app never reaches the network: its egress policy resolves no names (a stub resolver
that fails every lookup) and a socket guard refuses connections to anything but loopback, so
notifier test sends to whatever URLs the fuzzer invents are refused here, not sent.
"""
from __future__ import annotations

import ipaddress
import os
import socket

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
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

# Per operation and mode: ~36 operations x 2 modes run in about a minute on 2 cores, with the
# same examples every run. FUZZ_EXAMPLES=200 explores further, with fresh random examples.
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "15"))
EXPLORE = "FUZZ_EXAMPLES" in os.environ
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


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


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("method, path", _operations())
def test_api_conforms_to_its_openapi_document(api_schema, fuzz_app, method, path, mode):
    """(schemathesis' own pytest loader `from_fixture` does not work with pytest 9 yet, so each
    operation's Hypothesis strategy is driven here, as its Python API allows.)"""
    operation = api_schema[path][method]

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=not EXPLORE, database=None,
              suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        headers = {"Authorization": f"Bearer {_fresh_token(fuzz_app)}"}
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        run()
    except Unsatisfiable:   # nothing to make invalid (no parameters, no body): nothing to test
        assert mode is GenerationMode.NEGATIVE
