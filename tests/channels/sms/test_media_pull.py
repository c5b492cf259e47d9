"""`intake sms pull` with MMS / WhatsApp files, and the edge cases of media in a conversation
(issue 16): the pull fetches a message's files through the webhook's own MediaFetcher before it
deletes the message (deleting it deletes its media at Twilio); STOP with a photo keeps nothing even
when retried after a crash; an answer digit with a photo links the photo to the answer's case;
WhatsApp messages are listed and deleted too. A real local HTTP server stands in for Twilio's API
(tests/channels/sms/twilio_standin.py), reached through the real twilio library."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.sms.media import InboundMedia, MediaFetcher, MediaRef
from channels.sms.pull import CURSOR, pull
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from channels.sms.twilio_rest import TwilioGateway
from intake import clock
from intake.answers import post_questions
from intake.domain import Channel, Report
from intake.node import open_cases
from intake.services import IntakeService, accept_report
from intake.store.board_questions import PostedQuestion
from tests.channels.sms.test_media import media_items, mesid, msid, session_parts
from tests.channels.sms.twilio_standin import SID, Served, Standin, standin
from tests.conftest import Node, drain_node, make_node
from tests.intake.hostile_files import jpeg, jpeg_with_exif_gps

__all__ = ["standin"]

NUMBER = "+15550001111"
WA_FROM = "whatsapp:+14155238886"
PHONE = "+8613800138000"
WA = "whatsapp:" + PHONE
ACCOUNT = f"/2010-04-01/Accounts/{SID}/Messages"


@pytest.fixture
def node(tmp_path: Path, standin: Standin) -> Node:
    return make_node(
        tmp_path / "node", twilio_auth_token="synthetic-auth-token", twilio_account_sid=SID,
        twilio_api_base=standin.base, twilio_number=NUMBER, twilio_whatsapp_from=WA_FROM,
    )  # fmt: skip


@pytest.fixture
def sms(node: Node, standin: Standin) -> Iterator[SmsChannel]:
    """The SMS channel as `intake serve` has it: with a fetcher (no waiting between its tries)."""
    service = IntakeService.open(node.settings)
    channel = SmsChannel(service)
    channel.media = MediaFetcher(service, delays=(0.0,), media_hosts=(standin.cdn,))
    try:
        yield channel
    finally:
        channel.media.close()
        service.close()


def recent(minutes: int = 5) -> datetime:
    return (clock.now() - timedelta(minutes=minutes)).replace(microsecond=0)


def run_pull(node: Node, sms: SmsChannel):  # type: ignore[no-untyped-def]
    return pull(sms, TwilioGateway(node.settings))


def at(standin: Standin, method: str, path: str) -> int:
    return [(m, p) for m, p, _ in standin.requests].index((method, path))


# -- 1. a photo that only the pull sees -------------------------------------------------------------
def test_the_pull_fetches_a_photo_before_it_deletes_the_message(node: Node, standin: Standin) -> None:
    photo = jpeg_with_exif_gps(b"PIXELMARK", b"EXIFMARK-GPS")
    standin.inbound(msid(1), PHONE, NUMBER, "the fire exit is chained", recent(), {mesid(1): Served(body=photo)})
    service = IntakeService.open(node.settings)
    try:  # as `intake sms pull` runs it: no fetcher of its own, the pull makes one
        result = run_pull(node, SmsChannel(service))
    finally:
        service.close()
    assert (result.received, result.media, result.deleted, result.media_later) == (1, 1, 1, 0)
    [item] = media_items(node)
    assert item["media_sid"] == msid(1) and "missing" not in item
    assert item["files"][1][:3] == b"\xff\xd8\xff" and b"EXIFMARK" not in item["files"][1]
    # Listed through the Media list resource, fetched, and only then deleted at Twilio.
    media_list = at(standin, "GET", f"{ACCOUNT}/{msid(1)}/Media.json")
    fetched = at(standin, "GET", f"{ACCOUNT}/{msid(1)}/Media/{mesid(1)}")
    deleted = at(standin, "DELETE", f"{ACCOUNT}/{msid(1)}.json")
    assert media_list < fetched < deleted
    assert standin.messages == {}
    assert {"field": "media", "media_sid": msid(1)} in session_parts(node)
    # The next pull finds nothing and fetches nothing.
    before = len(standin.calls("GET"))
    service = IntakeService.open(node.settings)
    try:
        again = run_pull(node, SmsChannel(service))
    finally:
        service.close()
    assert again.received == 0 and len(media_items(node)) == 1
    assert not [p for p in standin.calls("GET")[before:] if "/Media/" in p]


def test_a_file_twilio_does_not_serve_leaves_the_message_for_the_next_pull(
    node: Node, sms: SmsChannel, standin: Standin
) -> None:
    held = recent(10)
    standin.inbound(msid(2), PHONE, NUMBER, "no pay for overtime", held, {mesid(2): Served(500)})
    standin.inbound("SM" + "2" * 32, "+8613800138001", NUMBER, "hello", recent(1), {})
    first = run_pull(node, sms)
    assert first.media_later == 1 and first.received == 2
    assert msid(2) in standin.messages and standin.messages[msid(2)]["body"] == "no pay for overtime"
    assert f"{ACCOUNT}/{msid(2)}.json" not in standin.calls("DELETE")
    assert not [p for p in standin.calls("POST") if msid(2) in p], "not even blanked: untouched"
    assert media_items(node) == [], "nothing stored: the file may still come"
    # The cursor waits at the message left there, though a later one was taken.
    assert datetime.fromisoformat(sms.service.inbox.get_meta(CURSOR) or "") == held.astimezone(UTC)
    standin.media[mesid(2)] = Served(body=jpeg())  # Twilio serves it now
    second = run_pull(node, sms)
    assert second.media == 1 and second.media_later == 0 and standin.messages == {}
    [item] = media_items(node)
    assert len(item["files"]) == 1 and "missing" not in item
    assert sum(p == {"field": "media", "media_sid": msid(2)} for p in session_parts(node)) == 1


def test_after_a_day_a_file_not_served_is_missing_as_on_the_webhook(
    node: Node, sms: SmsChannel, standin: Standin
) -> None:
    old = recent(30 * 60)
    standin.inbound(msid(3), PHONE, NUMBER, "they took our passports", old, {mesid(3): Served(404)})
    result = run_pull(node, sms)
    assert result.media_missing == 1 and result.media_later == 0
    [item] = media_items(node)
    assert "did not serve" in item["missing"] and item["files"] == {}
    # Left at Twilio with its file, the body blanked; not deleted.
    assert standin.messages[msid(3)]["body"] == "" and standin.calls("DELETE") == []
    again = run_pull(node, sms)
    assert again.redacted == 1 and len(media_items(node)) == 1 and standin.calls("DELETE") == []


# -- 2b. STOP with a photo, retried after a crash ---------------------------------------------------
def test_stop_with_a_photo_retried_after_a_crash_keeps_nothing(node: Node, sms: SmsChannel, standin: Standin) -> None:
    standin.media[mesid(4)] = Served(body=jpeg())
    path = f"{ACCOUNT}/{msid(4)}/Media/{mesid(4)}"
    msg = SmsInbound("twilio", msid(4), WA, "STOP", media=InboundMedia(msid(4), (MediaRef(mesid(4), path),)))
    crashed = SmsChannel(sms.service)  # the STOP is committed, then the process dies before the fetch
    assert handle_inbound(crashed, msg) == []
    assert handle_inbound(sms, msg) == []  # Twilio retries the webhook
    assert sms.media is not None
    sms.media.join()
    assert media_items(node) == [] and standin.calls("GET") == []
    assert f"{path}.json" in standin.calls("DELETE") and f"{ACCOUNT}/{msid(4)}.json" in standin.calls("DELETE")
    # The same through a pull: STOP with a photo that waited at Twilio.
    standin.inbound(msid(5), WA, WA_FROM, "STOP", recent(), {mesid(5): Served(body=jpeg())})
    result = run_pull(node, sms)
    assert result.received == 1 and result.media == 0 and media_items(node) == []
    assert standin.calls("GET") == [p for p in standin.calls("GET") if p.endswith(".json")], "no file fetched"
    assert standin.messages == {}


# -- 2a. an answer digit with a photo ---------------------------------------------------------------
def test_an_answer_with_a_photo_links_the_photo_to_the_answers_case(
    node: Node, sms: SmsChannel, standin: Standin
) -> None:
    service = sms.service
    receipt = accept_report(service, Report(channel=Channel.WEB, description="They keep our passports."))
    board = bytes(service.receipts.hash(receipt))
    post_questions(service.inbox, [PostedQuestion("smsQ7Wm2KpLr9TbV", board, "confirm", "back_pay", 0)])
    asked = handle_inbound(sms, SmsInbound("twilio", "SM" + "a" * 32, WA, f"STATUS {receipt}"))
    assert asked[-1].startswith("Has this happened")
    standin.media[mesid(6)] = Served(body=jpeg())
    path = f"{ACCOUNT}/{msid(6)}/Media/{mesid(6)}"
    photo = InboundMedia(msid(6), (MediaRef(mesid(6), path),))
    assert handle_inbound(sms, SmsInbound("twilio", msid(6), WA, "1", media=photo)) == [
        "Thank you, your answer was received."
    ]
    assert sms.media is not None
    sms.media.join()
    _result, cases = drain_node(node)
    assert len(cases) == 1, "no new report: the photo went with the answer"
    store = open_cases(node.settings, node.keys)
    try:
        files = store.attachments(cases[0].id)
    finally:
        store.close()
    assert [f.type for f in files] == ["image/jpeg"], "the photo is on the answer's case, not orphaned"


# -- 2c. WhatsApp messages the webhook missed, and the 24-hour window from when they were sent --------
def test_the_pull_takes_and_deletes_whatsapp_messages_and_their_sent_replies(
    node: Node, sms: SmsChannel, standin: Standin
) -> None:
    standin.inbound("SM" + "b" * 32, WA, WA_FROM, "hello", recent(30 * 60), {})
    standin.messages["SM" + "c" * 32] = {
        "sid": "SM" + "c" * 32, "account_sid": SID, "direction": "outbound-api", "from": WA_FROM, "to": WA,
        "body": "an earlier reply", "status": "read", "date_sent": "Sat, 21 Nov 2026 08:00:00 +0000",
    }  # fmt: skip
    result = run_pull(node, sms)
    assert result.received == 1 and result.deleted == 1 and result.cleaned == 1
    assert standin.messages == {}, "nothing of the WhatsApp conversation left at Twilio"
    # The worker wrote 30 hours ago (not when the pull ran): their window is closed, replies wait.
    assert result.whatsapp_waiting >= 1 and result.sent == 0
    assert not [p for p in standin.calls("POST") if p.startswith(ACCOUNT + ".json")]
    assert sms.whatsapp_waiting(WA, clock.time()) == result.whatsapp_waiting
    assert sms.whatsapp_waiting(PHONE, clock.time()) == 0, "an SMS number never waits"
    # The worker writes again (webhook): the window opens and the replies go.
    handle_inbound(sms, SmsInbound("twilio", "SM" + "d" * 32, WA, "hello again"))
    assert sms.whatsapp_waiting(WA, clock.time()) == 0
    later = pull(sms, TwilioGateway(node.settings), now=clock.time() + 3600)
    assert later.sent >= 1 and later.whatsapp_waiting == 0


# -- 3. what `intake sms pull` prints about files ----------------------------------------------------
def test_intake_sms_pull_prints_its_file_counts(node: Node, standin: Standin) -> None:
    from tests.intake.cli.test_cli import intake

    (node.home / "settings.toml").write_text(
        f'twilio_api_base = "{standin.base}"\ntwilio_number = "{NUMBER}"\ntwilio_whatsapp_from = "{WA_FROM}"\n',
        encoding="utf-8",
    )
    standin.inbound(msid(7), PHONE, NUMBER, "the fire exit is chained", recent(), {mesid(7): Served(body=jpeg())})
    standin.inbound(msid(8), "+8613800138001", NUMBER, "no pay", recent(10), {mesid(8): Served(500)})
    env = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": "synthetic-auth-token", "COLUMNS": "300"}
    out = intake("--home", node.home, "sms", "pull", env=env, timeout=300)
    assert out.code == 0, out
    assert (
        "Messages with files: stored 1, a file not served by Twilio 0, left at Twilio for the next pull 1." in out.out
    ), out.out
