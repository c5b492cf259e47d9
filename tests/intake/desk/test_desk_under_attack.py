"""The desk under attack (issue 12, item 5): parallel guesses, guesses from another site's page,
sessions of a removed user, and sessions that never end.

Guesses go through a real uvicorn on 127.0.0.1 from many threads at once; the failure counter is
read from the node folder afterwards. The unlock delay is recorded, not waited out (the test KDF
profile keeps each guess cheap), so forty guesses take seconds, not the half hour they earn.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlcipher3
from fastapi.testclient import TestClient
from markupsafe import escape

from crypto import Keyring, Role
from i18n import d_
from intake import clock
from intake.desk.app import create_desk_app
from intake.desk.guard import MAX_AGE
from intake.desk.http import COOKIE
from intake.desk.sessions import Sessions
from intake.node import failure_delay, open_cases
from tests.conftest import PASSPHRASE, TEST_PROFILE, USER, Node, drain_node, make_node
from tests.intake.cli.test_cli import intake
from tests.intake.desk import cases_store, csrf_of, login, report

LIN = "lin"
LIN_PASSPHRASE = "lin's own passphrase 2026"
REFUSED = str(
    escape(d_("This unlock form came from another page or is too old. Nothing was tried: unlock again here."))
)


@dataclass
class LiveDesk:
    node: Node
    app: Any
    base: str


@pytest.fixture
def live_desk(tmp_path: Path) -> Iterator[LiveDesk]:
    from intake.demo.servers import start_server

    node = make_node(tmp_path / "node")
    app = create_desk_app(node.settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server, thread = start_server(app, sock)
    try:
        yield LiveDesk(node, app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def failures(node: Node) -> int:
    path = node.settings.unlock_failures_path
    return int(path.read_text()) if path.exists() else 0


def one_case(node: Node) -> int:
    report(node, "The canteen has served spoiled rice for a week; twelve of us were sick.")
    _, cases = drain_node(node)
    return max(c.id for c in cases)


def notes(node: Node) -> int:
    with cases_store(node) as store:
        return int(store._conn.execute("SELECT count(*) FROM notes").fetchone()[0])


# -- parallel guesses ----------------------------------------------------------------------------------


def test_forty_parallel_guesses_are_each_counted_and_wait_one_after_another(live_desk: LiveDesk) -> None:
    node, guard = live_desk.node, live_desk.app.state.login_guard
    delays: list[float] = []

    def record(seconds: float) -> None:
        delays.append(seconds)
        time.sleep(0.02)  # hold the turn a moment, so guesses that could overlap do

    guard.sleep = record
    # A caseworker already at work, before the attack.
    with httpx.Client(base_url=live_desk.base, timeout=120, follow_redirects=False) as working:
        token = csrf_of(working.get("/login").text)
        ok = working.post("/login", data={"csrf": token, "user": USER, "passphrase": PASSPHRASE})
        assert ok.status_code == 303
        delays.clear()

        n = 40
        start = threading.Barrier(n + 1)
        statuses: list[int] = []

        def guess(i: int) -> None:
            with httpx.Client(base_url=live_desk.base, timeout=120, follow_redirects=False) as c:
                form = {"csrf": csrf_of(c.get("/login").text), "user": USER, "passphrase": f"wrong guess {i:02d}"}
                start.wait()
                statuses.append(c.post("/login", data=form).status_code)

        threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        start.wait()
        # Waiting guesses hold no worker thread: the unlocked caseworker's pages still load.
        during = working.get("/cases")
        assert during.status_code == 200
        for t in threads:
            t.join(120)

    assert sorted(statuses) == [401] * n, statuses  # no 500, none let through
    assert failures(node) == n, "every wrong guess counts"
    # Each guess waited the delay the one before it earned: 0, 0.5, 1, 2, ... never two at once.
    assert delays == [failure_delay(k) for k in range(n)]


# -- guesses from another site's page --------------------------------------------------------------------


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[Node, TestClient]]:
    node = make_node(tmp_path / "node")
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as client:
        yield node, client


def post_login(client: TestClient, data: dict[str, str], **headers: str) -> httpx.Response:
    return client.post("/login", data=data, headers=headers, follow_redirects=False)


@pytest.mark.parametrize("passphrase", [PASSPHRASE, "a wrong guess"])
def test_a_post_from_another_page_is_refused_before_any_try(desk: tuple[Node, TestClient], passphrase: str) -> None:
    node, client = desk
    token = csrf_of(client.get("/login").text)
    creds = {"user": USER, "passphrase": passphrase}
    refused = [
        post_login(client, creds),  # no token: a form on any page on the web
        post_login(client, {"csrf": "", **creds}),
        post_login(client, {"csrf": "1." + "0" * 64, **creds}),
        post_login(client, {"csrf": token + "0", **creds}),
        post_login(client, {"csrf": token, **creds}, origin="https://news.example.org"),
        post_login(client, {"csrf": token, **creds}, origin="null", **{"sec-fetch-site": "cross-site"}),
        post_login(client, {"csrf": token, **creds}, origin="https://news.example.org", **{"sec-fetch-site": "none"}),
        post_login(client, {"csrf": token, **creds}, origin="http://127.0.0.1:8000"),  # another port: same site
        post_login(client, {"csrf": token, **creds}, **{"sec-fetch-site": "cross-site"}),
        post_login(client, {"csrf": token, **creds}, **{"sec-fetch-site": "same-site"}),
    ]
    for i, response in enumerate(refused):
        assert response.status_code == 403, (i, response.text[:200])
        assert REFUSED in response.text, i
        assert "set-cookie" not in response.headers, i
    assert failures(node) == 0, "refused before the passphrase was checked: nothing counted"
    assert client.get("/cases", follow_redirects=False).headers["location"] == "/login", "and nothing unlocked"
    # The desk's own form, as a browser sends it, still works (and the 403 page carries a fresh token).
    # Chromium sends "Origin: null" for it: the desk's pages say Referrer-Policy: no-referrer.
    fresh = csrf_of(refused[0].text)
    response = post_login(client, {"csrf": fresh, **creds}, origin="null", **{"sec-fetch-site": "same-origin"})
    assert response.status_code == (303 if passphrase == PASSPHRASE else 401)
    assert failures(node) == (0 if passphrase == PASSPHRASE else 1)


def test_an_unlock_page_left_open_too_long_is_refused_once_then_works(desk: tuple[Node, TestClient]) -> None:
    node, client = desk
    guard = client.app.state.login_guard  # type: ignore[attr-defined]
    token = csrf_of(client.get("/login").text)
    later = clock.monotonic() + MAX_AGE + 60
    guard._now = lambda: later
    response = post_login(client, {"csrf": token, "user": USER, "passphrase": PASSPHRASE})
    assert response.status_code == 403 and REFUSED in response.text
    assert failures(node) == 0
    again = post_login(client, {"csrf": csrf_of(response.text), "user": USER, "passphrase": PASSPHRASE})
    assert again.status_code == 303


# -- removed users and the absolute lifetime ------------------------------------------------------------


def add_lin(node: Node) -> None:
    ring = Keyring.load(node.settings.keyring_path)
    ring.add_user(node.keys, LIN, LIN_PASSPHRASE, role=Role.CASEWORKER, profile=TEST_PROFILE)


def test_removing_a_user_ends_their_open_sessions(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    add_lin(node)
    case_id = one_case(node)
    app = create_desk_app(node.settings)
    with (
        TestClient(app, base_url="http://127.0.0.1:8001") as lin,
        TestClient(app, base_url="http://127.0.0.1:8001") as admin,
    ):
        assert login(lin, node, LIN, LIN_PASSPHRASE).status_code == 303
        assert login(admin, node).status_code == 303
        page = lin.get(f"/cases/{case_id}")
        assert page.status_code == 200
        note = {"csrf": csrf_of(page.text), "text": "Asked the canteen supplier for the delivery notes."}
        assert lin.post(f"/cases/{case_id}/note", data=note).status_code == 200
        session = app.state.sessions.get(lin.cookies.get(COOKIE))
        written = notes(node)

        secret = tmp_path / "pass"
        secret.write_text(PASSPHRASE)
        secret.chmod(0o600)
        removed = intake("--home", node.home, "users", "remove", LIN, "--passphrase-file", secret)
        assert removed.code == 0, removed.both

        # Lin's next read and next write go to the unlock page; nothing is written.
        read = lin.get(f"/cases/{case_id}", follow_redirects=False)
        assert read.status_code == 303 and read.headers["location"] == "/login"
        write = lin.post(f"/cases/{case_id}/note", data=note, follow_redirects=False)
        assert write.status_code == 303 and write.headers["location"] == "/login"
        assert notes(node) == written
        with pytest.raises(sqlcipher3.ProgrammingError):
            session.store.count()  # the removed user's connection to cases.db is closed
        # Nor does background work (the relay push) run in a removed user's name.
        assert app.state.sessions.any_unlocked((Role.CASEWORKER,)) is None
        # Everyone else keeps working.
        assert admin.get(f"/cases/{case_id}").status_code == 200
        # And the removed user cannot unlock again.
        assert login(lin, node, LIN, LIN_PASSPHRASE).status_code == 401


def test_a_new_passphrase_ends_that_users_sessions(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    add_lin(node)
    app = create_desk_app(node.settings)
    with TestClient(app, base_url="http://127.0.0.1:8001") as lin:
        assert login(lin, node, LIN, LIN_PASSPHRASE).status_code == 303
        assert lin.get("/cases").status_code == 200
        Keyring.load(node.settings.keyring_path).change_passphrase(LIN, LIN_PASSPHRASE, "a fresh passphrase 2027")
        assert lin.get("/cases", follow_redirects=False).headers["location"] == "/login"


def test_a_session_ends_after_its_lifetime_however_busy(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node", desk_session_hours=2)
    case_id = one_case(node)
    with clock.use(clock.FixedClock(clock.now())) as fixed:
        app = create_desk_app(node.settings)
        with TestClient(app, base_url="http://127.0.0.1:8001") as client:
            assert login(client, node).status_code == 303
            for _ in range(12):  # a request every ten minutes: never idle, for two hours
                fixed.advance(600)
                assert client.get(f"/cases/{case_id}", follow_redirects=False).status_code == 200
            fixed.advance(60)
            late = client.get(f"/cases/{case_id}", follow_redirects=False)
            assert late.status_code == 303 and late.headers["location"] == "/login"
            assert login(client, node).status_code == 303, "unlocking again starts a new session"


def test_sessions_have_an_absolute_lifetime_and_the_sweeper_ends_them(node: Node) -> None:
    now = [1000.0]
    sessions = Sessions(idle=900, clock=lambda: now[0], lifetime=3600)
    store = open_cases(node.settings, node.keys)
    token = sessions.create(node.keys, store)
    for _ in range(6):
        now[0] += 600
        assert sessions.get(token) is not None
    assert sessions.any_unlocked((Role.COORDINATOR,)) is not None
    now[0] += 1
    assert sessions.any_unlocked((Role.COORDINATOR,)) is None, "too old for background work too"
    assert sessions.sweep() == 1
    assert sessions.get(token) is None
    with pytest.raises(sqlcipher3.ProgrammingError):
        store.count()


def test_a_rebound_name_gets_nothing_from_the_desk(live_desk: LiveDesk) -> None:
    """DNS rebinding: a page on attacker.example, its name pointed at 127.0.0.1, is same-origin with
    the desk for the browser, so a form token it fetched would pass. The Host it sends gives it away."""
    rebound = {"host": "attacker.example:8001"}
    with httpx.Client(base_url=live_desk.base, timeout=10) as http:
        page = http.get("/login", headers=rebound)
        assert page.status_code == 421 and 'name="csrf"' not in page.text
        posted = http.post("/login", headers=rebound, data={"user": USER, "passphrase": "guess one"})
        assert posted.status_code == 421
        assert http.get("/cases", headers=rebound).status_code == 421
        # The desk's own addresses still work: 127.0.0.1 (the test's base), localhost and [::1].
        for host in ("127.0.0.1:8001", "localhost:8001", "[::1]:8001", "LOCALHOST"):
            assert http.get("/login", headers={"host": host}).status_code == 200, host
    assert failures(live_desk.node) == 0


def test_the_desk_answers_at_the_address_it_was_told_to_listen_on(node: Node) -> None:
    app = create_desk_app(node.settings, hosts=("192.0.2.10",))
    with TestClient(app, base_url="http://192.0.2.10:8001") as client:
        assert client.get("/login").status_code == 200
    with TestClient(app, base_url="http://intake.example:8001") as client:
        assert client.get("/login").status_code == 421
