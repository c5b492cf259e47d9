"""Shared fixtures. Synthetic data only; the fast KDF profile is named so nobody mistakes it."""

from __future__ import annotations

import os
import re
import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crypto import NodeKeys
from intake.node import init_node, open_cases, open_inbox
from intake.services import IntakeService
from intake.settings import Settings

TEST_PROFILE = "insecure-test-only"
PASSPHRASE = "correct horse battery staple"
USER = "admin"


@pytest.fixture(scope="session", autouse=True)
def _clock_years_ahead() -> Iterator[None]:
    """With INTAKE_TEST_YEARS_AHEAD=N, the whole suite runs with the wall clock N years ahead.

    CI runs the suite twice, the second time like this, so a date written into a test or a clock
    read behind intake.clock's back fails CI instead of failing a labour group in a few years.
    time-machine moves datetime.now, time.time and friends in this process (each xdist worker);
    programs a test starts as subprocesses keep the real clock.
    """
    years = os.environ.get("INTAKE_TEST_YEARS_AHEAD", "").strip()
    if not years:
        yield
        return
    import time_machine

    from intake import clock

    ahead = clock.now() + timedelta(days=round(365.2425 * float(years)))
    with time_machine.travel(ahead, tick=True):
        yield


def require_tier(name: str, reason: str) -> None:
    """Skip with a printed reason, or fail when CI made this tier mandatory (INTAKE_REQUIRE_TIERS)."""
    required = {t.strip() for t in os.environ.get("INTAKE_REQUIRE_TIERS", "").split(",") if t.strip()}
    if name in required:
        pytest.fail(f"tier '{name}' is mandatory here but cannot run: {reason}", pytrace=False)
    pytest.skip(f"tier '{name}' skipped: {reason}")


@dataclass
class Node:
    settings: Settings
    keys: NodeKeys
    passphrase: str = PASSPHRASE
    user: str = USER

    @property
    def home(self) -> Path:
        return self.settings.home


def make_node(home: Path, **overrides: object) -> Node:
    settings = Settings.load(home, env={}, rate_limit_per_minute=0, **overrides)  # type: ignore[arg-type]
    _ring, keys = init_node(settings, user=USER, passphrase=PASSPHRASE, profile=TEST_PROFILE)
    return Node(settings, keys)


@pytest.fixture
def node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "node")


@pytest.fixture
def service(node: Node) -> Iterator[IntakeService]:
    svc = IntakeService.open(node.settings)
    yield svc
    svc.close()


@pytest.fixture
def client(node: Node, service: IntakeService) -> Iterator[TestClient]:
    from channels.server import create_intake_app

    with TestClient(create_intake_app(node.settings, service), base_url="http://testserver") as c:
        yield c


def csrf_token(client: TestClient, path: str = "/report", **params: str) -> str:
    """GET a form page (which sets the csrf cookie) and return its token."""
    page = client.get(path, params=params)
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, "form page has no CSRF token"
    return match.group(1)


def receipt_in(html: str) -> str:
    match = re.search(r'id="receipt">([0-9-]+)<', html)
    assert match, "no receipt on the page"
    return match.group(1)


def drain_node(node: Node):  # type: ignore[no-untyped-def]
    from intake.drain import drain

    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        return drain(inbox, cases, node.keys), cases.list_cases()
    finally:
        inbox.close()
        cases.close()


def run_coroutine(coro):  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: the browser tier's Playwright keeps an event loop running
    in the main thread of whichever xdist worker ran it, and asyncio.run refuses to nest."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def which(program: str) -> str | None:
    return shutil.which(program)
