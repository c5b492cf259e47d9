"""Remedy outcomes (issue 15 item 1): parsing with clear errors, a CAP step's outcome and a case's, the
remedy state, the cases a partner waits on as the clock moves, and every change in the audit log.

Real SQLCipher stores of a throwaway node; synthetic data only.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from intake import clock
from intake.domain import RemedyKind, RemedyOutcome, RemedyState, Verification, remedy_state
from intake.errors import InvalidInput
from intake.remedy import parse_outcome
from intake.store.actions import Actions
from intake.store.cases import CasesStore
from intake.store.casework import CaseWork
from intake.store.remedy import OVERDUE_SQL, CaseRemedy
from tests.conftest import Node
from tests.intake.desk import audit_rows, cases_store, verify
from tests.intake.desk.test_desk_app import one_case
from tests.intake.store.test_stores import KEY

BACK_PAY = parse_outcome("back_pay", "1500.50", "cny", "3", "document")


@pytest.fixture
def work(node: Node) -> Iterator[CaseWork]:
    with cases_store(node) as store:
        yield CaseWork(store, node.keys)


def _audit(node: Node, action: str) -> list[dict[str, object]]:
    # audit columns: id, at, user, action, case_id, detail, prev_hash, hash
    return [json.loads(str(r[5])) for r in audit_rows(node) if r[3] == action]


# -- parsing ------------------------------------------------------------------------------------------


def test_a_good_outcome_is_parsed_exactly() -> None:
    assert BACK_PAY.kind is RemedyKind.BACK_PAY
    assert BACK_PAY.amount == Decimal("1500.50") and BACK_PAY.currency == "CNY"
    assert BACK_PAY.workers_covered == 3 and BACK_PAY.verified_by is Verification.DOCUMENT
    assert BACK_PAY.model_dump(mode="json")["amount"] == "1500.50", "an exact decimal, as text"
    plain = parse_outcome("reinstatement", "", "USD")  # a currency with no amount says nothing
    assert plain.amount is None and plain.currency == "" and plain.verified_by is Verification.NOT_VERIFIED


@pytest.mark.parametrize(
    ("args", "fields"),
    [
        (("",), {"kind": "missing"}),
        (("bonus",), {"kind": "invalid"}),
        (("back_pay", "-5", "USD"), {"amount": "negative"}),
        (("back_pay", "- 5", "USD"), {"amount": "negative"}),
        (("back_pay", "abc", "USD"), {"amount": "not_a_number"}),
        (("back_pay", "1,500", "USD"), {"amount": "not_a_number"}),
        (("back_pay", "1e3", "USD"), {"amount": "not_a_number"}),
        (("back_pay", "NaN", "USD"), {"amount": "not_a_number"}),
        (("back_pay", "1.23456", "USD"), {"amount": "not_a_number"}),
        (("back_pay", "٣٠٠", "USD"), {"amount": "not_a_number"}),
        (("back_pay", "10000000000000", "USD"), {"amount": "not_a_number"}),
        (("back_pay", "100", ""), {"currency": "missing"}),
        (("back_pay", "100", "ABC"), {"currency": "unknown"}),
        (("back_pay", "100", "XXX"), {"currency": "unknown"}),
        (("back_pay", "100", "US"), {"currency": "unknown"}),
        (("reinstatement", "100", "USD"), {"amount": "not_money"}),
        (("back_pay", "", "", "0"), {"workers_covered": "invalid"}),
        (("back_pay", "", "", "-1"), {"workers_covered": "invalid"}),
        (("back_pay", "", "", "two"), {"workers_covered": "invalid"}),
        (("back_pay", "", "", "1000001"), {"workers_covered": "invalid"}),
        (("back_pay", "", "", "1", "hearsay"), {"verified_by": "invalid"}),
        (("bonus", "-1", "ABC", "0"), {"kind": "invalid", "amount": "negative", "currency": "unknown",
                                       "workers_covered": "invalid"}),
    ],
)  # fmt: skip
def test_bad_outcomes_are_refused_naming_each_field(args: tuple[str, ...], fields: dict[str, str]) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_outcome(*args)
    assert caught.value.fields == fields


@pytest.mark.parametrize(
    "doc",
    [
        {"kind": "back_pay", "amount": "-1", "currency": "USD"},
        {"kind": "back_pay", "amount": "10"},
        {"kind": "back_pay", "amount": "10", "currency": "ZZZ"},
        {"kind": "back_pay", "currency": "USD"},
        {"kind": "safety_fix", "amount": "10", "currency": "USD"},
        {"kind": "back_pay", "workers_covered": 0},
        {"kind": "back_pay", "amount": "Infinity", "currency": "USD"},
        {"kind": "back_pay", "extra": 1},
    ],
)
def test_the_model_refuses_the_same_as_a_last_line(doc: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        RemedyOutcome.model_validate(doc)


def test_the_remedy_state_of_a_case() -> None:
    assert remedy_state("investigating", None) is None
    assert remedy_state("remedy", None) is RemedyState.IN_REMEDY
    assert remedy_state("resolved", None) is RemedyState.RESOLVED_UNCONFIRMED
    assert remedy_state("resolved", "yes") is RemedyState.RESOLVED_CONFIRMED
    assert remedy_state("resolved", "partly") is RemedyState.DISPUTED
    assert remedy_state("triaged", "no") is RemedyState.DISPUTED, "reopened after a 'no': still disputed"
    assert remedy_state("withdrawn", "no") is None
    assert remedy_state("closed_unresolved", None) is None


# -- a CAP step's outcome -------------------------------------------------------------------------------


def test_a_step_done_with_its_outcome_then_corrected_then_undone(node: Node, work: CaseWork) -> None:
    case_id, _ = one_case(node)
    plan = Actions(work)
    step = plan.add(case_id, "Pay the missing overtime", "employer", "2030-01-31")
    assert plan.set_done(case_id, step, True, BACK_PAY)
    [a] = plan.plan(case_id)
    assert a.done and a.outcome == BACK_PAY
    row = work.store._conn.execute(
        "SELECT remedy_kind, remedy_amount, remedy_currency, remedy_workers, remedy_verified_by FROM actions"
    ).fetchone()
    assert tuple(row) == ("back_pay", "1500.50", "CNY", 3, "document"), "countable columns, exact amount"
    assert not plan.set_done(case_id, step, True), "done again without an outcome changes nothing"
    assert plan.set_done(case_id, step, True, BACK_PAY) is False, "the same outcome again changes nothing"
    fixed = parse_outcome("back_pay", "1600", "CNY", "4", "worker")
    assert plan.set_done(case_id, step, True, fixed)
    assert plan.plan(case_id)[0].outcome == fixed
    assert plan.set_done(case_id, step, False)
    [a] = plan.plan(case_id)
    assert not a.done and a.outcome is None, "not done after all: no outcome either"
    with pytest.raises(InvalidInput):
        plan.set_done(case_id, step, False, BACK_PAY)
    with pytest.raises(InvalidInput):
        plan.set_done(case_id, 999, True, BACK_PAY)
    done = _audit(node, "action_done")
    assert done[0] == {"action_id": step, "kind": "back_pay", "money": "CNY:1500.50", "workers_covered": 3,
                       "verified_by": "document"}  # fmt: skip
    changed = _audit(node, "action_outcome")
    assert changed == [{"action_id": step, "was_kind": "back_pay", "was_money": "CNY:1500.50",
                        "was_workers_covered": 3, "was_verified_by": "document", "kind": "back_pay",
                        "money": "CNY:1600", "workers_covered": 4, "verified_by": "worker"}]  # fmt: skip
    assert _audit(node, "action_undone")[0]["was_money"] == "CNY:1600"
    assert verify(node).ok
    assert "Pay the missing overtime" not in json.dumps([[str(c) for c in r] for r in audit_rows(node)])


# -- a case's outcomes and state ------------------------------------------------------------------------


def test_case_outcomes_are_stored_listed_removed_and_audited(node: Node, work: CaseWork) -> None:
    case_id, _ = one_case(node)
    remedy = CaseRemedy(work)
    first = remedy.add(case_id, BACK_PAY)
    second = remedy.add(case_id, parse_outcome("safety_fix", workers_covered="120", verified_by="group_visit"))
    listed = remedy.outcomes(case_id)
    assert [o.id for o in listed] == [first, second]
    assert listed[0].outcome == BACK_PAY and listed[1].outcome.workers_covered == 120
    remedy.remove(case_id, first)
    assert [o.id for o in remedy.outcomes(case_id)] == [second]
    with pytest.raises(InvalidInput):
        remedy.remove(case_id, first)
    other, _ = one_case(node, "Another synthetic report about the dormitory")
    with pytest.raises(InvalidInput):
        remedy.remove(other, second)  # not that case's outcome
    assert [d["outcome_id"] for d in _audit(node, "outcome_add")] == [first, second]
    assert _audit(node, "outcome_remove")[0]["was_money"] == "CNY:1500.50"
    big = remedy.add(case_id, parse_outcome("back_pay", "1500000000000.25", "VND", "400"))  # dong: 16 digits
    assert _audit(node, "outcome_add")[-1] == {"outcome_id": big, "kind": "back_pay",
                                               "money": "VND:1500000000000.25", "workers_covered": 400,
                                               "verified_by": "not_verified"}  # fmt: skip
    assert verify(node).ok


def test_resolving_asks_the_worker_anew(node: Node, work: CaseWork) -> None:
    case_id, _ = one_case(node)
    remedy = CaseRemedy(work)
    for status in ("triaged", "investigating", "remedy"):
        work.update(case_id, seen_version=work.store.get_case(case_id).version, status=status)
    assert remedy.states([case_id]) == {case_id: RemedyState.IN_REMEDY}
    work.update(case_id, seen_version=work.store.get_case(case_id).version, status="resolved")
    assert remedy.states([case_id]) == {case_id: RemedyState.RESOLVED_UNCONFIRMED}
    _confirm(work.store, case_id, "yes")  # what the worker-confirmation channel will write
    assert remedy.states([case_id]) == {case_id: RemedyState.RESOLVED_CONFIRMED}
    _confirm(work.store, case_id, "no")
    assert remedy.states([case_id]) == {case_id: RemedyState.DISPUTED}
    work.update(case_id, seen_version=work.store.get_case(case_id).version, status="triaged")
    assert remedy.states([case_id]) == {case_id: RemedyState.DISPUTED}
    for status in ("investigating", "resolved"):
        work.update(case_id, seen_version=work.store.get_case(case_id).version, status=status)
    assert remedy.confirmation(case_id) is None, "a new resolution: the old answer no longer holds"
    assert remedy.states([case_id]) == {case_id: RemedyState.RESOLVED_UNCONFIRMED}
    resolved = [d for d in _audit(node, "update") if d.get("status") == "resolved"]
    assert resolved[-1]["was_worker_confirmation"] == "no"
    with pytest.raises(Exception, match="CHECK"):
        _confirm(work.store, case_id, "maybe")


def _confirm(store: CasesStore, case_id: int, answer: str) -> None:
    with store.transaction() as conn:
        conn.execute("UPDATE cases SET worker_confirmation = ? WHERE id = ?", (answer, case_id))


# -- escalation: what a partner waits on, as the clock moves ---------------------------------------------


def _approve(store: CasesStore, case_id: int, at: datetime) -> None:
    """What relay.gate records when a coordinator approves a case's summary (tests/relay covers the gate)."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO relay_reviews (case_id, approved_hash, approved_by, approved_at) VALUES (?, ?, ?, ?)",
            (case_id, "0" * 64, "admin", at.isoformat()),
        )


def test_a_partner_waits_on_a_shared_case_once_a_step_is_overdue(node: Node, work: CaseWork) -> None:
    start = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    shared, _ = one_case(node)
    private, _ = one_case(node, "A synthetic report nobody shares")
    plan, remedy = Actions(work), CaseRemedy(work)
    plan.add(shared, "Refund the recruitment fees", "employer", "2031-03-10")
    brand = plan.add(shared, "Confirm the refund", "brand", "2031-03-05")
    plan.add(private, "Fix the fire exit", "employer", "2031-03-02")
    _approve(work.store, shared, start)
    with clock.use(clock.FixedClock(start)) as fixed:
        assert remedy.waiting_on() == [], "nothing overdue yet"
        fixed.advance(timedelta(days=6))  # 7 March: the brand's step is two days late
        [w] = remedy.waiting_on()
        assert (w.case_id, w.reason, w.days, w.who) == (shared, "step_overdue", 2, ("brand",))
        fixed.advance(timedelta(days=10))  # 17 March: both late, counted from the oldest
        [w] = remedy.waiting_on()
        assert (w.days, w.who) == (12, ("brand", "employer"))
        plan.set_done(shared, brand, True)
        assert remedy.waiting_on()[0].days == 7, "the employer's step, due 10 March"
    assert remedy.waiting_on(date(2031, 3, 10)) == [], "due today is not overdue yet"
    assert all(w.case_id != private for w in remedy.waiting_on(date(2031, 4, 1))), "no partner has it"


def test_a_partner_question_no_summary_answered_comes_first(node: Node, work: CaseWork) -> None:
    late, _ = one_case(node)
    asked, _ = one_case(node, "A second synthetic report")
    Actions(work).add(late, "Pay the overtime", "employer", "2031-01-10")
    _approve(work.store, late, datetime(2031, 1, 1, tzinfo=UTC))
    _approve(work.store, asked, datetime(2031, 1, 1, tzinfo=UTC))
    with work.store.transaction() as conn:
        exists = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'partner_messages'").fetchone()
        if exists is None:
            pytest.skip("partner_messages (issue 15 item 4) is not in this tree")
        for n, (kind, at) in enumerate([("update_request", "2031-01-20T08:00:00+00:00"),
                                        ("question", "2030-12-20T08:00:00+00:00")]):  # fmt: skip
            conn.execute(
                "INSERT INTO partner_messages (case_id, partner, partner_key, kind, text, created_at, received_at, "
                "envelope_id, sequence, via) VALUES (?, 'monitor', ?, ?, 'synthetic', ?, ?, ?, ?, 'https')",
                (asked, b"k" * 32, kind, at, at, f"m{n}", n + 1),
            )
    waiting = CaseRemedy(work).waiting_on(date(2031, 1, 25))
    assert [(w.case_id, w.reason) for w in waiting] == [(asked, "update_request"), (late, "step_overdue")]
    assert waiting[0].days == 5 and waiting[0].who == ("monitor",), "the question before approval was answered"


def _overdue(conn: Any, sql: str, today: str, limit: int) -> list[tuple[int, str, tuple[str, ...]]]:
    """The overdue rows, ``who`` sorted (group_concat's order follows the plan, waiting_on sorts it)."""
    return [(int(c), str(d), tuple(sorted(str(w).split(",")))) for c, d, w in conn.execute(sql, (today, limit))]


def test_the_overdue_steps_index_gives_what_a_scan_of_every_step_gives(tmp_path: Path) -> None:
    """Cases migration 18's partial index of open steps answers exactly as the query did on every step."""
    rng = random.Random(14)
    whos = ["employer", "brand", "supplier", "union"]
    with closing(CasesStore(tmp_path / "cases.db", KEY, create=True)) as store, store.transaction() as conn:
        for case_id in range(1, 301):
            conn.execute(
                "INSERT INTO cases (id, created_at, channel, locale, status_since) VALUES (?, ?, 'web', 'en', ?)",
                (case_id, "2031-01-01T00:00:00+00:00", "2031-01-01T00:00:00+00:00"),
            )
            if rng.random() < 0.5:
                approved = rng.choice(["", "0" * 64])
                conn.execute(
                    "INSERT INTO relay_reviews (case_id, approved_hash, approved_at) VALUES (?, ?, ?)",
                    (case_id, approved, "2031-01-02T00:00:00+00:00" if approved else ""),
                )
        for _ in range(2000):
            due = date(2031, 1, 1) + timedelta(days=rng.randint(0, 120))
            done = rng.choice(["", "", "2031-02-01T00:00:00+00:00"])
            conn.execute(
                "INSERT INTO actions (case_id, action, who, due, done_at, created_at, user) "
                "VALUES (?, 'A synthetic step', ?, ?, ?, '2031-01-01T00:00:00+00:00', 'admin')",
                (rng.randint(1, 300), rng.choice(whos), due.isoformat(), done),
            )
        scan = OVERDUE_SQL.replace("FROM actions a ", "FROM actions a NOT INDEXED ")
        assert scan != OVERDUE_SQL
        compared = 0
        for today in ("2030-12-31", "2031-01-15", "2031-02-20", "2031-05-01", "2032-01-01"):
            for limit in (1, 7, 100, 1000):
                got = _overdue(conn, OVERDUE_SQL, today, limit)
                assert got == _overdue(conn, scan, today, limit), (today, limit)
                compared += len(got)
        assert compared > 500, "the random store has overdue shared steps to compare"


def test_the_cases_a_partner_waits_on_are_read_from_the_open_steps_only(tmp_path: Path) -> None:
    """The overdue query (every GET /cases) reads the open steps' covering index, never every step
    of the store (a scan took 43 ms at 1,000,000 cases)."""
    with closing(CasesStore(tmp_path / "cases.db", KEY, create=True)) as store:
        rows = store._conn.execute("EXPLAIN QUERY PLAN " + OVERDUE_SQL, ("2031-01-01", 100)).fetchall()
    steps = [str(row[-1]) for row in rows if " a " in f" {row[-1]} "]
    assert steps, rows
    assert all("COVERING INDEX actions_open_by_case" in s for s in steps), steps
