"""Fixtures for the browser tier: Debian's Chromium through Playwright, and the real intake app
served by uvicorn on loopback in a background thread.

Chromium is Debian's package (``/usr/bin/chromium``), never a browser that Playwright downloads.
When it or the ``playwright`` module is missing, the tier is skipped with the reason, or fails when
``INTAKE_REQUIRE_TIERS`` names ``browser`` (as ``.ci/run`` does).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Node, make_node, require_tier

CHROMIUM = os.environ.get("INTAKE_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying to reach Google's hosts, which a
# closed network refuses; none of its own traffic may muddy the "every request is ours" check.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Screenshots for a person (or CI) to look at: $INTAKE_ARTIFACTS, else tests/artifacts/ (gitignored).
ARTIFACTS = Path(os.environ.get("INTAKE_ARTIFACTS") or Path(__file__).resolve().parents[1] / "artifacts")
PHONE = {"width": 360, "height": 740}  # a small, cheap smartphone


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        require_tier("browser", f"the playwright module is missing ({exc}); pip install -e '.[test]'")
    if not os.access(CHROMIUM, os.X_OK):
        require_tier(
            "browser",
            f"{CHROMIUM} is missing; apt-get install -y --no-install-recommends chromium fonts-noto-core fonts-noto-cjk",
        )
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@dataclass
class LiveIntake:
    """The real intake app on a loopback port, with the node behind it."""

    node: Node
    base: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveIntake]:
    from channels.server import create_intake_app
    from intake.demo.servers import start_server

    node = make_node(tmp_path_factory.mktemp("browser") / "node")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from the start: no race with another process
    port = sock.getsockname()[1]
    server, thread = start_server(create_intake_app(node.settings), sock)
    try:
        yield LiveIntake(node, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture
def artifacts() -> Path:
    """Screenshots land in ARTIFACTS (gitignored), for a person to look at after a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
