"""MMS and WhatsApp media through Twilio's signed webhook, end to end: a real local HTTP server stands
in for Twilio's API (and its media CDN); the files are fetched, cleaned, sealed, then deleted there."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

import i18n
from channels.server import create_intake_app
from channels.sms import texts
from channels.sms.media import MediaFetcher
from crypto import open_item
from crypto.stream import open_stream_bytes
from intake.node import open_inbox
from intake.services import file_label
from tests.channels.sms.twilio_standin import SID, Served, Standin, standin
from tests.conftest import Node, drain_node, make_node
from tests.intake.hostile_files import jpeg, jpeg_with_exif_gps

__all__ = ["standin"]

TOKEN = "synthetic-auth-token"
PUBLIC = "https://intake.example.org"
WA_FROM = "whatsapp:+14155238886"
PHONE = "+8613800138000"
WA = "whatsapp:" + PHONE


def msid(n: int) -> str:
    return f"MM{n:032x}"


def mesid(n: int) -> str:
    return f"ME{n:032x}"


@pytest.fixture
def node(tmp_path: Path, standin: Standin) -> Node:
    return make_node(
        tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, twilio_account_sid=SID,
        twilio_api_base=standin.base, twilio_whatsapp_from=WA_FROM, twilio_number="+15550001111",
    )  # fmt: skip


@pytest.fixture
def client(node: Node, standin: Standin) -> Iterator[TestClient]:
    app = create_intake_app(node.settings)
    with TestClient(app) as c:
        app.state.sms.media.close()
        # No waiting between tries in tests; the CDN stand-in is the one host a redirect may reach.
        app.state.sms.media = MediaFetcher(app.state.service, delays=(0.0,), media_hosts=(standin.cdn,))
        yield c


def post(client: TestClient, route: str, params: dict[str, str], token: str = TOKEN, signed: bool = True):
    headers = {}
    if signed:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(PUBLIC + route, params)
    r = client.post(route, data=params, headers=headers)
    client.app.state.sms.media.join()  # type: ignore[attr-defined]
    return r, re.findall(r"<Message>(.*?)</Message>", r.text, re.S)


def message(sid: str, body: str, urls: list[str], sender: str = WA) -> dict[str, str]:
    params = {"From": sender, "To": WA_FROM, "Body": body, "MessageSid": sid, "AccountSid": SID,
              "NumMedia": str(len(urls))}  # fmt: skip
    for i, url in enumerate(urls):
        params[f"MediaUrl{i}"] = url
        params[f"MediaContentType{i}"] = "image/jpeg"
    return params


def media_items(node: Node) -> list[dict]:  # type: ignore[type-arg]
    inbox = open_inbox(node.settings)
    try:
        docs = [(item_id, json.loads(open_item(blob, node.keys.identity))) for _, item_id, blob in inbox.items()]
        out = []
        for item_id, doc in docs:
            if doc["kind"] == "media":
                doc["files"] = {
                    n: open_stream_bytes(chunks, node.keys.identity, label=file_label(item_id, n))
                    for n, chunks in inbox.files(item_id).items()
                }
                out.append(doc)
        return out
    finally:
        inbox.close()


def session_parts(node: Node) -> list[dict]:  # type: ignore[type-arg]
    inbox = open_inbox(node.settings)
    try:
        rows = inbox._conn.execute("SELECT parts FROM sms_sessions").fetchall()
    finally:
        inbox.close()
    return [json.loads(open_item(bytes.fromhex(p), node.keys.identity)) for r in rows for p in json.loads(r[0])]


# -- the webhook refuses what Twilio did not sign ---------------------------------------------------
@pytest.mark.parametrize("route", ["/twilio/whatsapp", "/twilio/sms"])
def test_unsigned_or_forged_webhooks_are_refused_and_fetch_nothing(
    node: Node, client: TestClient, standin: Standin, route: str
) -> None:
    standin.media[mesid(1)] = Served(body=jpeg())
    params = message(msid(1), "wages unpaid", [standin.url(msid(1), mesid(1))])
    assert post(client, route, params, signed=False)[0].status_code == 403
    assert post(client, route, params, token="not-the-token")[0].status_code == 403
    assert standin.requests == [] and media_items(node) == [] and session_parts(node) == []


def test_whatsapp_is_off_unless_configured(tmp_path: Path, standin: Standin) -> None:
    off = make_node(tmp_path / "off", twilio_auth_token=TOKEN, public_url=PUBLIC, twilio_account_sid=SID,
                    twilio_api_base=standin.base)  # fmt: skip
    with TestClient(create_intake_app(off.settings)) as c:
        params = message(msid(2), "hello", [])
        sig = RequestValidator(TOKEN).compute_signature(PUBLIC + "/twilio/whatsapp", params)
        assert c.post("/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": sig}).status_code == 404


# -- a photo with GPS arrives and leaves nothing behind ----------------------------------------------
def test_whatsapp_photo_is_stored_sealed_without_exif_and_deleted_at_twilio(
    node: Node, client: TestClient, standin: Standin
) -> None:
    photo = jpeg_with_exif_gps(b"PIXELMARK", b"EXIFMARK-GPS")
    # Twilio answers the authenticated request with a redirect to its media CDN (help article 223183748).
    standin.media[mesid(3)] = Served(redirect=standin.cdn + "/media/short-lived/" + mesid(3))
    standin.media[mesid(3)].body = photo
    params = message(msid(3), "the fire exit is chained", [standin.url(msid(3), mesid(3))])
    r, replies = post(client, "/twilio/whatsapp", params)
    assert r.status_code == 200 and replies
    [item] = media_items(node)
    assert item["media_sid"] == msid(3) and "missing" not in item
    stored = item["files"][1]
    assert stored[:3] == b"\xff\xd8\xff" and b"EXIFMARK" not in stored and b"Exif\x00\x00" not in stored
    assert item["attachments"][0]["type"] == "image/jpeg"
    # Credentials go to Twilio's API only, never to the host it redirects to.
    gets = [(p, a) for m, p, a in standin.requests if m == "GET"]
    assert gets and all(a.startswith("Basic ") for _, a in gets)
    assert standin.cdn_requests and all(a == "" for _, a in standin.cdn_requests)
    # The Media resource, then the message, deleted at Twilio.
    deletes = standin.calls("DELETE")
    assert f"/2010-04-01/Accounts/{SID}/Messages/{msid(3)}/Media/{mesid(3)}.json" in deletes
    assert f"/2010-04-01/Accounts/{SID}/Messages/{msid(3)}.json" in deletes
    # The conversation links to the media item; the worker's words are a sealed part too.
    parts = session_parts(node)
    assert {"field": "media", "media_sid": msid(3)} in parts
    assert any(p.get("text") == "the fire exit is chained" for p in parts)
    # Twilio retries the webhook: the same reply, nothing stored or fetched twice.
    before = len(standin.requests)
    r2, replies2 = post(client, "/twilio/whatsapp", params)
    assert r2.status_code == 200 and replies2 == replies
    assert len(media_items(node)) == 1 and len(session_parts(node)) == len(parts)
    assert [m for m, _, _ in standin.requests[before:]] == []


def test_a_redirect_away_from_twilios_media_hosts_is_not_followed(
    node: Node, client: TestClient, standin: Standin
) -> None:
    standin.media[mesid(4)] = Served(redirect="http://127.0.0.1:9/steal", body=jpeg())
    post(client, "/twilio/sms", message(msid(4), "photo", [standin.url(msid(4), mesid(4))], sender=PHONE))
    [item] = media_items(node)
    assert "redirected away" in item["missing"] and standin.cdn_requests == []


# -- refused URLs and media Twilio will not serve ----------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/2010-04-01/Accounts/{a}/Messages/{m}/Media/{me}",
        "https://api.twilio.com/2010-04-01/Accounts/AC" + "f" * 32 + "/Messages/{m}/Media/{me}",  # not our account
        "https://api.twilio.com/2010-04-01/Accounts/{a}/Messages/MM" + "f" * 32 + "/Media/{me}",  # another message
        "https://api.twilio.com/2010-04-01/Accounts/{a}/Messages/{m}/Media/{me}?x=1",
        "https://user@api.twilio.com/2010-04-01/Accounts/{a}/Messages/{m}/Media/{me}",
        "file:///etc/passwd",
    ],
)
def test_a_media_url_not_twilios_is_refused_unfetched(
    node: Node, client: TestClient, standin: Standin, url: str
) -> None:
    standin.media[mesid(5)] = Served(body=jpeg())
    params = message(msid(5), "they took our passports", [url.format(a=SID, m=msid(5), me=mesid(5))], sender=PHONE)
    r, _ = post(client, "/twilio/sms", params)
    assert r.status_code == 200
    assert standin.calls("GET") == [] and standin.cdn_requests == []
    [item] = media_items(node)
    assert "not at Twilio's address" in item["missing"]
    assert any(p.get("text") == "they took our passports" for p in session_parts(node))


@pytest.mark.parametrize(
    ("served", "reason"),
    [
        (Served(404), "did not serve"),
        (Served(500), "did not serve"),
        (Served(body=b"\xff\xd8\xff" + b"0" * 3000), "refused (damaged)"),
        (Served(body=b"<html><script>alert(1)</script></html>", content_type="text/html"), "refused"),
        (Served(body=jpeg() + b"\x00" * 5000), "too big"),
        (Served(body=jpeg() + b"\x00" * 5000, lie_length=True), "too big"),
    ],
)
def test_media_twilio_will_not_serve_is_a_missing_item_and_the_words_are_kept(
    tmp_path: Path, standin: Standin, served: Served, reason: str
) -> None:
    small = make_node(
        tmp_path / "small", twilio_auth_token=TOKEN, public_url=PUBLIC, twilio_account_sid=SID,
        twilio_api_base=standin.base, max_file_bytes=4096,
    )  # fmt: skip
    app = create_intake_app(small.settings)
    with TestClient(app) as c:
        app.state.sms.media.close()
        app.state.sms.media = MediaFetcher(app.state.service, delays=(0.0, 0.0), media_hosts=(standin.cdn,))
        standin.media[mesid(6)] = served
        r, _ = post(c, "/twilio/sms", message(msid(6), "no pay for overtime", [standin.url(msid(6), mesid(6))], PHONE))
        assert r.status_code == 200
    [item] = media_items(small)
    assert reason in item["missing"] and item["files"] == {}
    assert any(p.get("text") == "no pay for overtime" for p in session_parts(small))
    if served.status != 200:  # not served: retried, then left at Twilio (the body blanked, not deleted)
        assert len(standin.calls("GET")) == 3
        assert standin.calls("DELETE") == [] and standin.calls("POST")
    else:  # refused: nothing worth keeping at Twilio either
        assert f"/2010-04-01/Accounts/{SID}/Messages/{msid(6)}/Media/{mesid(6)}.json" in standin.calls("DELETE")


# -- a file is part of the story; more than max_files are not taken ----------------------------------
def test_a_photo_alone_is_the_story_and_the_report_links_to_it(
    node: Node, client: TestClient, standin: Standin
) -> None:
    standin.media[mesid(7)] = Served(body=jpeg())
    post(client, "/twilio/whatsapp", message(msid(7), "", [standin.url(msid(7), mesid(7))]))
    flow = ["1", "Acme Garments", "DONE", "1", "0", "NO"]  # English, factory, done, wages, internal, no contact
    for i, text in enumerate(flow, start=10):
        _r, replies = post(client, "/twilio/whatsapp", message(f"SM{i:032x}", text, []))
    assert re.search(r"\d{4}-\d{4}-\d{4}-\d{4}", replies[-1]), "DONE was accepted: the photo is the story"
    _result, cases = drain_node(node)
    assert [c.channel.value for c in cases] == ["whatsapp"]


def test_more_files_than_allowed_are_not_fetched_and_the_worker_is_told(tmp_path: Path, standin: Standin) -> None:
    one = make_node(
        tmp_path / "one", twilio_auth_token=TOKEN, public_url=PUBLIC, twilio_account_sid=SID,
        twilio_api_base=standin.base, max_files=1,
    )  # fmt: skip
    app = create_intake_app(one.settings)
    with TestClient(app) as c:
        for n in (8, 9, 10):
            standin.media[mesid(n)] = Served(body=jpeg())
        urls = [standin.url(msid(8), mesid(n)) for n in (8, 9, 10)]
        _r, replies = post(c, "/twilio/sms", message(msid(8), "三个月没发工资", urls, sender=PHONE))
    told = i18n.translations("zh_Hans").gettext(texts.TOO_MANY_FILES).format(n=1)
    assert told in replies
    assert len(standin.calls("GET")) == 1 and len(media_items(one)[0]["files"]) == 1


def test_stop_with_a_photo_keeps_nothing_and_deletes_it_at_twilio(
    node: Node, client: TestClient, standin: Standin
) -> None:
    standin.media[mesid(11)] = Served(body=jpeg())
    post(client, "/twilio/whatsapp", message(msid(11), "STOP", [standin.url(msid(11), mesid(11))]))
    assert media_items(node) == [] and standin.calls("GET") == []
    assert f"/2010-04-01/Accounts/{SID}/Messages/{msid(11)}.json" in standin.calls("DELETE")


# -- WhatsApp's 24-hour window for replies the desk queues -------------------------------------------
def test_a_queued_whatsapp_reply_waits_outside_the_window_and_goes_inside_it(
    node: Node, client: TestClient, standin: Standin
) -> None:
    from channels.sms.pull import pull
    from channels.sms.twilio_rest import TwilioGateway
    from intake import clock

    sms = client.app.state.sms  # type: ignore[attr-defined]
    inbox = sms.service.inbox
    inbox.queue("twilio", *sms.seal_recipient(WA, "A caseworker replied."))
    result = pull(sms, TwilioGateway(node.settings))
    assert result.whatsapp_waiting == 1 and result.sent == 0 and result.dropped == 0
    assert not [p for p in standin.calls("POST") if "Messages.json" in p], "no free text outside the window"
    assert inbox.outbox_due("twilio", 2**62), "still queued, not dropped"
    post(client, "/twilio/whatsapp", message("SM" + "e" * 32, "hello again", []))  # the worker writes: open
    later = pull(sms, TwilioGateway(node.settings), now=clock.time() + 3600)
    assert later.sent == 1 and later.whatsapp_waiting == 0
    [sent] = [p for p in standin.calls("POST") if "/Messages.json" in p]
    assert "From=whatsapp%3A%2B14155238886" in sent and "To=whatsapp%3A%2B8613800138000" in sent
    assert inbox.outbox_due("twilio", 2**62) == []
