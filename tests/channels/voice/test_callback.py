"""The call-back (issue 15): "did it happen?" asked by phone where the worker agreed to contact and
the group turned call-backs on. The desk queues the call in the outbox; Twilio's signed webhooks
reach the real intake app; the answer is sealed once, like one by SMS or the web."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient

import i18n
from channels.server import create_intake_app
from channels.sms.service import SmsChannel
from channels.voice import texts
from channels.voice.callback_token import call_token, callback_url, open_token, seal_token
from crypto import open_item
from intake.answers import post_questions
from intake.errors import GatewayError, SettingsError
from intake.receipts import parse_receipt
from intake.services import IntakeService
from intake.store.board_questions import PostedQuestion
from tests.channels.voice.conftest import PUBLIC, SID, TOKEN, post
from tests.conftest import Node, drain_node, make_node
from tests.intake.desk import login
from tests.intake.desk.test_desk_app import open_desk

PHONE = "+8613900000088"
QID = "callQ7Wm2KpLr9Tb"


def _node(tmp_path: Path, **overrides: object) -> Node:
    return make_node(
        tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, twilio_account_sid=SID,
        twilio_number="+15550001111", **{"voice_callback": 1, **overrides},
    )  # fmt: skip


@pytest.fixture
def cb_node(tmp_path: Path) -> Node:
    return _node(tmp_path)


@pytest.fixture
def cb_client(cb_node: Node) -> Iterator[TestClient]:
    with TestClient(create_intake_app(cb_node.settings)) as c:
        yield c


def service_of(client: TestClient) -> IntakeService:
    return client.app.state.service  # type: ignore[attr-defined,no-any-return]


def filed(client: TestClient, **fields: object) -> str:
    body = {"description": "They keep our passports.", **fields}
    return str(client.post("/api/v1/reports", json=body).json()["receipt"])


def asked(client: TestClient, receipt: str, locale: str = "en", kind: str = "confirm") -> str:
    """A question on the board for ``receipt``; returns the call's token for it."""
    service = service_of(client)
    board = bytes(service.receipts.hash(parse_receipt(receipt)))  # type: ignore[arg-type]
    post_questions(service.inbox, [PostedQuestion(QID, board, kind, "back_pay", 0)])
    return seal_token(service.settings, QID, locale)


def answers(node: Node, client: TestClient) -> list[dict[str, object]]:
    docs = [json.loads(open_item(blob, node.keys.identity)) for _s, _i, blob in service_of(client).inbox.items()]
    return [d for d in docs if d["kind"] == "answer"]


def said(xml: ElementTree.Element) -> list[tuple[str, str]]:
    return [(s.get("language", ""), s.text or "") for s in xml.iter("Say")]


def _outbox(client: TestClient) -> list[tuple[str, str]]:
    service = service_of(client)
    channel = SmsChannel(service)
    return [channel.open_recipient(r, b) for _i, r, b, _a in service.inbox.outbox_due("twilio", 2**62)]


def _resolve(node: Node) -> int:
    _result, cases = drain_node(node)
    case_id = max(c.id for c in cases)
    for desk in open_desk(node):
        assert login(desk.client, node).status_code == 303
        for s in ("triaged", "investigating", "remedy"):
            assert desk.update(case_id, status=s).status_code == 200
        outcome = {"kind": "back_pay", "amount": "90", "currency": "CNY", "workers_covered": "1"}
        assert desk.update(case_id, status="resolved", **outcome).status_code == 200
    return case_id


# -- the desk queues the call --------------------------------------------------------------------------
def test_the_desk_queues_a_call_back_and_its_answer_reaches_the_case(cb_node: Node, cb_client: TestClient) -> None:
    filed(cb_client, phone=PHONE, contact_ok=True, locale="es")
    case_id = _resolve(cb_node)
    queued = _outbox(cb_client)
    assert [to for to, _ in queued] == [PHONE, PHONE]  # the SMS, then the call
    token = call_token(queued[1][1])
    assert token is not None and call_token(queued[0][1]) is None
    qid, locale = open_token(cb_node.settings, token) or ("", "")
    assert locale == "es" and qid and qid not in token  # opaque: the question id is not in the URL
    url = callback_url(cb_node.settings, token)
    assert url.startswith(PUBLIC + "/twilio/voice/callback?t=")
    _r, xml = post(cb_client, url[len(PUBLIC) :])
    assert xml is not None
    gather = xml.find("Gather")
    assert gather is not None and gather.get("numDigits") == "1"
    es = i18n.translations("es")
    question = es.gettext(texts.PROMPTS["callback_confirm"]).format(what=es.gettext("back pay"))
    assert ("es-MX", question) in said(gather)
    _r, thanks = post(cb_client, gather.get("action", ""), Digits="3")
    assert thanks is not None and thanks.find("Hangup") is not None
    assert [s for _l, s in said(thanks)] == [es.gettext(texts.PROMPTS["callback_thanks"])]
    drain_node(cb_node)
    from intake.node import open_cases

    store = open_cases(cb_node.settings, cb_node.keys)
    try:
        row = store._conn.execute("SELECT answer, channel FROM worker_questions WHERE id = ?", (qid,)).fetchone()
        assert tuple(row) == ("no", "voice")
        status = store._conn.execute("SELECT worker_confirmation FROM cases WHERE id = ?", (case_id,)).fetchone()
        assert tuple(status) == ("no",)
    finally:
        store.close()


def test_no_call_back_unless_the_group_turned_it_on(tmp_path: Path) -> None:
    node = _node(tmp_path, voice_callback=0)
    with TestClient(create_intake_app(node.settings)) as client:
        filed(client, phone=PHONE, contact_ok=True)
        _resolve(node)
        queued = _outbox(client)
    assert len(queued) == 1 and call_token(queued[0][1]) is None  # the SMS only


def test_no_call_back_to_a_worker_who_did_not_agree(cb_node: Node, cb_client: TestClient) -> None:
    filed(cb_client, phone=PHONE, contact_ok=False)
    _resolve(cb_node)
    assert _outbox(cb_client) == []


def test_the_setting_is_off_or_on(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="voice_callback"):
        make_node(tmp_path / "bad", voice_callback=2)


def test_a_call_back_needs_the_public_url(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n")
    with pytest.raises(GatewayError) as info:
        callback_url(node.settings, "token")
    assert not info.value.retry  # dropped by the sender, not retried for ever


# -- the call's webhooks ----------------------------------------------------------------------------------
def test_the_answer_is_sealed_once_however_often_twilio_retries(cb_node: Node, cb_client: TestClient) -> None:
    token = asked(cb_client, filed(cb_client))
    _r, xml = post(cb_client, f"/twilio/voice/callback?t={token}")
    action = xml.find("Gather").get("action", "")  # type: ignore[union-attr]
    first = post(cb_client, action, Digits="1")[1]
    again = post(cb_client, action, Digits="1")[1]  # Twilio's retry of the same webhook
    assert said(first) == said(again)  # the same thanks
    found = answers(cb_node, cb_client)
    assert [(a["question"], a["answer"], a["channel"]) for a in found] == [(QID, 1, "voice")]
    _r, used = post(cb_client, f"/twilio/voice/callback?t={token}")  # the token, used
    gone = i18n.translations("en").gettext(texts.PROMPTS["callback_gone"])
    assert [s for _l, s in said(used)] == [gone] and used.find("Gather") is None


def test_no_key_or_a_wrong_one_asks_once_more_then_says_goodbye(cb_node: Node, cb_client: TestClient) -> None:
    token = asked(cb_client, filed(cb_client))
    _r, xml = post(cb_client, f"/twilio/voice/callback?t={token}")
    redirect = xml.find("Redirect")
    assert redirect is not None and "retry=1" in (redirect.text or "")  # no key: asked again
    _r, again = post(cb_client, redirect.text or "")
    assert again.find("Gather") is not None and again.find("Redirect") is None
    assert again.find("Hangup") is not None  # after the second asking, goodbye
    action = xml.find("Gather").get("action", "")  # type: ignore[union-attr]
    _r, wrong = post(cb_client, action, Digits="7")
    second = wrong.find("Gather")
    assert second is not None and parse_qs(urlsplit(second.get("action", "")).query)["retry"] == ["1"]
    _r, bye = post(cb_client, second.get("action", ""), Digits="#")
    en = i18n.translations("en")
    assert bye.find("Hangup") is not None and [s for _l, s in said(bye)] == [en.gettext(texts.PROMPTS["goodbye"])]
    assert answers(cb_node, cb_client) == []


@pytest.mark.parametrize("token", ["", "bm90LWEtdG9rZW4", "x" * 2000])
def test_an_unknown_token_hears_a_polite_generic_sentence(cb_client: TestClient, token: str) -> None:
    gone = i18n.translations("en").gettext(texts.PROMPTS["callback_gone"])
    for path in ("/twilio/voice/callback", "/twilio/voice/callback/answer"):
        r, xml = post(cb_client, f"{path}?t={token}", Digits="1")
        assert r.status_code == 200 and xml is not None
        assert [s for _l, s in said(xml)] == [gone] and xml.find("Hangup") is not None


def test_a_token_for_a_withdrawn_or_unknown_question_leads_nowhere(cb_node: Node, cb_client: TestClient) -> None:
    filed(cb_client)
    token = seal_token(cb_node.settings, "no-such-question", "en")
    _r, xml = post(cb_client, f"/twilio/voice/callback/answer?t={token}", Digits="1")
    assert xml.find("Gather") is None and answers(cb_node, cb_client) == []


def test_unsigned_or_forged_webhooks_are_refused(cb_node: Node, cb_client: TestClient) -> None:
    token = asked(cb_client, filed(cb_client))
    for path in (f"/twilio/voice/callback?t={token}", f"/twilio/voice/callback/answer?t={token}"):
        assert cb_client.post(path, data={"Digits": "1"}).status_code == 403
        forged = cb_client.post(path, data={"Digits": "1"}, headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
        assert forged.status_code == 403
    assert answers(cb_node, cb_client) == []


def test_a_language_twilio_cannot_speak_falls_back_to_the_default(cb_client: TestClient) -> None:
    token = asked(cb_client, filed(cb_client), locale="km")  # Khmer: recorded prompts only, none here
    _r, xml = post(cb_client, f"/twilio/voice/callback?t={token}")
    gather = xml.find("Gather")
    assert gather is not None and [lang for lang, _s in said(gather)] == ["en-US"]  # never silence
