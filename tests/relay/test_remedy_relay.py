"""Remedy and escalation in the relay (issue 15 items 1 and 5): the summary's outcomes, remedy state and
overdue steps; approvals made before stay valid; a step going overdue makes the approved summary out
of date (never sent without approval); the partner keeps the fields and lists by days overdue.

Real nodes (SQLCipher cases.db), a real partner home and the USB-folder transport; the clock is moved
with intake.clock's FixedClock.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from intake import clock
from intake.domain import RemedyState
from intake.remedy import parse_outcome
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from intake.store.remedy import CaseRemedy
from relay.gate import Relay
from relay.partner.inbox import import_folder
from relay.partner.store import open_pending
from relay.summary import CaseSummary, canonical
from relay.transport import export
from tests.conftest import Node, make_node
from tests.relay.conftest import Partner, file_case
from tests.relay.test_partner import register

START = datetime(2031, 5, 4, 10, 0, tzinfo=UTC)


def _move(relay: Relay, case_id: int, *statuses: str) -> None:
    work = CaseWork(relay.store, relay.keys)
    for status in statuses:
        work.update(case_id, seen_version=relay.store.get_case(case_id).version, status=status)


def _deliver(relay: Relay, partner: Partner, usb: Path) -> list[CaseSummary]:
    """Carry what is queued to the partner on a USB stick and open it there; the summaries opened."""
    export(relay, usb)
    import_folder(partner.home, usb)
    store = partner.home.open_db(partner.keys)
    try:
        outcomes = open_pending(partner.home, partner.keys, store)
        # A stick carries everything not yet receipted: what an earlier stick brought is a replay.
        assert all(o.ok or o.reason == "replayed" for o in outcomes), [o.reason for o in outcomes]
        return [v.summary for v in (store.history(o.case_ref)[-1] for o in outcomes if o.ok)]
    finally:
        store.close()


def test_a_resolved_case_carries_its_outcomes_to_the_partner(tmp_path: Path, partner: Partner) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner)
    case_id = file_case(node)
    work = CaseWork(relay.store, relay.keys)
    plan = Actions(work)
    with clock.use(clock.FixedClock(START)):
        step = plan.add(case_id, "Repay the deductions", "employer", "2031-06-30")
        _move(relay, case_id, "triaged", "investigating", "remedy")
        assert relay.review(case_id).draft.summary.remedy_state is RemedyState.IN_REMEDY
        plan.set_done(case_id, step, True, parse_outcome("back_pay", "1500.50", "CNY", "12", "document"))
        CaseRemedy(work).add(case_id, parse_outcome("policy_change", verified_by="group_visit", workers_covered="300"))
        _move(relay, case_id, "resolved")
        relay.approve(case_id, relay.review(case_id).content_hash)
    [summary] = _deliver(relay, partner, tmp_path / "usb")
    doc = json.loads(summary.to_bytes())
    assert doc["remedy_state"] == "resolved_unconfirmed"
    assert doc["remedy"][0]["done_on"] == "2031-05-04"
    assert doc["remedy"][0]["outcome"] == {
        "kind": "back_pay", "amount": "1500.50", "currency": "CNY", "workers_covered": 12,
        "verified_by": "document", "done_on": "2031-05-04",
    }  # fmt: skip
    assert doc["outcomes"] == [{
        "kind": "policy_change", "amount": None, "currency": "", "workers_covered": 300,
        "verified_by": "group_visit", "done_on": "2031-05-04",
    }]  # fmt: skip
    assert "overdue_steps" not in doc, "nothing overdue: the field is left out"
    # The worker confirms (the later channel fills the column): the summary changes, needs approval again.
    with relay.store.transaction() as conn:
        conn.execute("UPDATE cases SET worker_confirmation = 'yes' WHERE id = ?", (case_id,))
    review = relay.review(case_id)
    assert review.state == "changed" and review.draft.summary.remedy_state is RemedyState.RESOLVED_CONFIRMED
    assert {c: s for c, s, *_ in relay.reviews()}[case_id] == "changed", "the list agrees with the page"
    relay.store.close()


def test_a_summary_without_remedy_data_is_byte_for_byte_as_before(node: Node, relay: Relay) -> None:
    case_id = file_case(node)
    Actions(CaseWork(relay.store, relay.keys)).add(case_id, "Pay the overtime owed", "employer", "2099-12-31")
    summary = relay.review(case_id).draft.summary
    old = summary.model_dump(mode="json", exclude={"outcomes", "remedy_state", "overdue_steps", "full_sharing"})
    [step] = old["remedy"]
    assert step.pop("done_on") is None and step.pop("outcome") is None
    assert summary.to_bytes() == canonical(old)
    assert CaseSummary.model_validate_json(canonical(old)) == summary, "an old summary still opens"
    old["case_ref"], old["node_id"] = "", ""
    assert summary.content_hash() == hashlib.sha256(canonical(old)).hexdigest(), "approvals made before still hold"
    # The list's cheap digest of a summary's inputs is also the one stored before issue 15.
    with relay.store._lock:
        facts, _ = relay.gate._facts(relay.store._conn, case_id, None)
    added = ("factory", "action_remedy", "outcomes", "worker_confirmation", "consent")  # consent: item 6's
    before = {k: v for k, v in facts.__dict__.items() if k not in added}
    doc = {"facts": before, "factory": None, "names": [], "contact": False, "patterns": []}
    old_digest = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False).encode()).hexdigest()
    assert relay.gate._inputs(facts, [], False) == old_digest


def test_an_overdue_step_makes_the_approved_summary_out_of_date(tmp_path: Path, partner: Partner) -> None:
    node = make_node(tmp_path / "node")
    relay = register(node, partner)
    late, calm = file_case(node), file_case(node, factory="Another Example Factory")
    plan = Actions(CaseWork(relay.store, relay.keys))
    with clock.use(clock.FixedClock(START)) as fixed:
        plan.add(late, "Return the passports", "employer", "2031-05-10")
        plan.add(late, "Tell suppliers the policy", "brand", "2031-05-20")
        plan.add(calm, "Fix the fire exit", "employer", "2031-09-01")
        for case_id in (late, calm):
            _move(relay, case_id, "triaged", "investigating", "remedy")
            assert relay.approve(case_id, relay.review(case_id).content_hash) == 1
        first = {s.factory.name: s for s in _deliver(relay, partner, tmp_path / "usb1")}
        assert all(not s.overdue_steps for s in first.values())
        fixed.advance(timedelta(days=6))  # 10 May: due today, not overdue yet
        assert relay.review(late).state == "approved"
        fixed.advance(timedelta(days=3))  # 13 May: the employer's step is 3 days overdue
        review = relay.review(late)
        assert review.state == "step_overdue", "the partner was not told: out of date"
        assert {c: s for c, s, *_ in relay.reviews()}[late] == "step_overdue", "the list agrees"
        assert relay.reviews()[0][0] == late, "listed first, with the changed ones"
        assert relay.review(calm).state == "approved"
        assert len(relay.outbox()) == 2, "nothing re-sent without a coordinator's approval"
        steps = review.draft.summary.overdue_steps
        assert [(s.step, s.who, s.due, s.days_overdue) for s in steps] == [(0, "employer", date(2031, 5, 10), 3)]
        relay.approve(late, review.content_hash)
        fixed.advance(timedelta(days=1))  # 14 May: one more day overdue, nothing else new
        assert relay.review(late).state == "approved", "the days overdue alone do not ask for approval daily"
        assert {c: s for c, s, *_ in relay.reviews()}[late] == "approved"
        fixed.advance(timedelta(days=7))  # 21 May: the brand's step is late too
        assert relay.review(late).state == "step_overdue"
        [sent] = _deliver(relay, partner, tmp_path / "usb2")
    doc = json.loads(sent.to_bytes())
    assert doc["overdue_steps"] == [{"step": 0, "who": "employer", "due": "2031-05-10", "days_overdue": 3}]
    assert doc["remedy_state"] == "in_remedy"
    # The partner's list: longest overdue first, counted on the partner's own day from the plan.
    store = partner.home.open_db(partner.keys)
    try:
        ranked = store.by_overdue(date(2031, 5, 25))
        assert [(v.summary.factory.name, days) for v, _n, days in ranked] == [
            (sent.factory.name, 15), (first["Another Example Factory"].factory.name, 0),
        ]  # fmt: skip
        assert ranked[0][1] == 2, "two versions of the late case arrived"
        assert [s.who for s in ranked[0][0].summary.overdue_as_of(date(2031, 5, 25)).overdue_steps] == [
            "employer", "brand",
        ]  # fmt: skip
    finally:
        store.close()
    relay.store.close()


def _summary_doc() -> dict[str, object]:
    """A valid summary as a node from before issue 15 sent it (no remedy fields)."""
    return {
        "format": "grievance-intake/summary/v1", "node_id": "n1", "case_ref": "a" * 16, "language": "en",
        "factory": {"name": "Example Electronics"}, "categories": ["wages"], "severity": "normal",
        "first_reported": "2031-01", "workers_affected": "2-9", "status": "remedy",
        "remedy": [{"action": "Pay the overtime", "who": "employer", "due": "2031-02-01", "done": False}],
        "narrative": "synthetic",
    }  # fmt: skip


@pytest.mark.parametrize(
    "change",
    [
        {"outcomes": [{"kind": "back_pay", "amount": "-10", "currency": "USD"}]},
        {"outcomes": [{"kind": "back_pay", "amount": "10"}]},
        {"outcomes": [{"kind": "back_pay", "amount": "10", "currency": "QQQ"}]},
        {"outcomes": [{"kind": "back_pay", "amount": "ten", "currency": "USD"}]},
        {"outcomes": [{"kind": "bonus"}]},
        {"outcomes": [{"kind": "back_pay", "workers_covered": 0}]},
        {"outcomes": [{"kind": "reinstatement", "amount": "5", "currency": "USD"}]},
        {"remedy_state": "fine"},
        {"overdue_steps": [{"step": 0, "who": "factory", "due": "2031-02-01", "days_overdue": 3}]},
        {"overdue_steps": [{"step": 0, "who": "employer", "due": "2031-02-01", "days_overdue": 0}]},
        {"overdue_steps": [{"step": -1, "who": "employer", "due": "2031-02-01", "days_overdue": 2}]},
    ],
)
def test_a_summary_with_bad_remedy_fields_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):  # the opener files it under rejected as bad_summary
        CaseSummary.model_validate_json(canonical({**_summary_doc(), **change}))


def test_the_partner_store_keeps_old_and_new_summaries(partner: Partner) -> None:
    old = _summary_doc()
    new = {**_summary_doc(), "case_ref": "b" * 16, "remedy_state": "disputed",
           "outcomes": [{"kind": "back_pay", "amount": "99.5", "currency": "MXN", "workers_covered": 4,
                         "verified_by": "worker", "done_on": "2031-02-03"}]}  # fmt: skip
    store = partner.home.open_db(partner.keys)
    try:
        with store.transaction() as conn:
            for n, doc in enumerate((old, new), 1):
                conn.execute(
                    "INSERT INTO summaries (envelope_id, node_key, node_name, sequence, case_ref, created_at, "
                    "opened_at, via, payload) VALUES (?, ?, 'north', ?, ?, ?, ?, 'folder', ?)",
                    (f"e{n}", b"k" * 32, n, doc["case_ref"], START.isoformat(), START.isoformat(), json.dumps(doc)),
                )
        ranked = store.by_overdue(date(2031, 2, 11))
    finally:
        store.close()
    by_ref = {v.summary.case_ref: (v.summary, days) for v, _n, days in ranked}
    kept, days = by_ref["a" * 16]
    assert days == 10 and kept.outcomes == [] and kept.remedy_state is None, "a summary stored before still reads"
    kept, _ = by_ref["b" * 16]
    assert kept.remedy_state is RemedyState.DISPUTED and str(kept.outcomes[0].amount) == "99.5"
    assert kept.outcomes[0].done_on == date(2031, 2, 3)
