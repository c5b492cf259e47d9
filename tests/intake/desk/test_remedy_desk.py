"""Remedy on the desk (issue 15 items 1 and 5): a CAP step marked done with its outcome, a case
resolved with one, the remedy state on the case page and list, and the cases a partner waits on.

Real SQLCipher stores of a throwaway node through the desk app; each test checks what reached cases.db.
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from intake import clock
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from tests.conftest import Node
from tests.intake.desk import audit_rows, cases_store, csrf_of, login
from tests.intake.desk.test_desk_app import Desk, one_case, open_desk

OUTCOME = {
    "kind": "back_pay",
    "amount": "1500.50",
    "currency": "cny",
    "workers_covered": "12",
    "verified_by": "document",
}


@pytest.fixture
def unlocked(node: Node) -> Iterator[Desk]:
    for desk in open_desk(node):
        assert login(desk.client, desk.node).status_code == 303
        yield desk


def _step(node: Node, case_id: int, due: str = "2099-01-31", who: str = "employer") -> int:
    with cases_store(node) as store:
        return Actions(CaseWork(store, node.keys)).add(case_id, "Pay the overtime owed", who, due)


def _stored(node: Node, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with cases_store(node) as store:
        return [tuple(r) for r in store._conn.execute(sql, params).fetchall()]


def _remedy_case(node: Node, desk: Desk) -> int:
    case_id, _ = one_case(node)
    for status in ("triaged", "investigating", "remedy"):
        assert desk.update(case_id, status=status).status_code == 200
    return case_id


def test_a_step_marked_done_with_its_outcome(node: Node, unlocked: Desk) -> None:
    case_id = _remedy_case(node, unlocked)
    step = _step(node, case_id)
    page = unlocked.case_page(case_id)
    assert 'name="kind"' in page and "Back pay" in page and '<datalist id="currencies">' in page
    response = unlocked.post(f"/cases/{case_id}/actions/{step}/done", OUTCOME, csrf=csrf_of(page))
    assert response.status_code == 303
    assert _stored(node, "SELECT remedy_kind, remedy_amount, remedy_currency, remedy_workers, remedy_verified_by "
                   "FROM actions") == [("back_pay", "1500.50", "CNY", 12, "document")]  # fmt: skip
    page = unlocked.case_page(case_id)
    assert "Back pay · 1500.50 CNY · 12 workers · by document" in html.unescape(page)
    # Corrected later, on the step already done; then done without an outcome changes nothing.
    fixed = {**OUTCOME, "amount": "1600", "workers_covered": "13"}
    assert unlocked.post(f"/cases/{case_id}/actions/{step}/done", fixed, csrf=csrf_of(page)).status_code == 303
    assert unlocked.post(f"/cases/{case_id}/actions/{step}/done", {}, csrf=csrf_of(page)).status_code == 303
    assert _stored(node, "SELECT remedy_amount, remedy_workers FROM actions") == [("1600", 13)]
    kinds = [r[3] for r in audit_rows(node)]
    assert kinds.count("action_done") == 1 and kinds.count("action_outcome") == 1


@pytest.mark.parametrize(
    ("change", "said"),
    [
        ({"kind": "bonus"}, "Choose what kind of remedy it was."),
        ({"amount": "-20"}, "The amount cannot be negative."),
        ({"amount": "1.500,50"}, "without thousands separators"),
        ({"amount": "lots"}, "without thousands separators"),
        ({"currency": "ABC"}, "Unknown currency"),
        ({"currency": ""}, "An amount needs its currency"),
        ({"workers_covered": "0"}, "Workers covered must be a whole number from 1."),
        ({"workers_covered": "many"}, "Workers covered must be a whole number from 1."),
        ({"verified_by": "rumour"}, "Choose how the remedy was verified."),
        ({"kind": "safety_fix"}, "Only a payment has an amount"),
    ],
)
def test_a_bad_outcome_refuses_the_step_and_stores_nothing(
    node: Node, unlocked: Desk, change: dict[str, str], said: str
) -> None:
    case_id, _ = one_case(node)
    step = _step(node, case_id)
    before = len(audit_rows(node))
    page = unlocked.case_page(case_id)
    response = unlocked.post(f"/cases/{case_id}/actions/{step}/done", {**OUTCOME, **change}, csrf=csrf_of(page))
    assert response.status_code == 400
    assert said in html.unescape(response.text) and "The outcome was not saved." in response.text
    assert _stored(node, "SELECT done_at, remedy_kind FROM actions") == [("", "")], "not marked done either"
    assert len(audit_rows(node)) == before + 1, "only the page view"


def test_resolving_with_an_outcome_and_the_remedy_state(node: Node, unlocked: Desk) -> None:
    case_id = _remedy_case(node, unlocked)
    # A wrong outcome refuses the whole change: the case stays in remedy.
    bad = unlocked.update(case_id, status="resolved", **{**OUTCOME, "currency": "ZZZ"})
    assert bad.status_code == 400 and "Unknown currency" in bad.text
    assert _stored(node, "SELECT status FROM cases WHERE id = ?", case_id) == [("remedy",)]
    assert _stored(node, "SELECT count(*) FROM case_outcomes") == [(0,)]
    ok = unlocked.update(case_id, status="resolved", **OUTCOME)
    assert ok.status_code == 200
    assert _stored(node, "SELECT status FROM cases WHERE id = ?", case_id) == [("resolved",)]
    assert _stored(node, "SELECT kind, amount, currency, workers_covered, verified_by FROM case_outcomes") == [
        ("back_pay", "1500.50", "CNY", 12, "document")
    ]
    page = html.unescape(unlocked.case_page(case_id))
    assert '<span class="status">Resolved</span> <span class="remedy-state">resolved, not confirmed</span>' in page
    assert "Back pay · 1500.50 CNY · 12 workers · by document" in page
    listing = html.unescape(unlocked.client.get("/cases").text)
    assert '<td class="remedy-state">resolved, not confirmed</td>' in listing
    for answer, label in (("yes", "resolved, confirmed by the worker"), ("partly", "disputed by the worker")):
        with cases_store(node) as store, store.transaction() as conn:
            conn.execute("UPDATE cases SET worker_confirmation = ? WHERE id = ?", (answer, case_id))
        assert label in html.unescape(unlocked.case_page(case_id))
        assert label in html.unescape(unlocked.client.get("/cases").text)


def test_case_outcomes_are_recorded_and_removed(node: Node, unlocked: Desk) -> None:
    case_id, _ = one_case(node)
    page = unlocked.case_page(case_id)
    done = unlocked.post(f"/cases/{case_id}/outcomes", {"kind": "documents_returned", "workers_covered": "30",
                                                         "verified_by": "worker"}, csrf=csrf_of(page))  # fmt: skip
    assert done.status_code == 303 and done.headers["location"] == f"/cases/{case_id}#remedy"
    [(outcome_id, kind, workers)] = _stored(node, "SELECT id, kind, workers_covered FROM case_outcomes")
    assert (kind, workers) == ("documents_returned", 30)
    assert "Documents returned · 30 workers · by the worker" in html.unescape(unlocked.case_page(case_id))
    empty = unlocked.post(f"/cases/{case_id}/outcomes", {"kind": ""}, csrf=csrf_of(page))
    assert empty.status_code == 400 and "Choose what kind of remedy it was." in empty.text
    gone = unlocked.post(f"/cases/{case_id}/outcomes/{outcome_id}/remove", {}, csrf=csrf_of(page))
    assert gone.status_code == 303 and _stored(node, "SELECT count(*) FROM case_outcomes") == [(0,)]
    again = unlocked.post(f"/cases/{case_id}/outcomes/{outcome_id}/remove", {}, csrf=csrf_of(page))
    assert again.status_code == 400
    forged = unlocked.post(f"/cases/{case_id}/outcomes", {"kind": "other"}, csrf="made-up")
    assert forged.status_code == 403 and _stored(node, "SELECT count(*) FROM case_outcomes") == [(0,)]
    details = [json.loads(str(r[5])) for r in audit_rows(node) if str(r[3]).startswith("outcome_")]
    assert [d["outcome_id"] for d in details] == [outcome_id, outcome_id]


def test_the_desk_shows_what_a_partner_waits_on(node: Node) -> None:
    with clock.use(clock.FixedClock(clock.now())) as fixed:
        case_id, _ = one_case(node)
        quiet, _ = one_case(node, "Another synthetic report, not shared")
        today = fixed.now().date()
        _step(node, case_id, (today + timedelta(days=3)).isoformat(), "brand")
        _step(node, quiet, (today + timedelta(days=1)).isoformat())
        with cases_store(node) as store, store.transaction() as conn:
            conn.execute(
                "INSERT INTO relay_reviews (case_id, approved_hash, approved_by, approved_at) VALUES (?, ?, ?, ?)",
                (case_id, "0" * 64, "admin", fixed.now().isoformat()),
            )
        for desk in open_desk(node):
            assert login(desk.client, node).status_code == 303
            listing = desk.client.get("/cases").text
            assert "A partner is waiting on these cases" not in listing, "nothing overdue yet"
            assert "Summary out of date" not in desk.case_page(case_id)
        fixed.advance(timedelta(days=8))  # the brand's step is 5 days overdue
        for desk in open_desk(node):
            assert login(desk.client, node).status_code == 303
            listing = html.unescape(desk.client.get("/cases").text)
            assert "A partner is waiting on these cases" in listing
            assert f"Case {case_id}</a>: step overdue by 5 days, who must act: Brand" in listing
            assert f"Case {quiet}</a>" not in listing, "no partner has that case"
            assert "Summary out of date: step overdue" in desk.case_page(case_id)
            assert "Summary out of date" not in desk.case_page(quiet)


def test_the_relay_pages_say_the_summary_is_out_of_date(node: Node) -> None:
    from relay.gate import Relay

    with clock.use(clock.FixedClock(clock.now())) as fixed:
        case_id, _ = one_case(node, consent=1)
        _step(node, case_id, (fixed.now().date() + timedelta(days=2)).isoformat())
        with cases_store(node) as store:
            relay = Relay(store, node.keys)
            relay.approve(case_id, relay.review(case_id).content_hash)
        fixed.advance(timedelta(days=4))
        for desk in open_desk(node):
            assert login(desk.client, node).status_code == 303
            label = "Summary out of date: step overdue; review it again"
            assert label in html.unescape(desk.client.get("/relay").text)
            page = html.unescape(desk.client.get(f"/cases/{case_id}/relay").text)
            assert label in page and "overdue by 2 days" in page
            assert 'name="hash"' in page, "the coordinator can approve the new summary"
