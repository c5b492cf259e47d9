"""A whole call, as Twilio would make it: signed webhooks in, the recording served by a local
HTTP server that stands in for Twilio's media URL (and records the DELETE that must follow)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

import pytest
from fastapi.testclient import TestClient
from twilio.request_validator import RequestValidator

from channels.server import create_intake_app
from tests.conftest import Node, make_node
from tests.prism import prism

__all__ = ["prism"]

TOKEN = "synthetic-voice-token"
PUBLIC = "https://intake.example.org"
SID = "AC" + "0123456789abcdef" * 2
CALLER = "+639170000002"
MP3 = b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes([0xFF, 0xFB, 0x90, 0x64]) + b"\x00" * 4000


@dataclass
class FakeMedia:
    """Serves recordings under /2010-04-01/Accounts/<sid>/Recordings/<RE>.mp3 and accepts DELETE."""

    audio: dict[str, tuple[int, bytes, str]] = field(default_factory=dict)  # sid -> (status, body, type)
    not_ready: dict[str, int] = field(default_factory=dict)  # sid -> 404s before the audio
    deleted: list[str] = field(default_factory=list)
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, auth header)
    base: str = ""
    # The REST lists `intake voice pull` reads: recordings (sid -> call sid) and calls (sid -> status).
    listed: dict[str, str] = field(default_factory=dict)
    calls: dict[str, str] = field(default_factory=dict)
    undeletable_calls: set[str] = field(default_factory=set)  # Twilio's error 20009: not finished yet
    deleted_calls: list[str] = field(default_factory=list)

    def page(self, path: str) -> bytes | None:
        """A Twilio list page (JSON) for Recordings.json / Calls.json, else None."""
        account = f"/2010-04-01/Accounts/{SID}"
        route = path.split("?")[0]
        meta = {"first_page_uri": route, "next_page_uri": None, "previous_page_uri": None, "page": 0,
                "page_size": 100, "start": 0, "end": 0, "uri": route}  # fmt: skip
        if route == f"{account}/Recordings.json":
            items = [
                {"sid": sid, "call_sid": call, "status": "completed", "duration": "12", "account_sid": SID}
                for sid, call in self.listed.items()
                if sid not in self.deleted
            ]
            return json.dumps({"recordings": items, **meta}).encode()
        if route == f"{account}/Calls.json":
            items = [{"sid": sid, "status": status, "account_sid": SID} for sid, status in self.calls.items()]
            return json.dumps({"calls": items, **meta}).encode()
        return None

    def sid_of(self, path: str) -> str:
        m = re.search(r"/Recordings/(RE\w+?)(?:\.\w+)?$", path)
        return m.group(1) if m else ""


@pytest.fixture
def media() -> Iterator[FakeMedia]:
    state = FakeMedia()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            state.requests.append(("GET", self.path, self.headers.get("Authorization", "")))
            listing = state.page(self.path)
            if listing is not None:
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(listing)))
                self.end_headers()
                self.wfile.write(listing)
                return
            sid = state.sid_of(self.path)
            if state.not_ready.get(sid, 0) > 0:
                state.not_ready[sid] -= 1
                self.send_response(404)
                self.end_headers()
                return
            status, body, ctype = state.audio.get(sid, (404, b"", "text/plain"))
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_DELETE(self) -> None:
            state.requests.append(("DELETE", self.path, self.headers.get("Authorization", "")))
            call = re.search(r"/Calls/(CA\w+?)\.json$", self.path)
            if call:
                if call.group(1) in state.undeletable_calls:
                    body = b'{"code": 20009, "message": "Cannot delete this resource before it is complete", "status": 400}'
                    self.send_response(400)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                state.deleted_calls.append(call.group(1))
                self.send_response(204)
                self.end_headers()
                return
            sid = state.sid_of(self.path.replace(".json", ""))
            state.deleted.append(sid)
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def voice_node(tmp_path: Path, media: FakeMedia) -> Node:
    return make_node(
        tmp_path / "node", twilio_auth_token=TOKEN, public_url=PUBLIC, twilio_account_sid=SID,
        twilio_number="+15550001111", twilio_api_base=media.base,
    )  # fmt: skip


@pytest.fixture
def call_client(voice_node: Node) -> Iterator[TestClient]:
    app = create_intake_app(voice_node.settings)
    with TestClient(app) as c:
        yield c


def post(client: TestClient, path_and_query: str, **params: str):
    """A signed Twilio request to ``path_and_query``; returns (response, parsed TwiML or None)."""
    params = {"AccountSid": SID, "CallSid": "CA" + "1" * 32, "From": CALLER, "To": "+15550001111", **params}
    signature = RequestValidator(TOKEN).compute_signature(PUBLIC + path_and_query, params)
    r = client.post(path_and_query, data=params, headers={"X-Twilio-Signature": signature})
    is_xml = r.headers.get("content-type", "").startswith("application/xml")
    xml = ElementTree.fromstring(r.text) if is_xml else None  # noqa: S314 - our own TwiML, in a test
    return r, xml


def follow(xml: ElementTree.Element) -> str:
    """The URL the call goes to next: a Gather's action or a Redirect."""
    gather = xml.find("Gather")
    if gather is not None:
        return gather.get("action", "")
    redirect = xml.find("Redirect")
    assert redirect is not None, ElementTree.tostring(xml)
    return redirect.text or ""


def menu_position(home: Path, locale: str) -> tuple[int, str]:
    """(page, digit) of ``locale`` in the hotline's language menu: 8 to a page, in the menu's order."""
    from channels.voice.routes import PER_PAGE
    from channels.voice.voices import voices

    index = [v.locale for v in voices(home)].index(locale)
    return index // PER_PAGE, str(index % PER_PAGE + 1)


def choose_language(client: TestClient, home: Path, locale: str) -> tuple[ElementTree.Element, ElementTree.Element]:
    """Call in, press 9 until ``locale``'s page, press its digit: (that page's menu, the next step's TwiML)."""
    from channels.voice.routes import MORE_DIGIT

    page, digit = menu_position(home, locale)
    _, menu = post(client, "/twilio/voice")
    for _ in range(page):
        _, redirect = post(client, follow(menu), Digits=MORE_DIGIT)
        _, menu = post(client, follow(redirect))
    _, after = post(client, follow(menu), Digits=digit)
    return menu, after
