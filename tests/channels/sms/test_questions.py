"""Status-board questions by SMS (issue 15): asked after STATUS <code>, or texted by the desk to a
worker who agreed to contact; "1"/"2"/"3" (any script's digits, or YES/NO) answer; a reply that is
not a choice gets the question once more, then the question is left. Through the signed Twilio
webhook of the real intake app; the desk's side through the real desk app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import i18n
from channels.server import create_intake_app
from channels.sms.service import SmsChannel
from crypto import open_item
from i18n.segments import count_segments
from intake import questions
from intake.answers import post_questions
from intake.receipts import parse_receipt
from intake.services import IntakeService
from intake.store.board_questions import PostedQuestion
from tests.channels.sms.test_receipt_status import PUBLIC, SECRET, TOKEN, twilio
from tests.conftest import Node, drain_node, make_node
from tests.intake.desk import login
from tests.intake.desk.test_desk_app import open_desk

QID = "smsQ7Wm2KpLr9TbV"
CONFIRM = "Has this happened: back pay? Reply 1 yes, 2 partly, 3 no."
THANKS = "Thank you, your answer was received."
SENDER = "+8613900000077"


@pytest.fixture
def sms_node(tmp_path: Path) -> Node:
    return make_node(
        tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, smssync_secret=SECRET,
        twilio_account_sid="AC" + "1" * 32, twilio_number="+15550001111",
    )  # fmt: skip


@pytest.fixture
def sms_client(sms_node: Node) -> Iterator[TestClient]:
    with TestClient(create_intake_app(sms_node.settings)) as c:
        yield c


def service_of(client: TestClient) -> IntakeService:
    return client.app.state.service  # type: ignore[attr-defined,no-any-return]


def filed(client: TestClient, **fields: object) -> str:
    body = {"description": "They keep our passports.", **fields}
    return str(client.post("/api/v1/reports", json=body).json()["receipt"])


def ask(client: TestClient, receipt: str, kind: str = "confirm", subject: str = "back_pay", qid: str = QID) -> None:
    service = service_of(client)
    board = bytes(service.receipts.hash(parse_receipt(receipt)))  # type: ignore[arg-type]
    post_questions(service.inbox, [PostedQuestion(qid, board, kind, subject, 0)])


def answers(node: Node, client: TestClient) -> list[dict[str, object]]:
    """The answer items in the inbox, opened with the node's key."""
    docs = [json.loads(open_item(blob, node.keys.identity)) for _s, _i, blob in service_of(client).inbox.items()]
    return [d for d in docs if d["kind"] == "answer"]


def test_status_by_sms_asks_the_question_and_takes_the_answer(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client)
    ask(sms_client, code)
    replies = twilio(sms_client, f"STATUS {code}", sender=SENDER)
    assert replies[-1] == CONFIRM
    assert twilio(sms_client, "2", sender=SENDER) == [THANKS]
    got = answers(sms_node, sms_client)
    assert [(a["question"], a["answer"], a["channel"]) for a in got] == [(QID, 2, "sms")]
    assert CONFIRM not in twilio(sms_client, f"STATUS {code}", sender=SENDER)  # answered: not asked again


@pytest.mark.parametrize("typed, value", [("๓", 3), ("३", 3), ("١", 1), (" 1. ", 1), ("YES", 1), ("no", 3)])
def test_digits_of_any_script_and_yes_no_words_answer(
    sms_node: Node, sms_client: TestClient, typed: str, value: int
) -> None:
    code = filed(sms_client)
    ask(sms_client, code)
    twilio(sms_client, f"STATUS {code}", sender=SENDER)
    assert twilio(sms_client, typed, sender=SENDER) == [THANKS]
    assert [a["answer"] for a in answers(sms_node, sms_client)] == [value]


def test_a_check_in_takes_1_no_and_2_yes(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client)
    ask(sms_client, code, "retaliation", "")
    replies = twilio(sms_client, f"STATUS {code}", sender=SENDER)
    assert replies[-1] == (
        "Since your report, have you been punished, moved, threatened or dismissed? Reply 1 no, 2 yes."
    )
    assert twilio(sms_client, "3", sender=SENDER) == [replies[-1]]  # not a choice here: asked once more
    assert twilio(sms_client, "yes", sender=SENDER) == [THANKS]
    assert [a["answer"] for a in answers(sms_node, sms_client)] == [2]


def test_not_a_choice_is_asked_once_more_then_left(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client)
    ask(sms_client, code)
    twilio(sms_client, f"STATUS {code}", sender=SENDER)
    before = len(service_of(sms_client).inbox.items())
    assert twilio(sms_client, "7", sender=SENDER) == [CONFIRM]  # once more
    left = twilio(sms_client, "8", sender=SENDER)  # then left: an ordinary first message
    assert CONFIRM not in left and THANKS not in left
    assert twilio(sms_client, "1", sender=SENDER) != [THANKS]  # no longer read as the answer
    assert answers(sms_node, sms_client) == []
    assert len(service_of(sms_client).inbox.items()) == before
    assert twilio(sms_client, f"STATUS {code}", sender="+8613900000078")[-1] == CONFIRM  # still on the board


def test_words_sent_instead_of_a_choice_are_kept_for_the_case(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client)
    ask(sms_client, code)
    twilio(sms_client, f"STATUS {code}", sender=SENDER)
    assert twilio(sms_client, "They paid only half of it", sender=SENDER) == [CONFIRM]
    assert twilio(sms_client, "3", sender=SENDER) == [THANKS]
    result, cases = drain_node(sms_node)
    assert result.unreadable == 0
    case = next(c for c in cases if c.description == "They keep our passports.")
    full = _case(sms_node, case.id)
    assert [f.text for f in full.followups] == ["They paid only half of it"]


def test_stop_leaves_the_question(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client)
    ask(sms_client, code)
    twilio(sms_client, f"STATUS {code}", sender=SENDER)
    assert twilio(sms_client, "STOP", sender=SENDER) == []
    assert twilio(sms_client, "1", sender=SENDER) != [THANKS]
    assert answers(sms_node, sms_client) == []


def test_a_report_being_written_is_not_interrupted(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client)
    ask(sms_client, code)
    twilio(sms_client, "hello", sender=SENDER)
    twilio(sms_client, "Synthetic Optics Ltd", sender=SENDER)  # the factory: now telling what happened
    replies = twilio(sms_client, f"STATUS {code}", sender=SENDER)
    assert CONFIRM not in replies
    assert twilio(sms_client, "1", sender=SENDER) != [THANKS]  # the story goes on
    assert answers(sms_node, sms_client) == []


def _case(node: Node, case_id: int):  # type: ignore[no-untyped-def]
    from intake.node import open_cases

    store = open_cases(node.settings, node.keys)
    try:
        return store.get_case(case_id)
    finally:
        store.close()


# -- texted by the desk, where the worker agreed to contact ----------------------------------------------
def _outbox(client: TestClient) -> list[tuple[str, str]]:
    service = service_of(client)
    channel = SmsChannel(service)
    return [channel.open_recipient(r, b) for _i, r, b, _a in service.inbox.outbox_due("twilio", 2**62)]


def _resolve_with_back_pay(node: Node) -> Iterator[int]:
    """A case through the desk to resolved, with one outcome; yields its id after resolving."""
    _result, cases = drain_node(node)
    case_id = max(c.id for c in cases)
    for desk in open_desk(node):
        assert login(desk.client, node).status_code == 303
        for s in ("triaged", "investigating", "remedy"):
            assert desk.update(case_id, status=s).status_code == 200
        outcome = {"kind": "back_pay", "amount": "90", "currency": "CNY", "workers_covered": "1"}
        assert desk.update(case_id, status="resolved", **outcome).status_code == 200
        yield case_id


def test_the_desk_texts_the_question_to_a_worker_who_agreed(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client, phone=SENDER, contact_ok=True)
    for case_id in _resolve_with_back_pay(sms_node):
        assert _outbox(sms_client) == [(SENDER.replace(" ", ""), CONFIRM)]
        assert twilio(sms_client, "3", sender=SENDER) == [THANKS]  # the reply, with no code and no STATUS
        drain_node(sms_node)
        from intake.node import open_cases

        store = open_cases(sms_node.settings, sms_node.keys)
        try:
            row = store._conn.execute("SELECT status, worker_confirmation FROM cases WHERE id = ?", (case_id,))
            assert tuple(row.fetchone()) == ("remedy", "no")
        finally:
            store.close()
    assert CONFIRM not in twilio(sms_client, f"STATUS {code}", sender=SENDER)


def test_no_text_to_a_worker_who_did_not_agree(sms_node: Node, sms_client: TestClient) -> None:
    code = filed(sms_client, phone=SENDER, contact_ok=False)
    for _case_id in _resolve_with_back_pay(sms_node):
        assert _outbox(sms_client) == []
        assert twilio(sms_client, "1", sender=SENDER) != [THANKS]  # a number with no question texted to it
    assert twilio(sms_client, f"STATUS {code}", sender="+8613900000079")[-1] == CONFIRM  # asked on the board


def test_the_sms_questions_fit_two_segments_in_every_language() -> None:
    """One segment where the script allows (GSM-7 in English), never more than two."""
    assert count_segments(questions.sms_text("confirm", "recruitment_fees_repaid", "en")).segments == 1
    assert count_segments(questions.sms_text("retaliation", "", "en")).segments == 1
    for locale in i18n.available_locales():
        for subject in questions.SUBJECT_LABELS:
            assert count_segments(questions.sms_text("confirm", subject, locale)).segments <= 2, (locale, subject)
        assert count_segments(questions.sms_text("retaliation", "", locale)).segments <= 2, locale
        assert count_segments(questions.thanks(locale)).segments <= 2, locale
