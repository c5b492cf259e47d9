"""The worker confirms, and retaliation is watched (issue 15 items 2 and 3), from the desk's side.

A caseworker marks a step done or resolves a case on the real desk app; the question reaches the
worker's status board (inbox.db) and only then; the worker answers through the real intake app
(JSON API); the drain takes the sealed answer into cases.db: the confirmation, a step or case
reopened on "no" or "partly", an urgent retaliation case on a check-in's "yes". The clock is moved
(intake.clock.FixedClock) to make check-ins due.
"""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from channels.server import create_intake_app
from intake import clock
from intake.domain import CaseStatus
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from tests.conftest import Node, drain_node
from tests.intake.desk import audit_rows, cases_store, csrf_of, login
from tests.intake.desk.test_desk_app import Desk, one_case, open_desk

START = datetime(2031, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def fixed() -> Iterator[clock.FixedClock]:
    with clock.use(clock.FixedClock(START)) as c:
        assert isinstance(c, clock.FixedClock)
        yield c


@pytest.fixture
def unlocked(node: Node, fixed: clock.FixedClock) -> Iterator[Desk]:
    for desk in open_desk(node):
        assert login(desk.client, desk.node).status_code == 303
        yield desk


@pytest.fixture
def worker(node: Node, fixed: clock.FixedClock) -> Iterator[TestClient]:
    """The worker's side: the real intake app on the same node."""
    with TestClient(create_intake_app(node.settings), base_url="http://testserver") as c:
        yield c


def _stored(node: Node, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with cases_store(node) as store:
        return [tuple(r) for r in store._conn.execute(sql, params).fetchall()]


def _to_remedy(desk: Desk, case_id: int) -> None:
    for status in ("triaged", "investigating", "remedy"):
        assert desk.update(case_id, status=status).status_code == 200


def _step(node: Node, case_id: int) -> int:
    with cases_store(node) as store:
        return Actions(CaseWork(store, node.keys)).add(case_id, "Pay the overtime owed", "employer", "2099-01-31")


def status(worker: TestClient, receipt: str, **headers: str) -> dict[str, Any]:
    response = worker.post("/api/v1/status", json={"receipt": receipt}, headers=headers)
    assert response.status_code == 200
    return dict(response.json())


def answer(worker: TestClient, receipt: str, question: str, value: int) -> None:
    response = worker.post("/api/v1/answers", json={"receipt": receipt, "question": question, "answer": value})
    assert response.status_code == 202 and response.json() == {"accepted": True}


def test_a_step_marked_done_is_confirmed_by_the_worker(node: Node, unlocked: Desk, worker: TestClient) -> None:
    case_id, receipt = one_case(node)
    _to_remedy(unlocked, case_id)
    assert "question" not in status(worker, receipt)
    step = _step(node, case_id)
    page = unlocked.case_page(case_id)
    done = {"kind": "back_pay", "amount": "300", "currency": "CNY", "workers_covered": "4", "verified_by": "document"}
    assert unlocked.post(f"/cases/{case_id}/actions/{step}/done", done, csrf=csrf_of(page)).status_code == 303
    shown = status(worker, receipt)
    q = shown["question"]
    assert q["text"] == "Has this happened: back pay?"
    assert q["options"] == [{"value": 1, "label": "Yes"}, {"value": 2, "label": "Partly"}, {"value": 3, "label": "No"}]
    assert status(worker, receipt, **{"Accept-Language": "zh-CN"})["question"]["id"] == q["id"]
    answer(worker, receipt, q["id"], 1)
    assert "question" not in status(worker, receipt)  # answered: not shown again
    result, _cases = drain_node(node)
    assert result.unreadable == 0
    assert _stored(node, "SELECT worker_confirmation FROM cases WHERE id = ?", case_id) == [("yes",)]
    assert _stored(node, "SELECT done_at != '' FROM actions WHERE id = ?", step) == [(1,)]
    assert _stored(node, "SELECT answer, channel FROM worker_questions WHERE id = ?", q["id"]) == [("yes", "api")]
    page = html.unescape(unlocked.case_page(case_id))
    assert "Questions to the worker" in page and "answered 2031-03-02: yes" in page


@pytest.mark.parametrize("value, said", [(2, "partly"), (3, "no")])
def test_no_or_partly_reopens_the_step_and_marks_the_case(
    node: Node, unlocked: Desk, worker: TestClient, value: int, said: str
) -> None:
    case_id, receipt = one_case(node)
    _to_remedy(unlocked, case_id)
    step = _step(node, case_id)
    page = unlocked.case_page(case_id)
    done = {"kind": "safety_fix", "workers_covered": "30", "verified_by": "group_visit"}
    assert unlocked.post(f"/cases/{case_id}/actions/{step}/done", done, csrf=csrf_of(page)).status_code == 303
    q = status(worker, receipt)["question"]
    assert q["text"] == "Has this happened: the safety problem fixed?"
    answer(worker, receipt, q["id"], value)
    drain_node(node)
    assert _stored(node, "SELECT done_at, remedy_kind FROM actions WHERE id = ?", step) == [("", "")]
    assert _stored(node, "SELECT worker_confirmation, status FROM cases WHERE id = ?", case_id) == [(said, "remedy")]
    entry = [r for r in audit_rows(node) if r[3] == "worker_answer"]
    assert len(entry) == 1 and entry[0][2] == "worker" and entry[0][4] == case_id
    assert f'"answer":"{said}"' in str(entry[0][5]) and '"reopened_action":' in str(entry[0][5])
    assert "disputed by the worker" in unlocked.case_page(case_id)
    assert "disputed by the worker" in unlocked.client.get("/cases").text


def test_a_resolved_case_disputed_goes_back_to_remedy(node: Node, unlocked: Desk, worker: TestClient) -> None:
    case_id, receipt = one_case(node)
    _to_remedy(unlocked, case_id)
    outcome = {"kind": "overtime_pay", "amount": "1200", "currency": "CNY", "workers_covered": "9",
               "verified_by": "worker"}  # fmt: skip
    assert unlocked.update(case_id, status="resolved", **outcome).status_code == 200
    q = status(worker, receipt)["question"]
    assert q["text"] == "Has this happened: overtime pay?"
    answer(worker, receipt, q["id"], 3)
    answer(worker, receipt, q["id"], 1)  # a second answer to the same question stores nothing
    result, _ = drain_node(node)
    assert result.followups == 1
    row = _stored(node, "SELECT status, worker_confirmation, closed_at FROM cases WHERE id = ?", case_id)
    assert row == [(CaseStatus.REMEDY.value, "no", "")]
    page = unlocked.case_page(case_id)
    assert "disputed by the worker" in page
    # Resolved again: the answer is cleared and the worker asked anew; "yes" confirms it.
    assert unlocked.update(case_id, status="resolved").status_code == 200
    again = status(worker, receipt)["question"]
    assert again["id"] != q["id"]
    answer(worker, receipt, again["id"], 1)
    drain_node(node)
    assert _stored(node, "SELECT status, worker_confirmation FROM cases WHERE id = ?", case_id) == [("resolved", "yes")]
    assert "resolved, confirmed by the worker" in unlocked.case_page(case_id)


def test_check_ins_are_due_by_the_clock_and_a_yes_opens_a_linked_urgent_case(
    node: Node, unlocked: Desk, worker: TestClient, fixed: clock.FixedClock
) -> None:
    case_id, receipt = one_case(node, factory="Synthetic Optics Ltd")
    assert unlocked.update(case_id, status="closed_unresolved").status_code == 200
    assert "question" not in status(worker, receipt)  # not due yet
    fixed.advance(timedelta(days=29, hours=23))
    assert "question" not in status(worker, receipt)
    fixed.advance(timedelta(hours=2))
    first = status(worker, receipt)["question"]
    assert first["text"] == "Since your report, have you been punished, moved, threatened or dismissed?"
    assert first["options"] == [{"value": 1, "label": "No"}, {"value": 2, "label": "Yes"}]
    answer(worker, receipt, first["id"], 1)
    assert "question" not in status(worker, receipt)
    fixed.advance(timedelta(days=60))
    second = status(worker, receipt)["question"]
    assert second["id"] != first["id"]
    answer(worker, receipt, second["id"], 3)  # out of range for a check-in: taken, nothing stored
    answer(worker, receipt, second["id"], 2)
    result, cases = drain_node(node)
    assert (result.cases, result.followups, result.unreadable) == (1, 1, 0)
    opened = max(c.id for c in cases)
    new = next(c for c in cases if c.id == opened)
    assert new.severity == "urgent" and [c.value for c in new.categories] == ["retaliation"]
    assert new.factory == "Synthetic Optics Ltd" and new.status == CaseStatus.NEW
    assert _stored(node, "SELECT receipt_hash FROM cases WHERE id = ?", opened) == [(None,)]
    assert _stored(node, "SELECT opened_case_id FROM worker_questions WHERE id = ?", second["id"]) == [(opened,)]
    actions = [(r[3], r[4]) for r in audit_rows(node)]
    assert ("worker_answer", case_id) in actions and ("retaliation_case", opened) in actions
    assert login(unlocked.client, node).status_code == 303  # 90 days on, the desk had locked itself
    assert f'href="/cases/{opened}"' in unlocked.case_page(case_id)
    linked = html.unescape(unlocked.case_page(opened))
    assert f"Opened because the worker of case {case_id} said in a check-in" in linked
    # The worker's answer "no" to the first check-in changed nothing on the case.
    assert _stored(node, "SELECT status, worker_confirmation FROM cases WHERE id = ?", case_id) == [
        ("closed_unresolved", None)
    ]


def test_reopening_withdraws_the_waiting_questions(node: Node, unlocked: Desk, worker: TestClient,
                                                   fixed: clock.FixedClock) -> None:  # fmt: skip
    case_id, receipt = one_case(node)
    _to_remedy(unlocked, case_id)
    assert unlocked.update(case_id, status="resolved").status_code == 200
    q = status(worker, receipt)["question"]
    assert q["text"] == "Has this happened: the remedy agreed for your case?"
    assert unlocked.update(case_id, status="triaged").status_code == 200
    assert "question" not in status(worker, receipt)
    fixed.advance(timedelta(days=100))
    assert "question" not in status(worker, receipt)  # the check-ins went with it
    answer(worker, receipt, q["id"], 1)  # too late: withdrawn, nothing stored
    result, _ = drain_node(node)
    assert result.followups == 0 and result.cases == 0
    withdrawn = _stored(node, "SELECT count(*) FROM worker_questions WHERE withdrawn_at != ''")
    assert withdrawn == [(3,)]


def test_a_step_marked_not_done_withdraws_its_question(node: Node, unlocked: Desk, worker: TestClient) -> None:
    case_id, receipt = one_case(node)
    _to_remedy(unlocked, case_id)
    step = _step(node, case_id)
    page = unlocked.case_page(case_id)
    assert unlocked.post(f"/cases/{case_id}/actions/{step}/done", {}, csrf=csrf_of(page)).status_code == 303
    assert status(worker, receipt)["question"]["text"] == "Has this happened: the step agreed for your case?"
    assert unlocked.post(f"/cases/{case_id}/actions/{step}/done", {"undo": "1"}, csrf=csrf_of(page)).status_code == 303
    assert "question" not in status(worker, receipt)


def test_no_question_for_a_case_without_a_receipt(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    with cases_store(node) as store:
        store._conn.execute("UPDATE cases SET receipt_hash = NULL WHERE id = ?", (case_id,))
    _to_remedy(unlocked, case_id)
    assert unlocked.update(case_id, status="resolved").status_code == 200
    assert _stored(node, "SELECT count(*) FROM worker_questions") == [(0,)]
