"""Case work on a real cases.db: the workflow's shape, validation, versions, notes, replies, contact.

The workflow (UNGP 31: predictable) is checked as a graph and, with hypothesis, as random walks of
moves a caseworker might try on a real case: every legal move is taken, every other is refused
with nothing changed.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intake.audit import AuditLog
from intake.domain import CaseStatus, Category, Channel, Report
from intake.drain import seal_contact
from intake.errors import CaseNotFound, InvalidInput
from intake.node import open_cases
from intake.store.cases import CasesStore
from intake.store.casework import BOARD, CLOSED, SEVERITIES, TRANSITIONS, CaseWork, Filters
from tests.conftest import Node, make_node

PHONE = "+639170000077"
counter = itertools.count(1)


# -- the workflow as a graph -------------------------------------------------------------------------


def reachable(start: CaseStatus) -> set[CaseStatus]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in TRANSITIONS[todo.pop()]:
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_every_status_is_reachable_from_new() -> None:
    assert set(TRANSITIONS) == set(CaseStatus)
    assert reachable(CaseStatus.NEW) == set(CaseStatus)


def test_closed_statuses_only_reopen_to_triaged() -> None:
    assert {CaseStatus.RESOLVED, CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN} == CLOSED
    for status in CLOSED:
        assert TRANSITIONS[status] == {CaseStatus.TRIAGED}, status


def test_the_workflow_is_well_formed() -> None:
    for status, moves in TRANSITIONS.items():
        assert status not in moves, f"{status} moves to itself"
        assert CaseStatus.NEW not in moves, "nothing goes back to new"
        assert reachable(status) & CLOSED, f"{status} can never be closed"
        if status not in CLOSED:
            assert {CaseStatus.CLOSED_UNRESOLVED, CaseStatus.WITHDRAWN} <= moves, "an open case can always end"
    # The worker's board follows every status, and a closed case shows as closed.
    assert set(BOARD) == set(CaseStatus)
    assert {BOARD[s].value for s in CLOSED} == {"closed"}
    assert {BOARD[s].value for s in set(CaseStatus) - CLOSED}.isdisjoint({"closed"})
    # The path a case normally takes.
    path = [CaseStatus.NEW, CaseStatus.TRIAGED, CaseStatus.INVESTIGATING, CaseStatus.REMEDY, CaseStatus.RESOLVED]
    for a, b in itertools.pairwise(path):
        assert b in TRANSITIONS[a], (a, b)


# -- on a real store ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Node, CasesStore]]:
    """One node and store for the module (node set-up is the slow part); each test makes its cases."""
    node = make_node(tmp_path_factory.mktemp("casework") / "node")
    store = open_cases(node.settings, node.keys)
    yield node, store
    store.close()


@pytest.fixture
def work(shared: tuple[Node, CasesStore]) -> CaseWork:
    node, store = shared
    return CaseWork(store, node.keys)


def new_case(work: CaseWork, description: str = "Wages paid late again.", *, phone: str = "", **fields: object) -> int:
    item_id = f"item-{next(counter):06d}"
    contact = seal_contact(work.keys, item_id.encode(), phone=phone, name="") if phone else None
    report = Report(channel=Channel.WEB, description=description, contact_ok=bool(phone), **fields)  # type: ignore[arg-type]
    return work.store.add_report(item_id, report, receipt_hash=None, reporter_link=None, contact=contact)


def snapshot(work: CaseWork, case_id: int) -> tuple[object, ...]:
    case = work.store.get_case(case_id)
    audit = work.store._conn.execute("SELECT count(*) FROM audit").fetchone()[0]
    notes = work.store._conn.execute("SELECT count(*) FROM notes WHERE case_id = ?", (case_id,)).fetchone()[0]
    replies = work.store._conn.execute("SELECT count(*) FROM replies WHERE case_id = ?", (case_id,)).fetchone()[0]
    return case, audit, notes, replies, work.store.contact(case_id)


def verified(work: CaseWork) -> None:
    result = AuditLog(work.store, work.keys).verify()
    assert result.ok, result.reason


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(moves=st.lists(st.sampled_from(list(CaseStatus)), max_size=12))
def test_random_walks_follow_the_transitions(work: CaseWork, moves: list[CaseStatus]) -> None:
    case_id = new_case(work, phone=PHONE)
    status, version = CaseStatus.NEW, 1
    for move in moves:
        before = snapshot(work, case_id)
        if move is status:
            change = work.update(case_id, seen_version=version, status=move.value)
            assert not change.conflict and change.board is None
            assert snapshot(work, case_id) == before, "no change, no new version, no audit entry"
        elif move in TRANSITIONS[status]:
            change = work.update(case_id, seen_version=version, status=move.value)
            assert not change.conflict
            assert change.case.status is move and change.case.version == version + 1
            status, version = move, version + 1
        else:
            with pytest.raises(InvalidInput):
                work.update(case_id, seen_version=version, status=move.value)
            assert snapshot(work, case_id) == before
        case = work.store.get_case(case_id)
        assert (case.status, case.version) == (status, version)
    was_closed = any(m in CLOSED for m in _taken(moves))
    assert (work.store.contact(case_id) is None) == was_closed, "closing shreds the contact, and only closing"


def _taken(moves: list[CaseStatus]) -> list[CaseStatus]:
    """The moves of a walk that were legal (and so taken)."""
    status, taken = CaseStatus.NEW, []
    for move in moves:
        if move in TRANSITIONS[status]:
            taken.append(move)
            status = move
    return taken


def test_invalid_updates_change_nothing(work: CaseWork) -> None:
    case_id = new_case(work, categories=[Category.WAGES])
    before = snapshot(work, case_id)
    bad: list[dict[str, object]] = [
        {"severity": "apocalyptic"},
        {"severity": "URGENT"},
        {"categories": ["wages", "not-a-category"]},
        {"categories": ["Wages"]},
        {"status": "deleted"},
        {"status": "NEW "},
        {"status": "resolved"},  # new -> resolved: not a move
        {"status": "investigating"},
        # One bad field spoils the whole change: the good ones are not half-applied.
        {"status": "triaged", "severity": "urgent", "categories": ["nope"]},
        {"status": "remedy", "severity": "urgent", "assignee": "desk1"},
        {"status": "triaged", "severity": "bad", "assignee": "desk1"},
    ]
    for fields in bad:
        with pytest.raises(InvalidInput) as caught:
            work.update(case_id, seen_version=1, **fields)  # type: ignore[arg-type]
        assert caught.value.fields, fields
        assert snapshot(work, case_id) == before, fields
    verified(work)


def test_versions_increment_once_per_saved_change(work: CaseWork) -> None:
    case_id = new_case(work)
    change = work.update(case_id, seen_version=1, severity="high", assignee="desk1")
    assert change.case.version == 2 and not change.conflict
    change = work.update(case_id, seen_version=2, categories=["wages", "wages", "working_hours"])
    assert change.case.version == 3
    assert [c.value for c in change.case.categories] == ["wages", "working_hours"]
    # The same values again: nothing to save, no new version, no audit entry.
    before = snapshot(work, case_id)
    change = work.update(
        case_id, seen_version=3, severity="high", assignee="desk1", categories=["wages", "working_hours"]
    )
    assert change.case.version == 3 and not change.conflict
    assert snapshot(work, case_id) == before
    # A stale form is saved too (last write wins), and flagged.
    change = work.update(case_id, seen_version=1, severity="low")
    assert change.conflict and change.case.version == 4 and change.case.severity == "low"
    entries = AuditLog(work.store, work.keys).entries(case_id=case_id)
    assert [e.action for e in entries] == ["update", "update", "update"]
    assert entries[0].detail["stale_form_version"] == 1 and entries[0].detail["was_severity"] == "high"
    for severity in SEVERITIES:
        work.update(case_id, seen_version=0, severity=severity)
        assert work.store.get_case(case_id).severity == severity
    verified(work)


def test_a_missing_case(work: CaseWork) -> None:
    with pytest.raises(CaseNotFound):
        work.update(999_999, seen_version=1, status="triaged")
    with pytest.raises(CaseNotFound):
        work.open_case(999_999)
    with pytest.raises(CaseNotFound):
        work.add_note(999_999, "text")
    with pytest.raises(CaseNotFound):
        work.add_reply(999_999, "text", sms=False)
    with pytest.raises(CaseNotFound):
        work.contact(999_999)


def test_notes_and_replies(work: CaseWork) -> None:
    case_id = new_case(work)
    before = snapshot(work, case_id)
    for bad in ("", "   \n ", "x" * 20_001):
        with pytest.raises(InvalidInput):
            work.add_note(case_id, bad)
    for bad in ("", "  ", "x" * 2001):
        with pytest.raises(InvalidInput):
            work.add_reply(case_id, bad, sms=False)
    assert snapshot(work, case_id) == before
    work.add_note(case_id, "  Called the clinic.  ")
    assert work.add_reply(case_id, "我们收到了。", sms=False) is None, "no receipt: no status board"
    case, entries = work.open_case(case_id)
    assert [(e.kind, e.text, e.user) for e in entries] == [
        ("note", "Called the clinic.", work.keys.user),
        ("reply", "我们收到了。", work.keys.user),
    ]
    assert case.id == case_id
    actions = [e.action for e in AuditLog(work.store, work.keys).entries(case_id=case_id)]
    assert actions == ["view", "reply", "note"]  # newest first
    verified(work)


def test_contact_is_readable_until_the_case_closes(work: CaseWork) -> None:
    case_id = new_case(work, phone=PHONE)
    assert work.contact(case_id) == (PHONE, "")
    no_contact = new_case(work)
    assert work.contact(no_contact) is None
    work.update(case_id, seen_version=1, status="triaged")
    assert work.contact(case_id) == (PHONE, "")
    change = work.update(case_id, seen_version=2, status="closed_unresolved")
    assert work.contact(case_id) is None and work.store.contact(case_id) is None
    assert change.case.contact_ok and not change.case.has_contact
    last = AuditLog(work.store, work.keys).entries(case_id=case_id)[0]
    assert last.detail["contact_shredded"] is True and last.detail["was_status"] == "triaged"
    work.update(case_id, seen_version=3, status="triaged")
    assert work.contact(case_id) is None, "reopening does not bring a shredded contact back"


def test_find(work: CaseWork, shared: tuple[Node, CasesStore]) -> None:
    zh = new_case(work, "宿舍太挤，二十个人一间房。", locale="zh_Hans", factory="示例电子厂")
    en = new_case(work, "The canteen deducts twice for one meal.", factory="Canteen Works Ltd")
    assert {c.id for c in work.find(Filters(q="二十个"))} == {zh}
    assert {c.id for c in work.find(Filters(q="宿舍"))} == {zh}
    assert {c.id for c in work.find(Filters(q="示例"))} == {zh}
    assert {c.id for c in work.find(Filters(q="deducts twice"))} == {en}
    assert en in {c.id for c in work.find(Filters(q="CANTEEN"))}
    assert work.find(Filters(q="never written anywhere")) == []
    work.update(en, seen_version=1, severity="urgent")
    found = work.find(Filters())
    assert found[0].id == en
    assert [c.id for c in found if c.severity != "urgent"] == sorted(
        (c.id for c in found if c.severity != "urgent"), reverse=True
    )
    assert {c.id for c in work.find(Filters(severity="urgent", locale="zh_Hans"))} == set()
    assert len(work.find(Filters(limit=1))) == 1
    found_case = next(c for c in work.find(Filters(q="宿舍")) if c.id == zh)
    assert found_case == work.store.get_case(zh).model_copy(update={"followups": [], "recordings": []})


def test_audit_entries_hold_codes_only(work: CaseWork, tmp_path: Path) -> None:
    case_id = new_case(work, "My badge number is 88231 and my phone +639170000077.", phone=PHONE)
    work.update(case_id, seen_version=1, status="triaged", severity="urgent", categories=["retaliation"])
    work.update(case_id, seen_version=2, assignee="Chen Li 陈")
    work.add_note(case_id, "Badge 88231, the supervisor shouted.")
    work.add_reply(case_id, "Please call us at +639170000077.", sms=True)
    work.open_case(case_id)
    rows = work.store._conn.execute("SELECT detail, user, action FROM audit WHERE case_id = ?", (case_id,)).fetchall()
    dump = json.dumps([list(r) for r in rows], ensure_ascii=False)
    for secret in ("88231", "639170000077", "badge", "Badge", "supervisor", "Chen", "陈", "Please"):
        assert secret not in dump, secret
    verified(work)


def test_a_change_racing_another_desk_is_checked_against_what_is_stored(
    work: CaseWork, shared: tuple[Node, CasesStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two desks (two connections): B writes between A's read of the case and A's write."""
    node, _store = shared
    other = open_cases(node.settings, node.keys)
    b = CaseWork(other, node.keys)
    real_get = work.store.get_case

    def race(b_change: dict[str, object]) -> None:
        calls: list[int] = []

        def get_then_race(cid: int) -> object:
            case = real_get(cid)
            if not calls:
                b.update(cid, seen_version=case.version, **b_change)  # type: ignore[arg-type]
            calls.append(cid)
            return case

        monkeypatch.setattr(work.store, "get_case", get_then_race)

    try:
        case_id = new_case(work, phone=PHONE)
        work.update(case_id, seen_version=1, status="triaged")
        work.update(case_id, seen_version=2, status="investigating")
        # investigating -> remedy was legal when A read the case; resolved -> remedy is not.
        race({"status": "resolved"})
        with pytest.raises(InvalidInput):
            work.update(case_id, seen_version=3, status="remedy")
        monkeypatch.undo()
        case = work.store.get_case(case_id)
        assert (case.status.value, case.version) == ("resolved", 4)
        assert work.store.contact(case_id) is None

        # A change that is still legal is saved on top of B's, flagged as a conflict; B's is in the log.
        case_id = new_case(work)
        race({"severity": "high", "status": "triaged"})
        change = work.update(case_id, seen_version=1, severity="urgent")
        monkeypatch.undo()
        assert change.conflict and change.case.version == 3
        assert (change.case.status.value, change.case.severity) == ("triaged", "urgent")
        last = AuditLog(work.store, work.keys).entries(case_id=case_id)[0]
        assert (last.detail["was_severity"], last.detail["from_version"]) == ("high", 2)
    finally:
        other.close()
    verified(work)


def test_consent_changes_on_the_workers_word_and_is_audited(work: CaseWork) -> None:
    case_id = new_case(work)
    assert int(work.store.get_case(case_id).consent) == 0
    version = work.store.get_case(case_id).version
    change = work.update(case_id, seen_version=version, consent=1)
    assert int(change.case.consent) == 1 and change.case.version == version + 1
    last = next(e for e in reversed(AuditLog(work.store, work.keys).entries()) if e.case_id == case_id)
    assert last.detail["consent"] == 1 and last.detail["was_consent"] == 0
    for bad in (3, -1):
        with pytest.raises(InvalidInput):
            work.update(case_id, seen_version=version + 1, consent=bad)
    assert int(work.store.get_case(case_id).consent) == 1
    assert work.update(case_id, seen_version=version + 1, consent=1).case.version == version + 1  # no change
    verified(work)


def test_the_overdue_filter_matches_the_stage_targets(tmp_path: Path) -> None:
    """Against a brute-force count over every case: each stage's target, order, limit, other filters."""
    from datetime import UTC, datetime, timedelta

    node = make_node(tmp_path / "node")
    store = open_cases(node.settings, node.keys)
    try:
        work = CaseWork(store, node.keys)
        now = datetime(2026, 6, 1, tzinfo=UTC)
        deadlines = {"new": 2, "triaged": 7, "investigating": 30, "remedy": 90}
        statuses = ["new", "triaged", "investigating", "remedy", "resolved"]
        expected: set[int] = set()
        for n in range(60):
            status = statuses[n % 5]
            since = now - timedelta(days=(n * 7) % 120, hours=1)
            case_id = new_case(work, f"Case {n} about overtime." if n % 2 else f"Case {n} about wages.")
            severity = ("urgent", "high", "normal", "low")[n % 4]
            store._conn.execute(
                "UPDATE cases SET status = ?, status_since = ?, severity = ? WHERE id = ?",
                (status, since.isoformat(), severity, case_id),
            )
            if status in deadlines and since < now - timedelta(days=deadlines[status]):
                expected.add(case_id)
        assert expected and len(expected) < 60, "some but not all are late"
        found = work.find(Filters(overdue=True), deadlines, now)
        assert {c.id for c in found} == expected
        rank = {"urgent": 0, "high": 1}
        assert [c.id for c in found] == [c.id for c in sorted(found, key=lambda c: (rank.get(c.severity, 2), -c.id))], (
            "urgent first, then newest"
        )
        assert [c.id for c in work.find(Filters(overdue=True, limit=5), deadlines, now)] == [c.id for c in found[:5]]
        triaged = {c.id for c in work.find(Filters(overdue=True, status="triaged"), deadlines, now)}
        assert triaged == {i for i in expected if store.get_case(i).status.value == "triaged"}
        assert work.find(Filters(overdue=True, status="resolved"), deadlines, now) == []
        searched = work.find(Filters(overdue=True, q="overtime"), deadlines, now)
        assert {c.id for c in searched} == {i for i in expected if "overtime" in store.get_case(i).description}
        assert [c.id for c in searched] == sorted((c.id for c in searched), reverse=True), "search: newest first"
        assert work.find(Filters(overdue=True), {}, now) == [], "no targets, nothing overdue"
    finally:
        store.close()
