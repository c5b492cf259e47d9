"""The case list when a search looks at part of the cases only (intake/store/caselist.py): the page
says so, and its link goes on below where the search stopped until every case was looked at.

The budgets are made tiny here so that 40 cases are enough to reach them.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from i18n import d_
from intake.desk.app import create_desk_app
from intake.store import caselist
from tests.conftest import Node
from tests.intake.desk import cases_store, listed, login

OLDER = re.compile(r'<a href="(/cases\?[^"]*before=\d+[^"]*)">')


@pytest.fixture
def client(node: Node) -> Iterator[TestClient]:
    with cases_store(node) as store, store.transaction() as conn:
        for i in range(1, 41):  # every case says "overtime"; one in four is in Spanish
            conn.execute(
                "INSERT INTO cases (id, created_at, channel, locale, description, status_since) "
                "VALUES (?, ?, 'web', ?, ?, ?)",
                (
                    i,
                    f"2026-01-01T00:{i:02d}:00+00:00",
                    "es" if i % 4 == 0 else "en",
                    f"overtime case {i}",
                    "2026-01-01",
                ),
            )
    with TestClient(create_desk_app(node.settings), base_url="http://127.0.0.1:8001") as c:
        assert login(c, node).status_code == 303
        yield c


def test_a_capped_search_says_so_and_goes_on(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(caselist, "CHUNK", 3)
    monkeypatch.setattr(caselist, "WALK_BUDGET", 7 * 5)  # "overtime": 6 trigrams and a check, so 5 matches a walk
    seen: list[int] = []
    url = "/cases?q=overtime&locale=es"
    for _ in range(20):
        page = client.get(url).text
        seen += listed(page)
        more = OLDER.search(page)
        if more is None:
            break
        assert d_("Only the newest cases with these words were checked against the filters, down to case {n}.")[
            :30
        ] in html.unescape(page)
        url = html.unescape(more.group(1))
        assert "locale=es" in url and "q=overtime" in url
    assert seen == [i for i in range(40, 0, -1) if i % 4 == 0], "every Spanish case, newest first, once"
    # Without the filter nothing is capped: every match is a hit.
    page = client.get("/cases", params={"q": "overtime"}).text
    assert listed(page) == list(range(40, 0, -1)) and OLDER.search(page) is None


def test_one_or_two_letters_look_at_the_first_cases_only(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    note = d_("One or two letters are looked for in the first cases of the list only: type three or more.")
    monkeypatch.setattr(caselist, "SHORT_WALK", 8)
    page = html.unescape(client.get("/cases", params={"q": "ov", "locale": "es"}).text)
    assert listed(page) == [40, 36, 32, 28, 24, 20, 16, 12], "the first 8 of the Spanish cases' list"
    assert note in page and OLDER.search(page) is None
    monkeypatch.setattr(caselist, "SHORT_WALK", 10)
    page = html.unescape(client.get("/cases", params={"q": "ov", "locale": "es"}).text)
    assert listed(page) == [40, 36, 32, 28, 24, 20, 16, 12, 8, 4] and note not in page, "all 10 looked at"
