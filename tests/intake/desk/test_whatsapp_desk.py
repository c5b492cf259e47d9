"""The desk says when a reply to a WhatsApp worker waits for WhatsApp's 24-hour window (issue 16):
free text goes out only within 24 hours of the worker's last message (docs/sms.md#whatsapp)."""

from __future__ import annotations

from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest

from channels.sms import whatsapp
from channels.sms.service import SmsChannel
from i18n import d_
from intake import clock
from intake.domain import Channel
from intake.services import IntakeService
from tests.conftest import make_node
from tests.intake.desk import csrf_of, login
from tests.intake.desk.test_desk_app import Desk, one_case, open_desk

WA = "whatsapp:+8613800138000"
NOTICE = str(
    escape(
        d_(
            "A WhatsApp reply waits: the worker last wrote more than 24 hours ago; it goes out when they write "
            "again (WhatsApp allows only approved templates outside that window)."
        )
    )
)


@pytest.fixture
def wa_desk(tmp_path: Path) -> Iterator[Desk]:
    node = make_node(
        tmp_path / "wa-node", twilio_account_sid="AC" + "1" * 32, twilio_auth_token="synthetic-token",
        twilio_number="+15550001111", twilio_whatsapp_from="whatsapp:+14155238886",
    )  # fmt: skip
    for desk in open_desk(node):
        assert login(desk.client, node).status_code == 303
        yield desk


def test_a_reply_waiting_for_the_whatsapp_window_is_shown_on_the_case(wa_desk: Desk) -> None:
    node = wa_desk.node
    case_id, _receipt = one_case(node, channel=Channel.WHATSAPP, contact_ok=True, phone=WA)
    page = wa_desk.case_page(case_id)
    assert 'name="sms"' in page and NOTICE not in page, "nothing queued yet: nothing waits"
    response = wa_desk.client.post(
        f"/cases/{case_id}/reply", data={"text": "We called the brand.", "sms": "1", "csrf": csrf_of(page)}
    )
    assert response.status_code == 200
    assert NOTICE in response.text, "the worker has not written in 24 hours: the reply waits"
    # The worker writes on WhatsApp: their window opens and the reply can go; the notice goes.
    service = IntakeService.open(node.settings)
    try:
        sms = SmsChannel(service)
        whatsapp.wrote(service, sms.reporter(WA), clock.now())
    finally:
        service.close()
    assert NOTICE not in wa_desk.case_page(case_id)


def test_no_notice_for_an_sms_worker(wa_desk: Desk) -> None:
    node = wa_desk.node
    case_id, _receipt = one_case(node, contact_ok=True, phone="+8613800138001")
    page = wa_desk.case_page(case_id)
    response = wa_desk.client.post(
        f"/cases/{case_id}/reply", data={"text": "We called the brand.", "sms": "1", "csrf": csrf_of(page)}
    )
    assert response.status_code == 200 and NOTICE not in response.text
