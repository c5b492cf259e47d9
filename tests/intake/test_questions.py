"""Status-board questions in the core (issue 15): their vocabulary, the check-in setting, and the drain
of sealed answers: applied once, odd ones left unreadable in the inbox, an answer drained twice
(a crash between commit and delete) changing nothing the second time."""

from __future__ import annotations

import pytest

from intake import questions
from intake.answers import accept_answer, post_questions
from intake.domain import CaseStatus, Channel, Report
from intake.errors import SettingsError
from intake.node import open_cases, open_inbox
from intake.services import IntakeService, _seal, accept_report
from intake.settings import Settings
from intake.store.answers import NewQuestion, WorkerQuestions
from intake.store.board_questions import PostedQuestion
from intake.store.casework import CaseWork
from tests.conftest import Node, drain_node


def test_each_kind_takes_its_own_answers() -> None:
    assert [questions.meaning("confirm", n) for n in (0, 1, 2, 3, 4)] == [None, "yes", "partly", "no", None]
    assert [questions.meaning("retaliation", n) for n in (1, 2, 3)] == ["no", "yes", None]
    assert questions.meaning("confirm", True) is None  # type: ignore[arg-type]
    assert questions.meaning("nonsense", 1) is None
    asked = questions.ask("q1", "confirm", "no_such_subject", "en")
    assert asked.text == "Has this happened: the remedy agreed for your case?"


@pytest.mark.parametrize(
    "value, days", [("30,90", [30, 90]), ("90, 30, 30", [30, 90]), ("", []), ("7", [7]), (" 365 ", [365])]
)
def test_check_in_days(tmp_path, value: str, days: list[int]) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.load(tmp_path, env={"INTAKE_RETALIATION_CHECKIN_DAYS": value})
    assert settings.checkin_days() == days


@pytest.mark.parametrize("value", ["0", "30,x", "-5", "4000", "1,2,3,4,5,6,7,8,9,10,11", "３０"])
def test_bad_check_in_days_stop_the_node_with_a_clear_message(tmp_path, value: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match="retaliation_checkin_days"):
        Settings.load(tmp_path, env={"INTAKE_RETALIATION_CHECKIN_DAYS": value})


def _asked_case(node: Node, service: IntakeService) -> tuple[int, str]:
    receipt = accept_report(service, Report(channel=Channel.WEB, description="Our passports are kept."))
    _, cases = drain_node(node)
    case_id = cases[0].id
    store = open_cases(node.settings, node.keys)
    try:
        WorkerQuestions(CaseWork(store, node.keys)).record(
            case_id, [NewQuestion("drainQ7Wm2KpLr9T", questions.QuestionKind.CONFIRM, "case", cases[0].created_at)]
        )
    finally:
        store.close()
    board = bytes(service.receipts.hash(receipt))
    post_questions(service.inbox, [PostedQuestion("drainQ7Wm2KpLr9T", board, "confirm", "case", 0)])
    return case_id, receipt


def test_an_answer_drained_twice_changes_nothing_the_second_time(node: Node, service: IntakeService) -> None:
    case_id, receipt = _asked_case(node, service)
    assert accept_answer(service, receipt, "drainQ7Wm2KpLr9T", 3, Channel.API, "en")
    [(_seq, item_id, blob)] = service.inbox.items()
    result, _ = drain_node(node)
    assert (result.followups, result.unreadable) == (1, 0)
    inbox = open_inbox(node.settings)
    try:  # the same item again, as after a crash between the drain's commit and its delete
        inbox.put(item_id, blob)
    finally:
        inbox.close()
    again, _ = drain_node(node)
    assert (again.already, again.followups) == (1, 0)
    store = open_cases(node.settings, node.keys)
    try:
        audit = store._conn.execute("SELECT count(*) FROM audit WHERE action = 'worker_answer'").fetchone()[0]
        status = store.get_case(case_id).status
    finally:
        store.close()
    assert audit == 1 and status is CaseStatus.NEW


def test_a_second_answer_item_to_an_answered_question_changes_nothing(node: Node, service: IntakeService) -> None:
    """Two items for one question (an intake restored from a backup, say): the first answer stands."""
    case_id, receipt = _asked_case(node, service)
    board = service.receipts.hash(receipt)
    for value in (1, 3):
        doc = {"kind": "answer", "receipt_hash": bytes(board).hex(), "question": "drainQ7Wm2KpLr9T",
               "question_kind": "confirm", "answer": value, "channel": "web", "locale": "en",
               "received_at": "2031-03-02T09:00:00+00:00"}  # fmt: skip
        service.inbox.put(*_seal(service, doc))
    result, _ = drain_node(node)
    assert result.unreadable == 0
    store = open_cases(node.settings, node.keys)
    try:
        row = store._conn.execute("SELECT worker_confirmation FROM cases WHERE id = ?", (case_id,)).fetchone()
    finally:
        store.close()
    assert row[0] == "yes"


@pytest.mark.parametrize(
    "change",
    [{"answer": "1"}, {"answer": True}, {"question": ""}, {"question": 5}, {"channel": "fax"}, {"receipt_hash": "zz"}],
)
def test_a_malformed_answer_item_is_left_unreadable_in_the_inbox(
    node: Node, service: IntakeService, change: dict[str, object]
) -> None:
    _case_id, receipt = _asked_case(node, service)
    board = service.receipts.hash(receipt)
    doc = {"kind": "answer", "receipt_hash": bytes(board).hex(), "question": "drainQ7Wm2KpLr9T",
           "question_kind": "confirm", "answer": 1, "channel": "web", "locale": "en",
           "received_at": "2031-03-02T09:00:00+00:00", **change}  # fmt: skip
    service.inbox.put(*_seal(service, doc))
    result, _ = drain_node(node)
    assert result.unreadable == 1 and service.inbox.count() == 1  # left for a caseworker or a later release
