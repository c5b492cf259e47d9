"""The desk's memory (issue 14, "Memory"): one cases.db connection behind every unlocked session,
closed when the last one locks, so unlock/lock cycles and sessions left unlocked leave nothing open.

Connections are counted as the kernel sees them: descriptors of this process open on cases.db.
"""

from __future__ import annotations

import os
import platform
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlcipher3
from fastapi.testclient import TestClient

from crypto import Keyring, Role
from intake.desk.app import create_desk_app
from intake.desk.http import COOKIE
from intake.desk.shared import SharedCases
from intake.memory import _malloc_trim
from intake.node import open_cases
from tests.conftest import TEST_PROFILE, Node
from tests.intake.desk import csrf_of, login

CYCLES = 12
OPEN_LOGINS = 5


def open_on(path: Path) -> int:
    """Descriptors of this process open on ``path`` itself (one per SQLite connection)."""
    target = str(path.resolve())
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            count += os.readlink(f"/proc/self/fd/{fd}") == target
        except OSError:
            continue
    return count


def settle() -> None:
    """Wait for the desk's background integrity checks (intake/desk/health.py) to end."""
    for thread in threading.enumerate():
        if thread.name == "desk-store-check":
            thread.join(30)


@pytest.fixture
def app(node: Node) -> Iterator[object]:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("counts descriptors through /proc (Linux)")
    yield create_desk_app(node.settings)


def test_unlock_lock_cycles_leave_no_connection_and_no_session(node: Node, app: object) -> None:
    db = node.settings.cases_path
    before, unlocked = open_on(db), []
    with TestClient(app, base_url="http://127.0.0.1:8001") as client:  # type: ignore[arg-type]
        for _ in range(CYCLES):
            assert login(client, node).status_code == 303
            page = client.get("/cases")
            assert page.status_code == 200
            settle()
            unlocked.append(open_on(db))
            locked = client.post("/lock", data={"csrf": csrf_of(page.text)}, follow_redirects=False)
            assert locked.status_code == 303
            settle()
            assert open_on(db) == before, "a lock left a connection to cases.db open"
            assert len(app.state.sessions) == 0  # type: ignore[attr-defined]
            assert app.state.cases_db.handles == 0  # type: ignore[attr-defined]
    # While unlocked: the session's connection (and the descriptor SQLite keeps from the integrity
    # check's connection until the last one on the file closes: POSIX locks are per process).
    assert unlocked == [unlocked[0]] * CYCLES and before < unlocked[0] <= before + 2


def test_sessions_left_unlocked_share_one_connection(node: Node, app: object) -> None:
    # A browser closed or a cookie lost: each of these sessions stays unlocked until its idle lock.
    # Before issue 14 each held a connection of its own (megabytes each); now they share one.
    db = node.settings.cases_path
    before = open_on(db)
    clients = [TestClient(app, base_url="http://127.0.0.1:8001") for _ in range(OPEN_LOGINS)]  # type: ignore[arg-type]
    with clients[0]:  # runs the app's lifespan once
        pages = []
        for client in clients:
            assert login(client, node).status_code == 303
            pages.append(client.get("/cases").text)
        settle()
        held = open_on(db)
        assert before < held <= before + 2  # one connection (and the integrity check's, kept by SQLite)
        assert app.state.cases_db.handles == OPEN_LOGINS  # type: ignore[attr-defined]
        assert len(app.state.sessions) == OPEN_LOGINS  # type: ignore[attr-defined]

        # One locks: its handle fails like a closed connection, everyone else works on.
        first = app.state.sessions.get(clients[0].cookies.get(COOKIE))  # type: ignore[attr-defined]
        clients[0].post("/lock", data={"csrf": csrf_of(pages[0])}, follow_redirects=False)
        with pytest.raises(sqlcipher3.ProgrammingError):
            first.store.count()
        for client in clients[1:]:
            assert client.get("/cases").status_code == 200
        assert open_on(db) == held

        # The last lock closes the connection.
        for client, page in zip(clients[1:], pages[1:], strict=True):
            assert client.post("/lock", data={"csrf": csrf_of(page)}, follow_redirects=False).status_code == 303
        settle()
        assert open_on(db) == before
        assert app.state.cases_db.handles == 0  # type: ignore[attr-defined]
        assert len(app.state.sessions) == 0  # type: ignore[attr-defined]
        # And unlocking again opens it again.
        assert login(clients[1], node).status_code == 303
        assert clients[1].get("/cases").status_code == 200
    for client in clients[1:]:
        client.close()


def test_a_handle_is_its_own_and_the_connection_closes_with_the_last(node: Node) -> None:
    shared = SharedCases()
    opened: list[object] = []

    def opener():  # type: ignore[no-untyped-def]
        store = open_cases(node.settings, node.keys)
        opened.append(store)
        return store

    lin_ring = Keyring.load(node.settings.keyring_path)
    lin_ring.add_user(node.keys, "lin", "lin's own passphrase 2026", role=Role.VIEWER, profile=TEST_PROFILE)
    lin = lin_ring.unlock("lin", "lin's own passphrase 2026")
    a, b = shared.lease(node.keys, opener), shared.lease(lin, opener)
    assert len(opened) == 1 and a is not b and shared.handles == 2
    assert a.count() == b.count() == 0
    a.close()
    a.close()  # twice is once
    with pytest.raises(sqlcipher3.ProgrammingError):
        a.count()
    assert a.closed and not b.closed
    assert b.count() == 0 and shared.handles == 1
    b.close()
    assert shared.handles == 0
    with pytest.raises(sqlcipher3.ProgrammingError):
        opened[0].count()  # type: ignore[attr-defined]
    c = shared.lease(node.keys, opener)  # a new unlock opens a new connection
    assert len(opened) == 2 and c.count() == 0
    c.close()


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc_trim is glibc's")
def test_freed_memory_can_be_handed_back_on_glibc() -> None:
    trim = _malloc_trim()
    assert trim is not None
    assert trim(0) in (0, 1)
