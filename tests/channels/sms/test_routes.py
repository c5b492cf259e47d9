"""Twilio webhook (signed with twilio's own RequestValidator) and the SMSSync gateway, end to end."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

import i18n
from channels.server import create_intake_app
from channels.sms import texts
from tests.conftest import Node, drain_node, make_node

TOKEN = "synthetic-auth-token"
PUBLIC = "https://intake.example.org"
SECRET = "synthetic-gateway-secret"
PHONE = "+8613800138000"


@pytest.fixture
def sms_node(tmp_path: Path) -> Node:
    return make_node(tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, smssync_secret=SECRET)


@pytest.fixture
def sms_client(sms_node: Node) -> Iterator[TestClient]:
    with TestClient(create_intake_app(sms_node.settings)) as c:
        yield c


def twilio(client: TestClient, body: str, sid: str, sender: str = PHONE, url: str = PUBLIC + "/twilio/sms", **hdr: str):
    params = {"From": sender, "To": "+15550001111", "Body": body, "MessageSid": sid, "AccountSid": "AC" + "0" * 32}
    signature = RequestValidator(TOKEN).compute_signature(url, params)
    r = client.post("/twilio/sms", data=params, headers={"X-Twilio-Signature": signature, **hdr})
    return r, re.findall(r"<Message>(.*?)</Message>", r.text, re.S)


def kw(name: str, locale: str = "zh_Hans") -> str:
    return i18n.translations(locale).gettext(texts.KEYWORDS[name]).split("|")[0]


def test_signed_chinese_conversation_becomes_a_case(sms_node: Node, sms_client: TestClient) -> None:
    flow = ["你好", "东莞宏达电子厂", "我们三个月没有拿到工资", "老板还威胁我们", kw("done"), "1 12", "1", kw("yes")]
    for i, m in enumerate(flow):
        r, _ = twilio(sms_client, m, f"SM{i:032x}")
        assert r.status_code == 200
    _, replies = twilio(sms_client, flow[-1], f"SM{len(flow) - 1:032x}")  # a retried webhook
    receipt = re.search(r"\d{4}-\d{4}-\d{4}-\d{4}", replies[0])
    assert receipt, "the retry gets the same reply, with the receipt"
    result, cases = drain_node(sms_node)
    assert result.cases == 1, "the retried webhook stored nothing twice"
    case = cases[0]
    assert case.channel.value == "sms" and case.locale == "zh_Hans"
    assert case.factory == "东莞宏达电子厂"
    assert "我们三个月没有拿到工资" in case.description and "老板还威胁我们" in case.description
    assert [c.value for c in case.categories] == ["wages", "retaliation"]
    assert int(case.consent) == 1 and case.contact_ok and case.has_contact


def test_no_contact_means_no_encrypted_contact(sms_node: Node, sms_client: TestClient) -> None:
    for i, m in enumerate(["hello", "Acme", "unpaid overtime", "DONE", "2", "0", "NO"]):
        twilio(sms_client, m, f"SMb{i:031x}")
    _, cases = drain_node(sms_node)
    assert cases[0].contact_ok is False and cases[0].has_contact is False


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl"])
def test_missing_or_wrong_signature_is_403_and_stores_nothing(
    sms_node: Node, sms_client: TestClient, signature
) -> None:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    r = sms_client.post("/twilio/sms", data={"From": PHONE, "Body": "hi", "MessageSid": "SMx"}, headers=headers)
    assert r.status_code == 403
    assert sms_client.app.state.service.inbox.sms_session(b"x") is None


def test_signature_over_the_public_url_not_the_proxy_host(sms_client: TestClient) -> None:
    # Signed for the public URL, received with another Host header (as behind a reverse proxy).
    r, _ = twilio(sms_client, "hello", "SMproxy", **{"Host": "10.0.0.5:8000", "X-Forwarded-Proto": "http"})
    assert r.status_code == 200
    # Signed for the proxy's internal URL: refused.
    r2, _ = twilio(sms_client, "hello", "SMproxy2", url="http://testserver/twilio/sms")
    assert r2.status_code == 403


@pytest.mark.parametrize(
    "body",
    [
        "",
        "x" * 2000,
        "😀 mixed 中文 and ไทย",
        "\\ud800 escaped surrogate",
        "UNKNOWNKEYWORD",
        "STATUS 0000-0000-0000-0000",
    ],
)
def test_bad_bodies_get_a_reply_or_silence_never_500(sms_client: TestClient, body: str) -> None:
    r, _ = twilio(sms_client, body, "SMbad" + str(abs(hash(body)))[:20])
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/xml")


def test_invalid_utf8_body(sms_client: TestClient) -> None:
    raw = b"From=%2B8613800138000&Body=%FF%FE&MessageSid=SMutf"
    params = {"From": PHONE, "Body": "\ufffd\ufffd", "MessageSid": "SMutf"}
    sig = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/sms", params)
    r = sms_client.post(
        "/twilio/sms",
        content=raw,
        headers={"X-Twilio-Signature": sig, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert r.status_code == 200  # decoded as U+FFFD, which is what the signature covers here


def test_status_for_unknown_code_looks_like_no_news(sms_client: TestClient) -> None:
    _, unknown = twilio(sms_client, "STATUS 1111 2222 3333 4440", "SMs1", sender="+8613900000001")  # check digit ok
    flow = ["hi", "Acme", "words", "DONE", "1", "1", "NO"]
    replies: list[str] = []
    for i, m in enumerate(flow):
        _, replies = twilio(sms_client, m, f"SMk{i:031x}", sender="+8613900000002")
    code = re.search(r"\d{4}-\d{4}-\d{4}-\d{4}", replies[0]).group()
    _, known = twilio(sms_client, "STATUS " + code, "SMs2", sender="+8613900000003")
    assert unknown == known


def test_flooding_number_is_silenced(sms_client: TestClient) -> None:
    statuses = [twilio(sms_client, f"msg {i}", f"SMf{i:031x}")[0].status_code for i in range(40)]
    assert set(statuses) == {200}
    _, last = twilio(sms_client, "HELP", "SMflood-help")
    assert last == []


def test_smssync_gateway_round_trip(sms_node: Node, sms_client: TestClient) -> None:
    def post(message: str, mid: str):
        return sms_client.post(
            "/smssync",
            data={"from": "+60123456789", "message": message, "message_id": mid, "sent_to": "+60100000000",
                  "secret": SECRET, "device_id": "phone-1", "sent_timestamp": "1763768400000"},
        )  # fmt: skip

    for i, m in enumerate(["hello", "Sunrise Precision", "they keep our passports", "DONE", "4 5", "1", "no"]):
        r = post(m, f"m{i}")
        assert r.json() == {"payload": {"success": True, "error": None}}
    assert post("no", "m6").json()["payload"]["success"] is True  # duplicate message_id: nothing twice
    queued = sms_client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]
    assert queued["task"] == "send"
    msgs = queued["messages"]
    assert all(m["to"] == "+60123456789" for m in msgs)
    assert any(re.search(r"\d{4}-\d{4}-\d{4}-\d{4}", m["message"]) for m in msgs)
    acked = sms_client.post("/smssync?task=sent", json={"queued_messages": [m["uuid"] for m in msgs], "secret": SECRET})
    assert sorted(acked.json()["message_uuids"]) == sorted(m["uuid"] for m in msgs)
    assert sms_client.get("/smssync", params={"task": "send", "secret": SECRET}).json()["payload"]["messages"] == []
    result, cases = drain_node(sms_node)
    assert result.cases == 1 and cases[0].factory == "Sunrise Precision"
    assert [c.value for c in cases[0].categories] == ["forced_labour", "recruitment_fees"]


@pytest.mark.parametrize("secret", ["", "wrong", SECRET + "x"])
def test_smssync_wrong_secret(sms_client: TestClient, secret: str) -> None:
    r = sms_client.post("/smssync", data={"from": "+1", "message": "x", "message_id": "1", "secret": secret})
    assert r.status_code == 403
    assert sms_client.get("/smssync", params={"task": "send", "secret": secret}).status_code == 403


def test_phone_number_never_stored_in_clear(sms_node: Node, sms_client: TestClient) -> None:
    for i, m in enumerate(["hello", "Acme", "unpaid wages", "DONE"]):
        twilio(sms_client, m, f"SMp{i:031x}")
    sms_client.app.state.service.inbox._conn.execute("PRAGMA wal_checkpoint(FULL)")
    raw = b"".join(p.read_bytes() for p in sms_node.home.glob("inbox.db*"))
    for needle in (PHONE, PHONE[1:], "unpaid wages", "Acme"):
        assert needle.encode() not in raw
