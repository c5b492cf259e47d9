"""A stand-in for Twilio's API on 127.0.0.1 (``twilio_api_base``) serving MMS / WhatsApp media the
way Twilio does (optionally redirecting to a second, "CDN" server), and recording every request,
its Authorization header and the DELETEs and redactions that must follow. For ``intake sms pull``
it also lists messages (``GET .../Messages.json`` filtered by To or From) and a message's Media
(``GET .../Messages/{Sid}/Media.json``) in the JSON the twilio library reads; deleting a message
deletes its media, as Twilio does."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

SID = "AC" + "0123456789abcdef" * 2


@dataclass
class Served:
    status: int = 200
    body: bytes = b""
    content_type: str = "image/jpeg"
    redirect: str = ""  # a Location (to the CDN stand-in, or elsewhere)
    lie_length: bool = False  # no Content-Length: only counting while streaming catches the size


@dataclass
class Standin:
    media: dict[str, Served] = field(default_factory=dict)  # ME sid -> what GET serves
    requests: list[tuple[str, str, str]] = field(default_factory=list)  # (method, path, Authorization)
    cdn_requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Authorization)
    messages: dict[str, dict[str, str]] = field(default_factory=dict)  # sid -> Twilio's message JSON
    message_media: dict[str, list[str]] = field(default_factory=dict)  # message sid -> its ME sids
    base: str = ""
    cdn: str = ""

    def inbound(self, sid: str, sender: str, to: str, body: str, when: datetime, media: dict[str, Served]) -> str:
        """A message waiting at "Twilio" for ``intake sms pull``, with its files."""
        self.messages[sid] = {
            "sid": sid, "account_sid": SID, "direction": "inbound", "from": sender, "to": to, "body": body,
            "status": "received", "date_sent": format_datetime(when), "num_media": str(len(media)),
        }  # fmt: skip
        self.message_media[sid] = list(media)
        self.media.update(media)
        return sid

    def url(self, message_sid: str, media_sid: str, *, base: str = "https://api.twilio.com") -> str:
        return f"{base}/2010-04-01/Accounts/{SID}/Messages/{message_sid}/Media/{media_sid}"

    def calls(self, method: str) -> list[str]:
        return [p for m, p, _ in self.requests if m == method]


def _handler(state: Standin, *, cdn: bool) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _send(self, status: int, body: bytes = b"", ctype: str = "application/json", length: bool = True) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            if length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def _page(self, key: str, items: list[dict[str, str]]) -> None:
            body = json.dumps({key: items, "next_page_uri": None, "page": 0, "page_size": 100, "start": 0,
                               "end": len(items), "uri": self.path, "first_page_uri": self.path,
                               "previous_page_uri": None}).encode()  # fmt: skip
            self._send(200, body)

        def do_GET(self) -> None:
            auth = self.headers.get("Authorization", "")
            url = urlsplit(self.path)
            listed = re.fullmatch(r"/2010-04-01/Accounts/\w+/Messages(?:/(\w+)/Media)?\.json", url.path)
            if listed and not cdn:
                state.requests.append(("GET", url.path, auth))
                if listed.group(1):
                    media = state.message_media.get(listed.group(1), [])
                    return self._page("media_list", [{"sid": m, "parent_sid": listed.group(1)} for m in media])
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                found = [
                    m for m in state.messages.values()
                    if ("To" not in query or m["to"] == query["To"]) and ("From" not in query or m["from"] == query["From"])
                ]  # fmt: skip
                return self._page("messages", found)
            if cdn:
                state.cdn_requests.append((self.path, auth))
            else:
                state.requests.append(("GET", self.path, auth))
            m = re.search(r"(ME\w{32})$", self.path)
            served = state.media.get(m.group(1) if m else "", Served(404))
            if served.redirect and not cdn:
                self.send_response(307)
                self.send_header("Location", served.redirect)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self._send(served.status, served.body, served.content_type, length=not served.lie_length)

        def do_DELETE(self) -> None:
            state.requests.append(("DELETE", self.path, self.headers.get("Authorization", "")))
            gone = re.search(r"/Messages/(\w+?)(?:/Media/(\w+))?\.json$", self.path)
            if gone and gone.group(2):
                media = state.message_media.get(gone.group(1), [])
                if gone.group(2) in media:
                    media.remove(gone.group(2))
            elif gone:  # deleting a message deletes its media (Twilio, since October 2020)
                state.messages.pop(gone.group(1), None)
                state.message_media.pop(gone.group(1), None)
            self._send(204)

        def do_POST(self) -> None:  # a message update: Body="" (redaction)
            length = int(self.headers.get("Content-Length") or 0)
            form = self.rfile.read(length).decode()
            state.requests.append(("POST", self.path + "?" + form, self.headers.get("Authorization", "")))
            sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
            if sid in state.messages and "Body=" in form:
                state.messages[sid]["body"] = ""
            self._send(200, b'{"sid": "%s", "body": "", "status": "received"}' % sid.encode())

    return Handler


@pytest.fixture
def standin() -> Iterator[Standin]:
    state = Standin()
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _handler(state, cdn=c)) for c in (False, True)]
    threads = [threading.Thread(target=s.serve_forever, daemon=True) for s in servers]
    for t in threads:
        t.start()
    state.base = f"http://127.0.0.1:{servers[0].server_address[1]}"
    state.cdn = f"http://127.0.0.1:{servers[1].server_address[1]}"
    try:
        yield state
    finally:
        for s in servers:
            s.shutdown()
            s.server_close()
