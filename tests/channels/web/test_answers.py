"""The worker's answers on the web (issue 15): the JSON API's contract and the status page's form.

``POST /api/v1/status`` shows a due question; ``POST /api/v1/answers`` takes its answer (202). Bad
input that only a lookup could tell apart (an unknown receipt, an unknown, another receipt's or
answered question, an answer out of range) gets exactly what a good answer gets, and stores nothing;
a question takes one answer. The status page asks it as a plain form (radio buttons, the page's form
token). Nothing of an answer reaches a log line or the disk in clear.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from crypto import open_item
from intake import clock
from intake.answers import post_questions, withdraw_questions
from intake.receipts import parse_receipt
from intake.services import IntakeService
from intake.store.board_questions import PostedQuestion
from tests.conftest import Node, csrf_token, receipt_in

DESCRIPTION = "The supervisor at the Quillfeather line keeps our ID cards in his desk."
QID = "qZx7Wm2_KpLr9TbV"  # distinctive, to look for in logs and on disk
OTHER_QID = "aB3dE5fG7hJ9kL1m"


def report(client: TestClient) -> str:
    response = client.post("/api/v1/reports", json={"description": DESCRIPTION})
    assert response.status_code == 201
    return str(response.json()["receipt"])


def ask(service: IntakeService, receipt: str, qid: str = QID, kind: str = "confirm", subject: str = "back_pay",
        due_in: int = 0) -> None:  # fmt: skip
    """The desk's part: put a question on the worker's board (intake/desk/asking.py does this)."""
    board = service.receipts.hash(parse_receipt(receipt))  # type: ignore[arg-type]
    due = int(clock.time()) + due_in
    post_questions(service.inbox, [PostedQuestion(qid, bytes(board), kind, subject, due)])


def items(service: IntakeService) -> list[tuple[int, str, bytes]]:
    return service.inbox.items()


def answer(client: TestClient, receipt: str, question: Any = QID, value: Any = 1, **headers: str) -> Any:
    return client.post(
        "/api/v1/answers", json={"receipt": receipt, "question": question, "answer": value}, headers=headers
    )


def test_status_shows_the_question_in_the_requests_language(client: TestClient, service: IntakeService) -> None:
    receipt = report(client)
    before = client.post("/api/v1/status", json={"receipt": receipt}).json()
    assert "question" not in before
    ask(service, receipt)
    data = client.post("/api/v1/status", json={"receipt": receipt}).json()
    assert data["question"] == {
        "id": QID,
        "text": "Has this happened: back pay?",
        "options": [{"value": 1, "label": "Yes"}, {"value": 2, "label": "Partly"}, {"value": 3, "label": "No"}],
    }
    assert set(data) == {"status", "status_text", "messages", "question"}
    zh = client.post("/api/v1/status", json={"receipt": receipt}, headers={"Accept-Language": "zh-CN"}).json()
    assert zh["question"]["id"] == QID and len(zh["question"]["options"]) == 3


def test_a_question_not_yet_due_is_not_shown(client: TestClient, service: IntakeService) -> None:
    receipt = report(client)
    ask(service, receipt, due_in=30 * 86400)
    assert "question" not in client.post("/api/v1/status", json={"receipt": receipt}).json()
    with clock.use(clock.FixedClock(clock.now() + timedelta(days=30, seconds=1))):
        shown = client.post("/api/v1/status", json={"receipt": receipt}).json()
    assert shown["question"]["id"] == QID


def test_a_good_answer_is_sealed_and_stored_once(client: TestClient, service: IntakeService, node: Node) -> None:
    receipt = report(client)
    ask(service, receipt)
    before = len(items(service))
    first = answer(client, receipt, value=3)
    assert (first.status_code, first.json()) == (202, {"accepted": True})
    stored = items(service)[before:]
    assert len(stored) == 1
    doc = json.loads(open_item(stored[0][2], node.keys.identity))
    assert (doc["kind"], doc["question"], doc["answer"], doc["channel"]) == ("answer", QID, 3, "api")
    again = answer(client, receipt, value=1)  # a second answer to an answered question
    assert (again.status_code, again.json(), again.headers["content-length"]) == (
        202, {"accepted": True}, first.headers["content-length"],
    )  # fmt: skip
    assert len(items(service)) == before + 1
    assert "question" not in client.post("/api/v1/status", json={"receipt": receipt}).json()


def _bad(client: TestClient, service: IntakeService, receipt: str, other: str) -> dict[str, Any]:
    ask(service, other, OTHER_QID)
    withdrawn = "wD9xY8zQ7pR6sT5u"
    ask(service, receipt, withdrawn)
    withdraw_questions(service.inbox, [withdrawn])
    return {
        "unknown receipt": ("1111-2222-3333-4440" if receipt != "1111-2222-3333-4440" else "5555-6666-7777-8882",
                            QID, 1),
        "unknown question": (receipt, "no-such-question", 1),
        "another receipt's question": (receipt, OTHER_QID, 1),
        "withdrawn question": (receipt, withdrawn, 1),
        "out of range": (receipt, QID, 4),
        "zero": (receipt, QID, 0),
        "negative": (receipt, QID, -1),
        "huge": (receipt, QID, 10**30),
    }  # fmt: skip


def test_bad_answers_get_the_same_response_and_store_nothing(client: TestClient, service: IntakeService) -> None:
    receipt, other = report(client), report(client)
    ask(service, receipt)
    cases = _bad(client, service, receipt, other)
    good_shape = None
    before = len(items(service))
    for name, (code, question, value) in cases.items():
        response = answer(client, code, question, value)
        shape = (response.status_code, response.json(), sorted(response.headers.keys()),
                 response.headers["content-length"])  # fmt: skip
        assert good_shape is None or shape == good_shape, name
        good_shape = shape
        assert len(items(service)) == before, f"{name}: something was stored"
    assert good_shape is not None and good_shape[:2] == (202, {"accepted": True})
    # The question still waits, and its good answer is still taken.
    assert client.post("/api/v1/status", json={"receipt": receipt}).json()["question"]["id"] == QID
    assert answer(client, receipt, QID, 2).status_code == 202
    assert len(items(service)) == before + 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"receipt": "1234", "question": QID, "answer": 1}, "receipt"),
        ({"receipt": "1234-5678-9012-3450", "question": QID, "answer": "1"}, "answer"),
        ({"receipt": "1234-5678-9012-3450", "question": QID, "answer": True}, "answer"),
        ({"receipt": "1234-5678-9012-3450", "question": QID, "answer": 1.0}, "answer"),
        ({"receipt": "1234-5678-9012-3450", "question": "", "answer": 1}, "question"),
        ({"receipt": "1234-5678-9012-3450", "question": "q" * 65, "answer": 1}, "question"),
        ({"receipt": "1234-5678-9012-3450", "answer": 1}, "question"),
        ({"receipt": "1234-5678-9012-3450", "question": QID, "answer": 1, "extra": 1}, "extra"),
        ({"receipt": "1234-5678-9012-3450", "question": QID, "answer": 1, "locale": "xx-nope"}, "locale"),
    ],
)
def test_malformed_bodies_are_refused_by_their_form_alone(
    client: TestClient, service: IntakeService, body: dict[str, Any], field: str
) -> None:
    """Refused from the request alone (never a lookup), with the error naming the field; nothing stored."""
    before = len(items(service))
    response = client.post("/api/v1/answers", json=body)
    assert response.status_code == 400, response.text
    assert field in json.dumps(response.json()["error"])
    assert len(items(service)) == before


def test_a_code_failing_its_check_digit_is_refused_as_everywhere(client: TestClient, service: IntakeService) -> None:
    receipt = report(client)
    ask(service, receipt)
    digits = receipt.replace("-", "")
    typo = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    response = answer(client, typo)
    assert response.status_code == 400 and response.json()["error"]["code"] == "receipt_mistyped"


def test_the_openapi_document_has_the_answers_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    op = spec["paths"]["/api/v1/answers"]["post"]
    assert "202" in op["responses"] and "400" in op["responses"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"receipt", "question", "answer"}
    assert schema["properties"]["answer"]["type"] == "integer"
    status = spec["components"]["schemas"]["StatusOut"]["properties"]
    assert "question" in status
    assert set(spec["components"]["schemas"]["QuestionOut"]["properties"]) == {"id", "text", "options"}


# -- the status page, without JavaScript -----------------------------------------------------------------
def _status_page(client: TestClient, receipt: str, lang: str = "en") -> str:
    token = csrf_token(client, "/status", lang=lang)
    page = client.post("/status", data={"csrf": token, "lang": lang, "receipt": receipt})
    assert page.status_code == 200
    return page.text


def _form_of(page: str) -> dict[str, str]:
    form = page[page.index('action="/status/answer"') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'name="(csrf|lang|receipt|question)" value="([^"]*)"', form))


def test_the_status_page_asks_with_a_plain_form(client: TestClient, service: IntakeService) -> None:
    token = csrf_token(client)
    page = client.post("/report", data={"csrf": token, "description": DESCRIPTION, "consent": "0"})
    receipt = receipt_in(page.text)
    assert 'action="/status/answer"' not in _status_page(client, receipt)
    ask(service, receipt)
    page_text = _status_page(client, receipt)
    assert "<script" not in page_text
    assert "Has this happened: back pay?" in page_text
    assert page_text.count('type="radio" name="answer"') == 3
    fields = _form_of(page_text)
    assert fields["question"] == QID and fields["csrf"] and fields["receipt"] == receipt
    before = len(items(service))
    sent = client.post("/status/answer", data={**fields, "answer": "2"})
    assert sent.status_code == 200 and "Thank you, your answer was received." in sent.text
    assert len(items(service)) == before + 1
    assert 'action="/status/answer"' not in _status_page(client, receipt)
    # The same form sent again (a double tap, a reload): the same page, nothing more stored.
    again = client.post("/status/answer", data={**fields, "answer": "2"})
    assert again.status_code == 200 and again.text == sent.text
    assert len(items(service)) == before + 1


def test_no_answer_chosen_shows_the_question_again(client: TestClient, service: IntakeService) -> None:
    receipt = report(client)
    ask(service, receipt)
    fields = _form_of(_status_page(client, receipt))
    before = len(items(service))
    page = client.post("/status/answer", data=fields)
    assert page.status_code == 200 and "Choose one answer, then send it." in page.text
    assert 'type="radio" name="answer"' in page.text and len(items(service)) == before


def test_bad_page_answers_get_the_same_thank_you(client: TestClient, service: IntakeService) -> None:
    receipt, other = report(client), report(client)
    ask(service, receipt)
    fields = _form_of(_status_page(client, receipt))
    thanks = None
    before = len(items(service))
    for name, (code, question, value) in _bad(client, service, receipt, other).items():
        if abs(value) > 999:
            continue  # a form field holds at most three digits
        data = {**fields, "receipt": code, "question": question, "answer": str(value)}
        page = client.post("/status/answer", data=data)
        if value < 0:  # not a number a radio button could send: the question is asked again
            assert page.status_code == 200 and "Choose one answer" in page.text, name
            continue
        assert page.status_code == 200, name
        assert thanks is None or page.text == thanks, name
        thanks = page.text
    assert thanks is not None and "Thank you, your answer was received." in thanks
    assert len(items(service)) == before


def test_an_expired_form_keeps_the_code_and_stores_nothing(client: TestClient, service: IntakeService) -> None:
    receipt = report(client)
    ask(service, receipt)
    fields = {**_form_of(_status_page(client, receipt)), "csrf": "forged", "answer": "1"}
    before = len(items(service))
    page = client.post("/status/answer", data=fields)
    assert page.status_code == 403 and receipt in page.text  # FormExpired, as for every form
    assert len(items(service)) == before


# -- privacy ----------------------------------------------------------------------------------------------
@pytest.fixture
def every_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    caplog.set_level(logging.DEBUG)
    yield caplog


def test_nothing_of_an_answer_in_logs_or_clear_on_disk(
    client: TestClient, service: IntakeService, node: Node, every_log: pytest.LogCaptureFixture
) -> None:
    receipt = report(client)
    ask(service, receipt)
    assert answer(client, receipt, QID, 3).status_code == 202
    ask(service, receipt, OTHER_QID, "retaliation", "")
    fields = _form_of(_status_page(client, receipt))
    client.post("/status/answer", data={**fields, "answer": "1"})
    logged = "\n".join([every_log.text, *(repr(r.args) for r in every_log.records)])
    for secret in (QID, OTHER_QID, receipt, receipt.replace("-", ""), DESCRIPTION[:20]):
        assert secret not in logged
    assert "answer received channel=api" in logged and "answer received channel=web" in logged
    for path in sorted(node.home.rglob("*")):
        if path.is_file():
            raw = path.read_bytes()
            for secret in (QID, OTHER_QID, receipt.replace("-", ""), '"answer"', "question_kind"):
                assert secret.encode() not in raw, f"{secret} in clear in {path.name}"
                assert secret.encode("utf-16-le") not in raw, f"{secret} in clear in {path.name}"
