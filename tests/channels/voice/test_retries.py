"""One call is one report and one receipt, however often Twilio retries (issue 12, item 3).

``/twilio/voice/recorded`` posted again with the same CallSid and RecordingSid (Twilio retries a
webhook that timed out; a proxy may replay one) stores nothing more and reads back the same receipt,
as SMS does for a MessageSid. Signed requests; the real intake app and stores; the parallel case
through a real uvicorn on 127.0.0.1.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from xml.etree import ElementTree

import httpx
import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from channels.server import create_intake_app
from tests.channels.voice.conftest import CALLER, PUBLIC, SID, TOKEN, post
from tests.channels.voice.test_call import said, walk_to_recording
from tests.conftest import Node, drain_node

CODE = re.compile(r"(\d \d \d \d, ){3}\d \d \d \d")


def spoken_code(xml: ElementTree.Element) -> str:
    codes = [s for s in said(xml) if CODE.fullmatch(s)]
    assert len(codes) == 2 and codes[0] == codes[1], codes
    return codes[0]


def recorded_url(client: TestClient) -> str:
    *_, record_xml = walk_to_recording(client, "1", "1", "2")
    return record_xml.find("Record").get("action")


def test_three_posts_of_one_recording_make_one_case_with_one_receipt(call_client: TestClient, voice_node: Node) -> None:
    url = recorded_url(call_client)
    codes = []
    for _ in range(3):
        r, xml = post(call_client, url, RecordingSid="RE" + "c" * 32, RecordingDuration="30")
        assert r.status_code == 200
        codes.append(spoken_code(xml))
    assert codes[0] == codes[1] == codes[2], "the same receipt is read back to every retry"
    # Another recording of the same call (the caller called back and spoke again) is its own report.
    _, other = post(call_client, url, RecordingSid="RE" + "d" * 32, RecordingDuration="12")
    assert spoken_code(other) != codes[0]
    result, cases = drain_node(voice_node)
    assert result.cases == 2, "three posts of one recording, one case"
    assert sorted(c.channel.value for c in cases) == ["voice", "voice"]
    # The receipt read back is the one that reaches the case (status board open for it).
    from intake.receipts import parse_receipt

    board = call_client.app.state.service.inbox.board(
        call_client.app.state.service.receipts.hash(parse_receipt(codes[0].replace(", ", "").replace(" ", "")))
    )
    assert board is not None


def test_the_receipt_kept_for_retries_is_not_readable_without_the_call_ids(
    call_client: TestClient, voice_node: Node
) -> None:
    url = recorded_url(call_client)
    _, xml = post(call_client, url, RecordingSid="RE" + "e" * 32, RecordingDuration="9")
    code = spoken_code(xml).replace(", ", "").replace(" ", "")
    inbox = call_client.app.state.service.inbox
    inbox._conn.execute("PRAGMA wal_checkpoint(FULL)")
    for f in voice_node.home.iterdir():
        if f.is_file():
            raw = f.read_bytes()
            assert code.encode() not in raw and ("RE" + "e" * 32).encode() not in raw, f.name
    calls = call_client.app.state.voice_calls
    key = calls.seen_key("CA" + "1" * 32, "RE" + "e" * 32)
    assert inbox.seen(key) is not None
    from crypto import CannotOpen
    from crypto.fields import decrypt_field

    with pytest.raises(CannotOpen):  # another call's ids open nothing
        decrypt_field(calls.receipt_key("CA" + "2" * 32, "RE" + "e" * 32), inbox.seen(key), context=b"voice-receipt")


@pytest.fixture
def live(voice_node: Node) -> Iterator[str]:
    from intake.demo.servers import start_server

    app = create_intake_app(voice_node.settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server, thread = start_server(app, sock)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def test_retries_arriving_together_still_make_one_case(live: str, voice_node: Node) -> None:
    path = "/twilio/voice/recorded?lang=en&consent=0&contact=2"
    params = {"AccountSid": SID, "CallSid": "CA" + "7" * 32, "From": CALLER, "To": "+15550001111",
              "RecordingSid": "RE" + "7" * 32, "RecordingDuration": "20"}  # fmt: skip
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path, params)
    answers: list[str] = []
    lock = threading.Lock()

    def one() -> None:
        r = httpx.post(live + path, data=params, headers={"X-Twilio-Signature": signature}, timeout=30)
        assert r.status_code == 200
        xml = ElementTree.fromstring(r.text)  # noqa: S314 - our own TwiML, in a test
        with lock:
            answers.append(spoken_code(xml))

    threads = [threading.Thread(target=one) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(answers) == 6 and len(set(answers)) == 1, answers
    result, _ = drain_node(voice_node)
    assert result.cases == 1
