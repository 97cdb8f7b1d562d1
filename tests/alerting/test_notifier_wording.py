"""“Send test” tells what went wrong in words, never a raw Python error."""
from __future__ import annotations

import socket

import pytest

from webapp.alerting.notifiers.wording import failure_sentence


@pytest.mark.parametrize("kind, error, status, words", [
    ("webhook", "HTTP 500", 500, "HTTP 500 (Internal Server Error) from the receiver"),
    ("webhook", "HTTP 404", 404, "check the URL"),
    ("webhook", "HTTP 401", 401, "secret or token"),
    ("webhook", "127.0.0.1 points to a non-public address (127.0.0.1) that is not allowed", None, "EGRESS_ALLOW"),
    ("webhook", "hooks.example did not answer within the deadline", None, "did not answer in time"),
    ("webhook", "cannot resolve nowhere.invalid: [Errno -2] Name or service not known", None, "could not be found"),
    ("email", "ConnectionRefusedError: [Errno 111] Connection refused", None, "SMTP_URL could not be reached"),
    ("email", "SMTP 550: b'5.1.1 mailbox unavailable'", 550, "refused the message (SMTP 550)"),
    ("email", "recipients refused: {'x@example.com': (550, b'no')}", 550, "refused the recipients"),
    ("email", "SMTP server timed out: timed out", None, "did not answer in time"),
    ("webhook", "SomethingError: weird", None, "delivery log"),
])
def test_sentences(kind, error, status, words):
    sentence = failure_sentence(kind, error, status)
    assert words in sentence and sentence.endswith(".")
    assert "Errno" not in sentence and "b'" not in sentence and "Error:" not in sentence


def test_send_test_to_an_unreachable_mail_server(app, logged_in):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app.config["SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    assert logged_in.post("/alerts/notifiers/email", data={"email-to": "ops@example.com"}).status_code == 200
    page = logged_in.post("/alerts/notifiers/1/test", follow_redirects=True).get_data(as_text=True)
    assert "could not be reached" in page and "SMTP_URL" in page
    assert "Errno" not in page and "ConnectionRefusedError" not in page
