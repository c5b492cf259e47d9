"""The desk and a damaged case store (issue 14): the unlock does not wait for an integrity check;
a check in the background finds the damage and every page says so; a page that reads the damaged
part is a clear error page, never a 500. Real SQLCipher files, one page damaged on disk."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from i18n import d_
from intake.desk.app import create_desk_app
from intake.desk.http import COOKIE
from tests.conftest import Node
from tests.intake.desk import login
from tests.intake.store.damage import damage_middle_page

BANNER = "This case store is damaged"
UNREADABLE = "The case store could not be read"


@pytest.fixture
def client(node: Node) -> Iterator[tuple[Any, TestClient]]:
    app = create_desk_app(node.settings)
    with TestClient(app, base_url="http://127.0.0.1:8001") as client:
        yield app, client


def checked(app: Any, client: TestClient) -> list[str]:
    """The session's integrity findings, once the background check has ended."""
    session = app.state.sessions.get(client.cookies.get(COOKIE))
    assert session is not None
    deadline = time.monotonic() + 120  # a bound on waiting, not a timing under test
    while session.damage is None:
        assert time.monotonic() < deadline, "the background check never ended"
        time.sleep(0.02)
    return list(session.damage)


def test_unlock_of_a_damaged_store_works_and_every_page_warns(node: Node, client: tuple[Any, TestClient]) -> None:
    app, http = client
    damage_middle_page(node.settings.cases_path, node.keys.cases_db_key)
    response = login(http, node)
    assert response.status_code == 303 and response.headers["location"] == "/cases"
    assert checked(app, http), "the background check must find the damaged page"
    for path in ("/factories", "/cases", "/dashboard", "/cases?q=overtime"):
        page = http.get(path)
        assert page.status_code in (200, 503), (path, page.status_code)
        assert BANNER in page.text, path
        assert "intake check" in page.text and "backup" in page.text
    assert d_("Lock") in http.get("/factories").text  # still unlocked: the damage locks nobody out


def test_a_page_that_reads_the_damaged_part_is_a_clear_error(node: Node, client: tuple[Any, TestClient]) -> None:
    _app, http = client
    damage_middle_page(node.settings.cases_path, node.keys.cases_db_key)
    assert login(http, node).status_code == 303
    # The dashboard counts every case, so it reads the damaged page of the cases table. The test
    # client re-raises any exception the app did not handle: a 500 would fail here.
    page = http.get("/dashboard")
    assert page.status_code == 503
    assert UNREADABLE in page.text and "intake check" in page.text
    statuses = {http.get(f"/cases/{case_id}").status_code for case_id in range(1, 151)}
    assert statuses <= {200, 503} and 503 in statuses


def test_a_sound_store_shows_no_banner(node: Node, client: tuple[Any, TestClient]) -> None:
    app, http = client
    assert login(http, node).status_code == 303
    assert checked(app, http) == []
    for path in ("/cases", "/factories", "/dashboard"):
        page = http.get(path)
        assert page.status_code == 200 and BANNER not in page.text


def test_a_store_that_does_not_open_is_said_at_the_unlock(node: Node, client: tuple[Any, TestClient]) -> None:
    _app, http = client
    cases_db = node.settings.cases_path
    with cases_db.open("r+b") as fh:  # the first page: the schema itself is gone
        fh.seek(100)
        fh.write(b"\xa5" * 64)
    response = login(http, node)
    assert response.status_code == 503
    assert UNREADABLE in response.text and "intake check" in response.text
    assert COOKIE not in http.cookies


def test_locking_stops_the_check_and_says_nothing(node: Node, client: tuple[Any, TestClient]) -> None:
    app, http = client
    assert login(http, node).status_code == 303
    session = app.state.sessions.get(http.cookies.get(COOKIE))
    assert session is not None
    app.state.sessions.drop(http.cookies.get(COOKIE))
    assert session.store.closed
    deadline = time.monotonic() + 30
    while any(t.name == "desk-store-check" and t.is_alive() for t in threading.enumerate()):
        assert time.monotonic() < deadline, "the check went on after the lock"
        time.sleep(0.02)
    assert session.damage in (None, [])  # a stopped check is no finding
