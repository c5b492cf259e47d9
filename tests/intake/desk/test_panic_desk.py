"""Panic at the desk: the coordinator's button, roles, the duress passphrase, and a real desk process
that locks after `intake panic` in a terminal (issue 17)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from crypto import Keyring, Role
from crypto.errors import KeyringDestroyed
from intake.desk.app import create_desk_app
from intake.node import load_keyring
from intake.panic import panicked_at, set_duress
from tests.conftest import TEST_PROFILE, Node, drain_node, free_port
from tests.intake.cli.test_cli import base_env
from tests.intake.desk import CASE_LINK, csrf_of, login, report

WORDS = "Synthetic: the night shift was not paid overtime in May."
DURESS = "words for a bad day"


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    report(node, WORDS)
    drain_node(node)
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as c:
        yield c


def destroyed(node: Node) -> bool:
    try:
        Keyring.load(node.settings.keyring_path)
    except KeyringDestroyed:
        return True
    return False


def test_coordinator_button_needs_its_form_token_then_locks_everything(node: Node, client: TestClient) -> None:
    assert login(client, node).status_code == 303
    form = client.get("/panic")
    assert form.status_code == 200 and 'action="/panic"' in form.text
    refused = client.post("/panic", data={"csrf": "not the token"})
    assert refused.status_code == 403 and not destroyed(node)
    done = client.post("/panic", data={"csrf": csrf_of(form.text)})
    assert done.status_code == 200 and "Desk locked" in done.text
    assert destroyed(node) and panicked_at(node.home) is not None
    assert len(client.app.state.sessions) == 0  # type: ignore[attr-defined]
    assert client.app.state.cases_db.handles == 0  # type: ignore[attr-defined]  # the store is closed
    again = client.get("/cases")
    assert "Desk locked" in again.text and WORDS not in again.text
    unlock_page = client.get("/login")
    assert "Desk locked" in unlock_page.text  # no unlock form: nothing to try passphrases on


def test_non_coordinator_cannot_panic(node: Node, client: TestClient, tmp_path: Path) -> None:
    ring = load_keyring(node.settings)
    ring.add_user(node.keys, "cw", "caseworker words", role=Role.CASEWORKER, profile=TEST_PROFILE)
    assert login(client, node, user="cw", passphrase="caseworker words").status_code == 303
    cases = client.get("/cases")
    assert 'href="/panic"' not in cases.text
    assert client.get("/panic").status_code == 403
    assert client.post("/panic", data={"csrf": csrf_of(cases.text)}).status_code == 403
    assert not destroyed(node) and panicked_at(node.home) is None


def test_duress_passphrase_shows_an_empty_desk_and_destroys_the_keys(node: Node, client: TestClient) -> None:
    set_duress(node.settings, DURESS, profile=TEST_PROFILE)
    other = TestClient(client.app, base_url="http://127.0.0.1:8001")  # a colleague's open session
    assert login(other, node).status_code == 303 and CASE_LINK.search(other.get("/cases").text)

    response = login(client, node, passphrase=DURESS)
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    decoy = client.get("/cases")
    assert decoy.status_code == 200
    assert "<h1>Cases</h1>" in decoy.text and "No cases match." in decoy.text and WORDS not in decoy.text
    assert node.user in decoy.text  # looks like this user's desk
    for path in ("/cases/1", "/dashboard", "/relay"):
        page = client.get(path)
        assert page.status_code == 200 and WORDS not in page.text and "locked" not in page.text.lower()
    assert destroyed(node)
    assert "Desk locked" in other.get("/cases").text  # every real session ended


def test_wrong_passphrase_with_a_duress_set_is_just_wrong(node: Node, client: TestClient) -> None:
    set_duress(node.settings, DURESS, profile=TEST_PROFILE)
    response = login(client, node, passphrase="not it at all")
    assert response.status_code == 401 and not destroyed(node)


def _fds_to(pid: int, name: str) -> list[str]:
    found = []
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.endswith(name):
            found.append(target)
    return found


def test_a_running_desk_process_locks_after_intake_panic(node: Node, tmp_path: Path) -> None:
    report(node, WORDS)
    drain_node(node)
    port = free_port()
    root = Path(__file__).resolve().parents[3]
    desk = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "--home", str(node.home), "desk", "--port", str(port)],
        cwd=root, env=base_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10) as browser:
            for _ in range(300):  # up to 30 s for the desk to listen
                try:
                    browser.get("/login")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            token = csrf_of(browser.get("/login").text)
            unlocked = browser.post("/login", data={"csrf": token, "user": node.user, "passphrase": node.passphrase})
            assert unlocked.status_code == 303
            assert CASE_LINK.search(browser.get("/cases").text)
            assert _fds_to(desk.pid, "/cases.db"), "the unlocked desk holds cases.db open"

            done = subprocess.run(
                [sys.executable, "-m", "intake.cli", "--home", str(node.home), "panic", "--yes"],
                cwd=root, env=base_env(), capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert done.returncode == 0, done.stderr
            # With no request at all, the desk closes its store: its watcher looks every second. Up to
            # 15 s is allowed for a loaded machine, half the idle sweeper's 30 s, so only the watcher passes.
            for _ in range(150):
                if not _fds_to(desk.pid, "/cases.db"):
                    break
                time.sleep(0.1)
            assert not _fds_to(desk.pid, "/cases.db"), "the desk still holds cases.db open after a panic"
            page = browser.get("/cases")
            assert "Desk locked" in page.text and WORDS not in page.text
    finally:
        desk.terminate()
        desk.wait(timeout=30)
