"""Shared parts of the fuzz tier: bounded hypothesis settings, a node with every channel on, a client
that signs Twilio requests validly, and a watch on every log line.

Budget: the whole tier is meant to cost about two minutes of CPU on a small CI machine. Each test
names its example count; ``INTAKE_FUZZ_SCALE`` multiplies them all (``INTAKE_FUZZ_SCALE=10`` for a
deeper run at home) and ``INTAKE_FUZZ_RANDOM=1`` lets hypothesis draw new examples instead of the
fixed, derandomized ones CI replays. Nothing is sent beyond 127.0.0.1: the "Twilio" base URL the
recording fetcher may reach is a closed local port.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, settings
from twilio.request_validator import RequestValidator

from channels.server import create_intake_app
from tests.conftest import Node, free_port, make_node

TOKEN = "synthetic-fuzz-auth-token"
PUBLIC = "https://intake.example.org"
SID = "AC" + "5a" * 16
SECRET = "synthetic-fuzz-gateway-secret"
NUMBER = "+15550001111"

_SCALE = float(os.environ.get("INTAKE_FUZZ_SCALE", "1") or "1")
_RANDOM = os.environ.get("INTAKE_FUZZ_RANDOM", "").strip() not in ("", "0")


def fuzz_settings(max_examples: int, **overrides: Any) -> settings:
    """Bounded and reproducible: a fixed example count, no deadline (a loaded CI machine is slow,
    not wrong), derandomized, no example database. Health checks about slow or filtered data are
    off: the inputs are meant to be big and odd."""
    return settings(
        max_examples=max(1, round(max_examples * _SCALE)),
        deadline=None,
        derandomize=not _RANDOM,
        database=None,
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
        suppress_health_check=list(HealthCheck),
        print_blob=True,
        **overrides,
    )


@pytest.fixture
def fuzz_node(tmp_path: Path) -> Node:
    """A node with the web form, the JSON API, Twilio SMS and voice, and SMSSync all switched on."""
    dead_twilio = f"http://127.0.0.1:{free_port()}"  # nothing listens: a download fails at once, locally
    return make_node(
        tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, twilio_account_sid=SID,
        twilio_number=NUMBER, twilio_api_base=dead_twilio, smssync_secret=SECRET,
    )  # fmt: skip


@pytest.fixture
def fuzz_client(fuzz_node: Node) -> Iterator[TestClient]:
    """The real intake app, real stores. A 500 comes back as a response (so it can be asserted on
    and shrunk) rather than as the server's exception. HTTPS, as behind the node's public URL: the
    CSRF cookie is then Secure, and a client on plain HTTP would never send it back."""
    with TestClient(
        create_intake_app(fuzz_node.settings), base_url="https://testserver", raise_server_exceptions=False
    ) as c:
        yield c


# -- Twilio, validly signed ------------------------------------------------------------------------------
def encode_form(pairs: Sequence[tuple[str, str]]) -> bytes:
    return urlencode(list(pairs), quote_via=quote).encode()


def signed_post(
    client: TestClient,
    path: str,
    pairs: Sequence[tuple[str, str]] = (),
    query: Sequence[tuple[str, str]] = (),
    *,
    body: bytes | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> httpx.Response:
    """POST ``pairs`` (or raw ``body``) to ``path?query`` with a valid X-Twilio-Signature.

    The signature covers what the server will read: the public URL with the exact query string,
    and the form as the intake parses it (the last of repeated fields, invalid UTF-8 replaced).
    """
    raw = encode_form(pairs) if body is None else body
    qs = urlencode(list(query), quote_via=quote)
    target = f"{path}?{qs}" if qs else path
    headers = {"content-type": content_type, "x-twilio-signature": twilio_signature(target, raw)}
    return client.post(target, content=raw, headers=headers)


def twilio_signature(target: str, raw: bytes) -> str:
    """X-Twilio-Signature for a form ``raw`` posted to ``target`` (path and query) on the public URL."""
    seen = dict(parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8", errors="replace"))
    return str(RequestValidator(TOKEN).compute_signature(PUBLIC + target, seen))


# -- log watch -------------------------------------------------------------------------------------------
_SEPARATORS = re.compile(r"[\s\-.\u00a0]")


@dataclass
class LogWatch:
    """Every record of every logger at DEBUG (caplog on the root), checked per example."""

    caplog: pytest.LogCaptureFixture
    levels: Counter[str] = field(default_factory=Counter)
    checked: int = 0

    def start(self) -> None:
        self.caplog.clear()

    def records(self) -> list[logging.LogRecord]:
        """The server's records: not those of the test's own HTTP client, which logs each URL it
        sends (the intake's own outgoing calls, made from its threads, are kept)."""
        me = threading.get_ident()
        return [
            r for r in self.caplog.records
            if not (r.thread == me and r.name.split(".")[0] in ("httpx", "httpcore", "urllib3", "requests"))
        ]  # fmt: skip

    def text(self) -> str:
        lines = []
        for record in self.records():
            self.levels[record.levelname] += 1
            lines.append(f"{record.name} {record.levelname} {record.getMessage()}")
            if record.exc_info:
                lines.append(logging.Formatter().formatException(record.exc_info))
        return "\n".join(lines)

    def check(self, secrets: Iterable[str] = (), codes: Iterable[str] = ()) -> None:
        """No secret text and no receipt code (however punctuated) in any line; no error logged."""
        text = self.text()
        for secret in secrets:
            lines = [line for line in text.splitlines() if secret in line]
            assert not lines, f"submitted text {secret[:40]!r} appears in a log line: {lines[0][:300]!r}"
        squashed = _SEPARATORS.sub("", text)
        for code in codes:
            assert code not in squashed, "a receipt code appears in a log line"
        errors = [r for r in self.records() if r.levelno >= logging.ERROR]
        assert not errors, f"error logged: {[r.getMessage() for r in errors]}"
        self.checked += 1

    def saw_lines(self) -> bool:
        """True once lines were checked: the request log writes one for every request, so a watch
        that never saw any checked nothing."""
        return bool(self.checked and self.levels["INFO"])


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> LogWatch:
    caplog.set_level(logging.DEBUG)
    for name in ("intake", "channels", "uvicorn", "uvicorn.error", "multipart", "python_multipart"):
        caplog.set_level(logging.DEBUG, logger=name)
    return LogWatch(caplog)


def distinctive(text: object, at_least: int = 12) -> list[str]:
    """``text`` if it is long and odd enough that finding it in a log means it was logged."""
    if not isinstance(text, str):
        return []
    stripped = text.strip()
    if len(stripped) < at_least or len(set(stripped)) < 4:
        return []
    return [stripped[:200]]


def receipts_in(text: str) -> list[str]:
    """16-digit receipt codes in a response, separators removed."""
    return [m.replace("-", "") for m in re.findall(r"\b\d{4}-\d{4}-\d{4}-\d{4}\b", text)]


def server_error(response: httpx.Response, what: object) -> str:
    """An assertion message: the status, what was sent (cut short), what came back."""
    sent = repr(what)
    return f"{response.status_code} for {sent[:1500]}{' ...' if len(sent) > 1500 else ''}: {response.text[:300]}"
