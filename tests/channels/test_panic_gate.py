"""A running intake after a panic (issue 17): it refuses every request with the standard 503 page,
closes its inbox (and the key the connection holds) and ``intake serve`` exits cleanly; nothing
reaches the inbox after the panic. Real uvicorn processes, a real ``intake panic``, real SQLCipher."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient

import i18n
from channels.server import create_intake_app
from intake.errors import StoreUnavailable
from intake.node import open_inbox
from intake.panic import panic
from tests.conftest import Node, make_node
from tests.intake.test_durability import intake_server, server_env

DESC = "The supervisor locks the fire exit during the night shift."
REFUSED = i18n.translations("en").gettext(StoreUnavailable.message)


def inbox_count(node: Node, intake_key: bytes) -> int:
    """Items in the node's inbox, read with a copy of intake.key kept from before the panic."""
    node.settings.intake_key_path.write_bytes(intake_key)
    node.settings.intake_key_path.chmod(0o600)
    inbox = open_inbox(node.settings)
    try:
        return inbox.count()
    finally:
        inbox.close()


def test_a_panic_closes_the_running_intake_in_process(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    intake_key = node.settings.intake_key_path.read_bytes()
    with TestClient(create_intake_app(node.settings)) as client:
        assert client.post("/api/v1/reports", json={"description": DESC}).status_code == 201
        panic(node.settings)
        refused = client.post("/api/v1/reports", json={"description": DESC})
        assert refused.status_code == 503
        assert refused.json()["error"]["code"] == "unavailable"
        page = client.get("/report")
        assert page.status_code == 503 and REFUSED in page.text
        assert page.headers["content-security-policy"]  # still the worker surface's strict headers
        assert "Traceback" not in page.text
    assert inbox_count(node, intake_key) == 1


def test_intake_serve_stops_after_intake_panic(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    intake_key = node.settings.intake_key_path.read_bytes()
    log = tmp_path / "serve.log"
    with intake_server(node.home, log) as (proc, base):
        assert httpx.post(f"{base}/api/v1/reports", json={"description": DESC}, timeout=10).status_code == 201
        done = subprocess.run(
            [sys.executable, "-m", "intake.cli", "--home", str(node.home), "panic", "--yes"],
            stdin=subprocess.DEVNULL, capture_output=True, env=server_env(), timeout=120, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr.decode(errors="replace")
        statuses = []
        deadline = time.monotonic() + 60  # a bound on waiting, not a timing under test
        while proc.poll() is None:
            assert time.monotonic() < deadline, "intake serve never exited after the panic"
            with contextlib.suppress(httpx.HTTPError):  # shutting down: no longer listening
                statuses.append(httpx.post(f"{base}/api/v1/reports", json={"description": DESC}, timeout=5).status_code)
            time.sleep(0.1)
        assert proc.returncode == 0, log.read_text(errors="replace")[-2000:]
        assert set(statuses) <= {503}, statuses
    text = log.read_text(errors="replace")
    assert "the node panicked" in text and "Traceback" not in text
    assert DESC not in text
    assert inbox_count(node, intake_key) == 1  # the one report before the panic, none after
