"""SMS STATUS with receipt codes as workers type them: a typo gets "please check the code" (and says
nothing about which codes exist), digits of every shipped script are read, and "no reply yet" never
comes with a reply. Through the signed Twilio webhook and the SMSSync gateway of the real app.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

import i18n
from channels.server import create_intake_app
from channels.sms import texts
from intake.domain import ReceiptCode
from intake.receipts import has_check_digit, parse_receipt
from intake.services import IntakeService
from tests.channels.web.test_receipt_typos import typos
from tests.conftest import Node, make_node
from tests.intake.test_receipts import in_script

TOKEN = "synthetic-auth-token"
PUBLIC = "https://intake.example.org"
SECRET = "synthetic-gateway-secret"
REPLY = "We met the factory; back pay is promised by the 15th."
_sids = itertools.count()


@pytest.fixture
def sms_node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, smssync_secret=SECRET)


@pytest.fixture
def sms_client(sms_node: Node) -> Iterator[TestClient]:
    with TestClient(create_intake_app(sms_node.settings)) as c:
        yield c


def twilio(client: TestClient, body: str, sender: str = "+8613900000001") -> list[str]:
    params = {"From": sender, "To": "+15550001111", "Body": body, "MessageSid": f"SM{next(_sids):032x}"}
    params["AccountSid"] = "AC" + "0" * 32
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/sms", params)
    r = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature})
    assert r.status_code == 200, r.text
    return [m.replace("&amp;", "&") for m in re.findall(r"<Message>(.*?)</Message>", r.text, re.S)]


def t(locale: str, msgid: str) -> str:
    return i18n.translations(locale).gettext(msgid)


def status_word(locale: str) -> str:
    return t(locale, texts.KEYWORDS["status"]).split("|")[0]


def filed(client: TestClient, reply: str | None = REPLY) -> str:
    """A report's receipt (filed through the API of the same intake), with a caseworker's reply."""
    code = str(client.post("/api/v1/reports", json={"description": "They keep our passports."}).json()["receipt"])
    if reply:
        service: IntakeService = client.app.state.service  # type: ignore[attr-defined]
        service.inbox.post_message(service.receipts.hash(parse_receipt(code)), reply)  # type: ignore[arg-type]
    return code


def test_a_typo_after_status_asks_to_check_the_code(sms_client: TestClient) -> None:
    code = filed(sms_client)
    for i, typo in enumerate(typos(code)):  # one sender each: 31 messages from one phone is a flood
        assert twilio(sms_client, f"STATUS {typo}", sender=f"+86139{i:08d}") == [t("en", texts.STATUS_CHECK)]
    replies = twilio(sms_client, f"STATUS {code}")
    assert replies[-1] == t("en", texts.STATUS_REPLY).format(text=REPLY)
    zh = twilio(sms_client, f"查询 {typos(code)[0]}", sender="+8613900000002")
    assert zh == [t("zh_Hans", texts.STATUS_CHECK)]


def test_a_typo_reply_says_nothing_about_which_codes_exist(sms_client: TestClient) -> None:
    typo_of_real = typos(filed(sms_client))[7]
    made_up = "1111 2222 3333 4444"
    assert not has_check_digit(ReceiptCode(made_up.replace(" ", "")))
    assert twilio(sms_client, f"STATUS {typo_of_real}") == twilio(sms_client, f"STATUS {made_up}")


# (locale whose STATUS word is typed, script of the digits)
SCRIPT_QUERIES = [
    ("th", "thai"),
    ("hi", "devanagari"),
    ("bn", "bengali"),
    ("en", "arabic-indic"),
    ("ur", "extended-arabic-indic"),
    ("my", "burmese"),
    ("km", "khmer"),
    ("ta", "tamil"),
    ("zh_Hans", "full-width"),
]


@pytest.mark.parametrize(("locale", "script"), SCRIPT_QUERIES)
def test_status_reads_a_code_in_each_script(sms_client: TestClient, locale: str, script: str) -> None:
    code = filed(sms_client)
    sender = f"+66800{SCRIPT_QUERIES.index((locale, script)):06d}"
    for typed in (in_script(code, script), in_script(code.replace("-", " "), script)):
        replies = twilio(sms_client, f"{status_word(locale)} {typed}", sender=sender)
        assert replies[-1] == t(locale, texts.STATUS_REPLY).format(text=REPLY), replies
        assert t(locale, texts.STATUS_INVALID) not in replies
    typo = in_script(typos(code)[2], script)
    assert twilio(sms_client, f"{status_word(locale)} {typo}", sender=sender) == [t(locale, texts.STATUS_CHECK)]


def test_the_sms_gateway_reads_a_code_in_bengali_digits(sms_client: TestClient) -> None:
    code = filed(sms_client)
    for i, body in enumerate([f"{status_word('bn')} {in_script(code, 'bengali')}", f"STATUS {typos(code)[0]}"]):
        data = {"from": "+8801700000001", "message": body, "message_id": f"bn-{i}", "secret": SECRET}
        assert sms_client.post("/smssync", data=data).json()["payload"]["success"] is True
    queued = sms_client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"]
    sent = [m["message"] for m in queued]
    assert t("bn", texts.STATUS_REPLY).format(text=REPLY) in sent
    assert t("en", texts.STATUS_CHECK) in sent or t("bn", texts.STATUS_CHECK) in sent


def test_no_reply_yet_never_comes_with_a_reply(sms_client: TestClient) -> None:
    quiet = filed(sms_client, reply=None)
    not_yet = t("en", texts.STATUS_LINE).format(status=t("en", texts.SMS_STATUS["received"]))
    assert twilio(sms_client, f"STATUS {quiet}") == [not_yet]
    answered = filed(sms_client)  # replied to while its entry is still "received"
    replies = twilio(sms_client, f"STATUS {answered}")
    assert replies == [
        t("en", texts.STATUS_LINE).format(status=t("en", texts.SMS_STATUS["in_review"])),
        t("en", texts.STATUS_REPLY).format(text=REPLY),
    ]
