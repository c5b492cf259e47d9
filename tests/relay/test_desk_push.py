"""The outbox goes out from an unlocked desk by itself: at once after approval, then on its timer;
never from a locked desk, and never keeping an idle desk unlocked."""

from __future__ import annotations

import re
import time
from pathlib import Path

from fastapi.testclient import TestClient

from intake.desk.app import create_desk_app
from intake.desk.relay import push_in_background
from intake.desk.sessions import Sessions
from intake.node import open_cases
from tests.conftest import make_node, run_coroutine
from tests.intake.desk import csrf_of, login
from tests.relay.conftest import LiveInbox, Partner, file_case
from tests.relay.test_partner import register

run = run_coroutine


def delivered(node) -> list[str]:  # type: ignore[no-untyped-def]
    store = open_cases(node.settings, node.keys)
    try:
        return [r[0] for r in store._conn.execute("SELECT delivered_at FROM relay_outbox")]
    finally:
        store.close()


def test_approving_in_the_desk_sends_at_once(tmp_path: Path, partner: Partner, live_inbox: LiveInbox) -> None:
    node = make_node(tmp_path / "node")
    register(node, partner, url=live_inbox.url).store.close()
    case_id = file_case(node)
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as client:
        assert login(client, node).status_code == 303
        page = client.get(f"/cases/{case_id}/relay").text
        shown = re.search(r'name="hash" value="([0-9a-f]{64})"', page)
        assert shown
        r = client.post(f"/cases/{case_id}/relay/approve", data={"csrf": csrf_of(page), "hash": shown.group(1)})
        assert r.status_code == 200
        deadline = time.monotonic() + 15
        while not all(delivered(node)) and time.monotonic() < deadline:
            time.sleep(0.1)
    assert len(delivered(node)) == 1 and all(delivered(node)), "delivered, with the partner's receipt"
    inbox = partner.home.open_inbox()
    try:
        assert inbox.count() == 1
    finally:
        inbox.close()


def test_no_push_without_an_unlocked_desk_and_no_keeping_it_awake(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    settings = node.settings
    clock = [0.0]
    sessions = Sessions(idle=60, clock=lambda: clock[0])
    assert run(push_in_background(sessions, settings)) is None, "locked: nothing to push with"
    store = open_cases(settings, node.keys)
    token = sessions.create(node.keys, store)
    report = run(push_in_background(sessions, settings))
    assert report is not None and report.delivered == [] and report.failed == {}
    clock[0] = 59.0
    run(push_in_background(sessions, settings))
    clock[0] = 61.0
    assert sessions.any_unlocked((node.keys.role,)) is None, "background work did not refresh the idle timer"
    assert sessions.get(token) is None
