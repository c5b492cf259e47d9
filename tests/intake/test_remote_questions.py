"""Status-board questions on a desk paired with an intake on another host (issue 15).

The laptop's desk asks (a step marked done); the question, the SMS that asks it and later its
withdrawal reach the served intake at the next drain (intake/remote.py pushes, channels/remote.py
takes); the worker answers there, by the SMS gateway or the JSON API; the laptop's next drain
takes the sealed answer into its cases. A push retried stores nothing twice.
"""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from intake import questions
from intake.desk import drain as desk_drain
from intake.domain import Channel, Report
from intake.services import accept_report
from intake.settings import Settings
from tests.intake.desk import csrf_of, listed
from tests.intake.test_remote import (
    GATEWAY,
    PHONE,
    WORDS,
    Served,
    gateway_sends,
    laptop_desk,
    paired,  # noqa: F401 - the fixture
    server_outbox,
)


def worker_question(base: str, receipt: str) -> dict[str, Any] | None:
    answer = httpx.post(f"{base}/api/v1/status", json={"receipt": receipt}, timeout=10)
    assert answer.status_code == 200
    return answer.json().get("question")  # type: ignore[no-any-return]


def texts_back(base: str, body: str, n: int) -> None:
    """The worker's reply through the served intake's SMS gateway."""
    data = {"from": PHONE, "message": body, "message_id": f"q-{n}", "secret": GATEWAY}
    assert httpx.post(f"{base}/smssync", data=data, timeout=10).json()["payload"]["success"] is True


def test_questions_asked_on_a_paired_laptop_are_answered_at_the_intake(
    paired: tuple[Served, Settings],  # noqa: F811 - the fixture
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served, laptop = paired
    receipt = accept_report(
        served.service, Report(channel=Channel.WEB, description=WORDS, contact_ok=True, phone=PHONE)
    )
    monkeypatch.setattr(desk_drain, "DRAIN_EVERY", -1.0)  # every case list drains (and pushes)
    with laptop_desk(laptop) as desk:
        [case_id] = listed(desk.get("/cases").text)
        for status in ("triaged", "investigating", "remedy"):
            page = desk.get(f"/cases/{case_id}").text
            version = re.search(r'name="version" value="(\d+)"', page)
            data = {"csrf": csrf_of(page), "version": version.group(1) if version else "0", "status": status}
            assert desk.post(f"/cases/{case_id}/update", data=data).status_code == 200
        page = desk.get(f"/cases/{case_id}").text
        step = {"csrf": csrf_of(page), "action": "Pay the overtime owed", "who": "employer", "due": "2099-01-31"}
        assert desk.post(f"/cases/{case_id}/actions", data=step, follow_redirects=False).status_code == 303
        action_id = int(re.findall(rf"/cases/{case_id}/actions/(\d+)/done", desk.get(f"/cases/{case_id}").text)[0])
        done = {"csrf": csrf_of(page), "kind": "overtime_pay", "amount": "400", "currency": "CNY"}
        url = f"/cases/{case_id}/actions/{action_id}/done"
        assert desk.post(url, data=done, follow_redirects=False).status_code == 303
        assert worker_question(served.base, receipt) is None  # written on the laptop, not pushed yet
        assert desk.get("/cases").status_code == 200  # drain: pushes the question, then its SMS
        asked = questions.sms_text("confirm", "overtime_pay", "en")
        assert server_outbox(served.service)[-1] == (PHONE, asked)
        assert gateway_sends(served.base)[-1] == (PHONE, asked)
        shown = worker_question(served.base, receipt)
        assert shown is not None and shown["text"] == "Has this happened: overtime pay?"
        texts_back(served.base, "1", 1)  # the worker's reply, from the number the question went to
        assert worker_question(served.base, receipt) is None
        for _again in range(2):  # the next drains take the answer once and push nothing new
            assert desk.get("/cases").status_code == 200
        page = html.unescape(desk.get(f"/cases/{case_id}").text)
        assert re.search(r"answered \d{4}-\d{2}-\d{2}: yes", page), "the answer reached the laptop's case"
        assert page.count("answered ") == 1
        # A step marked done and, before any drain, not done again: the intake gets the withdrawal.
        step["action"] = "Return the passports"
        assert desk.post(f"/cases/{case_id}/actions", data=step, follow_redirects=False).status_code == 303
        ids = {int(i) for i in re.findall(rf"/cases/{case_id}/actions/(\d+)/done", desk.get(f"/cases/{case_id}").text)}
        second = max(ids)
        url = f"/cases/{case_id}/actions/{second}/done"
        assert desk.post(url, data={"csrf": csrf_of(page)}, follow_redirects=False).status_code == 303
        assert desk.post(url, data={"csrf": csrf_of(page), "undo": "1"}, follow_redirects=False).status_code == 303
        assert desk.get("/cases").status_code == 200
        assert worker_question(served.base, receipt) is None
