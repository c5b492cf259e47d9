"""``intake demo``'s phone call: the real hotline routes, driven as Twilio would drive them.

Twilio itself cannot be reached from a demo, so a tiny loopback server stands in for its media
URL (serving a synthetic two-second tone as the "recording") and records the DELETE that the
node must send once the recording is sealed.
"""

from __future__ import annotations

import io
import math
import re
import struct
import threading
import wave
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.etree import ElementTree

import httpx
from twilio.request_validator import RequestValidator

DEMO_ACCOUNT = "AC" + "0" * 32
DEMO_RECORDING = "RE" + "d" * 32


def tone_wav(seconds: float = 2.0, rate: int = 8000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        frames = b"".join(
            struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / rate))) for i in range(int(seconds * rate))
        )
        w.writeframes(frames)
    return buf.getvalue()


class MediaStandIn:
    """Serves ``/2010-04-01/Accounts/<sid>/Recordings/<RE>.wav`` and accepts its DELETE, on loopback."""

    def __init__(self) -> None:
        audio = tone_wav()
        self.deleted: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
                self.send_header("Content-Length", str(len(audio)))
                self.end_headers()
                self.wfile.write(audio)

            def do_DELETE(self) -> None:
                outer.deleted.append(self.path)
                self.send_response(204)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def simulate_call(base: str, auth_token: str, media_base: str, *, language_digit: str = "1") -> str:
    """One call: language, consent 1, no call-back, a recording; returns the receipt read back."""
    validator = RequestValidator(auth_token)

    def post(client: httpx.Client, url: str, **params: str) -> ElementTree.Element:
        data = {"AccountSid": DEMO_ACCOUNT, "CallSid": "CA" + "d" * 32, "From": "+639170000003", **params}
        signature = validator.compute_signature(base + url, data)
        resp = client.post(url, data=data, headers={"X-Twilio-Signature": signature})
        if resp.status_code not in (200, 204):
            raise RuntimeError(f"demo call refused: HTTP {resp.status_code}")
        return ElementTree.fromstring(resp.text) if resp.text else ElementTree.Element("Response")  # noqa: S314

    def next_url(xml: ElementTree.Element) -> str:
        gather = xml.find("Gather")
        return gather.get("action", "") if gather is not None else ""

    with httpx.Client(base_url=base, timeout=10) as client:
        menu = post(client, "/twilio/voice")
        consent = post(client, next_url(menu), Digits=language_digit)
        contact = post(client, next_url(consent), Digits="1")
        record = post(client, next_url(contact), Digits="2")
        action = record.find("Record")
        if action is None:
            raise RuntimeError("demo call: no <Record>")
        done = post(client, action.get("action", ""), RecordingSid=DEMO_RECORDING, RecordingDuration="2")
        url = f"{media_base}/2010-04-01/Accounts/{DEMO_ACCOUNT}/Recordings/{DEMO_RECORDING}.wav"
        post(
            client,
            "/twilio/voice/recording",
            RecordingSid=DEMO_RECORDING,
            RecordingStatus="completed",
            RecordingUrl=url,
        )
    spoken = " ".join(e.text or "" for e in done.iter("Say"))
    match = re.search(r"(\d \d \d \d, ){3}\d \d \d \d", spoken)
    if match is None:
        raise RuntimeError("demo call: no receipt read back")
    return "-".join(g.replace(" ", "") for g in match.group().split(", "))
