"""Corrective action plans and stage deadlines: the store, the desk routes, the case page and list.

Real SQLCipher stores of a throwaway node; each test checks what reached cases.db and the audit log.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from intake.domain import CaseStatus
from intake.errors import InvalidInput
from intake.store.actions import Actions, parse_due
from intake.store.casework import CaseWork, Filters, Stage, overdue_days
from tests.conftest import Node
from tests.intake.desk import audit_rows, cases_store, csrf_of, listed, login, verify
from tests.intake.desk.test_desk_app import Desk, one_case, open_desk

DEADLINES = {"new": 2, "triaged": 7, "investigating": 30, "remedy": 90}
SECRET = "Pay the medical costs of Li Wei"


@pytest.fixture
def desk(node: Node) -> Iterator[Desk]:
    yield from open_desk(node)


@pytest.fixture
def unlocked(desk: Desk) -> Desk:
    assert login(desk.client, desk.node).status_code == 303
    return desk


def actions_in(node: Node) -> list[tuple[Any, ...]]:
    with cases_store(node) as store:
        rows = store._conn.execute("SELECT case_id, action, who, due, evidence, done_at FROM actions ORDER BY id")
        return [tuple(r) for r in rows.fetchall()]


def set_since(node: Node, case_id: int, when: datetime) -> None:
    with cases_store(node) as store:
        store._conn.execute("UPDATE cases SET status_since = ? WHERE id = ?", (when.isoformat(), case_id))


def add(desk: Desk, case_id: int, **data: Any) -> Any:
    page = desk.case_page(case_id)
    form = {"action": SECRET, "who": "employer", "due": "2030-01-31", "evidence": "", **data}
    return desk.client.post(f"/cases/{case_id}/actions", data={"csrf": csrf_of(page), **form}, follow_redirects=False)


def test_add_done_and_undo_through_the_desk(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    response = add(unlocked, case_id, evidence="hospital receipts")
    assert response.status_code == 303 and response.headers["location"] == f"/cases/{case_id}#plan"
    response = add(unlocked, case_id, action="Confirm payment to the labour group", who="brand", due="2030-02-15")
    assert response.status_code == 303
    stored = actions_in(node)
    assert stored == [
        (case_id, SECRET, "employer", "2030-01-31", "hospital receipts", ""),
        (case_id, "Confirm payment to the labour group", "brand", "2030-02-15", "", ""),
    ]
    page = unlocked.case_page(case_id)
    assert SECRET in page and "2030-01-31" in page and "hospital receipts" in page and "Brand" in page
    with cases_store(node) as store:
        first = store._conn.execute("SELECT min(id) FROM actions").fetchone()[0]
    csrf = csrf_of(page)
    done = unlocked.client.post(f"/cases/{case_id}/actions/{first}/done", data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert actions_in(node)[0][5] != ""
    assert "Not done" in unlocked.case_page(case_id)
    undo = unlocked.client.post(
        f"/cases/{case_id}/actions/{first}/done", data={"csrf": csrf, "undo": "1"}, follow_redirects=False
    )
    assert undo.status_code == 303
    assert actions_in(node)[0][5] == ""
    missing = unlocked.client.post(f"/cases/{case_id}/actions/999/done", data={"csrf": csrf})
    assert missing.status_code == 400
    # Every change in the verified chain, and no action text or evidence in any audit row.
    assert verify(node).ok
    rows = audit_rows(node)
    kinds = [r for r in rows if any(str(c).startswith("action_") for c in r)]
    assert len(kinds) == 4  # two added, one done, one undone
    text = json.dumps([[str(c) for c in r] for r in rows])
    for words in (SECRET, "hospital", "receipts", "Confirm payment"):
        assert words not in text


@pytest.mark.parametrize(
    "data",
    [
        {"action": ""},
        {"action": "   "},
        {"action": "x" * 501},
        {"who": "nobody"},
        {"who": ""},
        {"due": "2026-13-40"},
        {"due": "2026-02-30"},
        {"due": "31/01/2030"},
        {"due": ""},
        {"evidence": "e" * 2001},
    ],
)
def test_bad_input_is_refused_and_nothing_stored(node: Node, unlocked: Desk, data: dict[str, str]) -> None:
    case_id, _ = one_case(node)
    before = len(audit_rows(node))
    response = add(unlocked, case_id, **data)
    assert response.status_code == 400
    assert "was not added" in response.text
    assert actions_in(node) == []
    # Only the case-page view from add() reached the audit log.
    assert len(audit_rows(node)) == before + 1


def test_csrf_and_role_are_checked(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    for csrf in ("", "made-up"):
        response = unlocked.client.post(
            f"/cases/{case_id}/actions",
            data={"csrf": csrf, "action": SECRET, "who": "brand", "due": "2030-01-01"},
            follow_redirects=False,
        )
        assert response.status_code == 403
    add(unlocked, case_id)
    response = unlocked.client.post(f"/cases/{case_id}/actions/1/done", data={"csrf": "nope"})
    assert response.status_code == 403
    assert [a[5] for a in actions_in(node)] == [""]
    assert len(actions_in(node)) == 1


def test_logged_out_posts_go_to_login(node: Node, desk: Desk) -> None:
    case_id, _ = one_case(node)
    response = desk.client.post(
        f"/cases/{case_id}/actions",
        data={"csrf": "", "action": SECRET, "who": "brand", "due": "2030-01-01"},
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert actions_in(node) == []


def test_parse_due() -> None:
    assert parse_due("2030-01-31") == date(2030, 1, 31)
    for bad in ("2026-13-40", "20300131", "2030-1-31", "", "2030-01-31T00:00"):
        with pytest.raises(InvalidInput):
            parse_due(bad)


def test_overdue_actions(node: Node) -> None:
    case_id, _ = one_case(node)
    with cases_store(node) as store:
        plan = Actions(CaseWork(store, node.keys))
        late = plan.add(case_id, "late", "employer", "2026-01-10")
        on_time = plan.add(case_id, "on time", "brand", "2026-01-20")
        done = plan.add(case_id, "done", "public_buyer", "2026-01-01")
        plan.set_done(case_id, done)
        flags = {a.id: a.overdue for a in plan.plan(case_id, today=date(2026, 1, 15))}
        assert flags == {late: True, on_time: False, done: False}
        assert not any(a.overdue for a in plan.plan(case_id, today=date(2026, 1, 10)))
        assert plan.set_done(case_id, done) is False  # already done: nothing changes, nothing audited


def test_overdue_days() -> None:
    now = datetime(2026, 3, 10, 12, tzinfo=UTC)
    stage = Stage(1, "triaged", now - timedelta(days=7))
    assert overdue_days(stage, DEADLINES, now) == 0  # exactly at the target
    assert overdue_days(Stage(1, "triaged", now - timedelta(days=7, hours=1)), DEADLINES, now) == 1
    assert overdue_days(Stage(1, "triaged", now - timedelta(days=10)), DEADLINES, now) == 3
    assert overdue_days(Stage(1, "triaged", now - timedelta(days=10, hours=23)), DEADLINES, now) == 3
    assert overdue_days(Stage(1, "resolved", now - timedelta(days=400)), DEADLINES, now) == 0  # no target
    assert overdue_days(Stage(1, "new", now - timedelta(days=3)), {}, now) == 0


def test_overdue_cases_stand_out_and_filter(node: Node, unlocked: Desk) -> None:
    late_id, _ = one_case(node, "The boss kept our pay for three months and locked the gate.")
    fresh_id, _ = one_case(node, "The canteen food made twenty of us sick last week.")
    assert unlocked.update(late_id, status=CaseStatus.TRIAGED.value).status_code == 200
    now = datetime.now(UTC)
    set_since(node, late_id, now - timedelta(days=12))  # triaged: target 7 days -> 5 days over
    with cases_store(node) as store:
        work = CaseWork(store, node.keys)
        assert [c.id for c in work.find(Filters(overdue=True), DEADLINES)] == [late_id]
        assert work.overdue([late_id, fresh_id], DEADLINES) == {late_id: 5}
        assert work.find(Filters(overdue=True), {}) == []
    everything = unlocked.client.get("/cases").text
    assert set(listed(everything)) >= {late_id, fresh_id}
    assert re.search(r'class="overdue">5 days<', everything)
    only = unlocked.client.get("/cases?overdue=1").text
    assert listed(only) == [late_id]
    page = unlocked.case_page(late_id)
    assert "target 7 days" in page and "overdue by 5 days" in page
    fresh = unlocked.case_page(fresh_id)
    assert "target 2 days" in fresh and "overdue by" not in fresh


def test_overdue_action_is_highlighted_on_the_page(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    assert add(unlocked, case_id, due=yesterday).status_code == 303
    page = unlocked.case_page(case_id)
    assert re.search(r'<tr class="overdue">\s*<td>' + re.escape(SECRET), page)
