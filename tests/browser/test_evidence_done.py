"""Issue 16, "Done when", in one run on one node:

- a worker attaches a photo of a pay slip from a 360 px phone with JavaScript off (Debian's
  Chromium against the real intake on loopback);
- a WhatsApp message with a photo arrives through the signed webhook (its media served by a local
  stand-in for Twilio's API, then deleted there);
- both show on the desk (real desk on loopback, unlocked in the browser, which drains them), and
  the bytes the desk serves carry no EXIF and no GPS;
- a raw-byte scan of every file under the node folder and of every log line finds no clear byte:
  neither the EXIF markers, nor the phone's file name, nor any slice of the cleaned pictures.
"""

from __future__ import annotations

import io
import logging
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw
from twilio.request_validator import RequestValidator

from channels.sms.media import MediaFetcher
from tests.browser.test_desk import submit, text
from tests.browser.test_web_form import Recorder
from tests.channels.sms.twilio_standin import SID, Served, Standin, standin
from tests.conftest import Node, make_node

__all__ = ["standin"]
pytestmark = [pytest.mark.browser, pytest.mark.slow]

TOKEN = "synthetic-auth-token"
WA_FROM = "whatsapp:+14155238886"
WA = "whatsapp:+8613800138000"
GPS_IFD = 0x8825
WEB_MARK, WA_MARK = "EXIF-MARK-WEB-51f0", "EXIF-MARK-WA-9c2e"
WEB_WORDS = "Synthetic: my pay slip says 26 days, I worked 30. Photo attached."
FILE_NAME = "IMG_2041-payslip-Nguyen.jpg"


def photo(lines: list[str], mark: str) -> bytes:
    """A phone photo: text on white paper, EXIF naming the phone, a description and the place."""
    image = Image.new("RGB", (720, 960), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(lines):
        draw.text((40, 60 + 80 * i), line, fill="black", font_size=40)
    exif = Image.Exif()
    exif[0x010E], exif[0x010F], exif[0xA431] = mark, "PhoneMaker", "SN-" + mark
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (23.0, 48.0, 36.0), "E", (90.0, 24.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


class Live:
    def __init__(self, app: Any) -> None:
        from intake.demo.servers import start_server

        self.app = app
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server, self.thread = start_server(app, self.sock)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture
def node(tmp_path: Path, standin: Standin) -> Iterator[Node]:
    public = "https://intake.example.org"
    yield make_node(
        tmp_path / "node", twilio_auth_token=TOKEN, public_url=public, twilio_account_sid=SID,
        twilio_api_base=standin.base, twilio_whatsapp_from=WA_FROM, twilio_number="+15550001111",
    )  # fmt: skip


def whatsapp(base: str, node: Node, sid: str, body: str, urls: list[str]) -> str:
    """POST one WhatsApp message to the intake as Twilio does, signed over the public URL."""
    import httpx

    params = {"From": WA, "To": WA_FROM, "Body": body, "MessageSid": sid, "AccountSid": SID,
              "NumMedia": str(len(urls))}  # fmt: skip
    for i, url in enumerate(urls):
        params[f"MediaUrl{i}"], params[f"MediaContentType{i}"] = url, "image/jpeg"
    signature = RequestValidator(TOKEN).compute_signature(node.settings.public_url + "/twilio/whatsapp", params)
    r = httpx.post(base + "/twilio/whatsapp", data=params, headers={"X-Twilio-Signature": signature}, timeout=30)
    assert r.status_code == 200, r.text
    return r.text


def test_a_web_photo_and_a_whatsapp_photo_reach_the_desk_clean_and_sealed(
    node: Node, standin: Standin, browser: Any, artifacts: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from channels.server import create_intake_app
    from intake.desk.app import create_desk_app

    caplog.set_level(logging.DEBUG)
    web_photo = photo(["PAY SLIP - MARCH", "Days worked: 26", "Net pay: 4,120"], WEB_MARK)
    wa_photo = photo(["TIME CARD", "In 07:00 Out 22:30", "Sunday worked"], WA_MARK)
    intake_app = create_intake_app(node.settings)
    intake = Live(intake_app)
    try:
        # 1. The web form, on a 360 px phone without JavaScript.
        phone = browser.new_context(java_script_enabled=False, viewport={"width": 360, "height": 740}, locale="en-US")
        try:
            page = phone.new_page()
            seen = Recorder(page)
            page.goto(intake.base + "/report")
            page.fill("#description", WEB_WORDS)
            page.set_input_files(
                "#attachments", files=[{"name": FILE_NAME, "mimeType": "image/jpeg", "buffer": web_photo}]
            )
            submit(page, 'form button[type="submit"]')
            assert re.match(r"^\d{4}-\d{4}-\d{4}-\d{4}$", text(page, "#receipt"))
            assert text(page, "#files-received") == "1 file was received with your report."
            assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
            page.screenshot(path=str(artifacts / "evidence-done-01-receipt.png"), full_page=True)
            seen.assert_only(intake.base)
        finally:
            phone.close()

        # 2. WhatsApp: a photo alone, then the short conversation that makes it a report.
        fetcher = intake_app.state.sms.media
        intake_app.state.sms.media = MediaFetcher(intake_app.state.service, delays=(0.0,), media_hosts=(standin.cdn,))
        fetcher.close()
        media_sid, me = "MM" + "7e" * 16, "ME" + "7e" * 16
        standin.media[me] = Served(body=wa_photo)
        whatsapp(intake.base, node, media_sid, "", [standin.url(media_sid, me)])
        intake_app.state.sms.media.join()
        replies = ""
        for i, said in enumerate(["1", "Acme Garments", "DONE", "1", "0", "NO"], start=10):
            replies = whatsapp(intake.base, node, f"SM{i:032x}", said, [])
        assert re.search(r"\d{4}-\d{4}-\d{4}-\d{4}", replies), "the WhatsApp report was not completed"
        assert [p for p in standin.calls("DELETE") if me in p], "the media was not deleted at Twilio"
    finally:
        intake.stop()

    # 3. The desk: unlocking drains both; each case shows its photo, served without metadata.
    desk = Live(create_desk_app(node.settings))
    served: list[bytes] = []
    try:
        context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        try:
            page = context.new_page()
            seen = Recorder(page)
            page.goto(desk.base + "/login")
            page.select_option("#user", node.user)
            page.fill("#passphrase", node.passphrase)
            submit(page, 'form.login button[type="submit"]')
            links = page.locator("table.cases tbody tr td:first-child a")
            hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
            assert len(hrefs) == 2, hrefs
            for k, href in enumerate(hrefs):
                page.goto(desk.base + str(href))
                image = page.locator("ul.files img").first
                image.wait_for()
                assert page.evaluate("() => document.querySelector('ul.files img').naturalWidth") == 720
                page.screenshot(path=str(artifacts / f"evidence-done-0{2 + k}-desk.png"), full_page=True)
                body = page.request.get(desk.base + str(image.get_attribute("src"))).body()
                served.append(body)
            seen.assert_only(desk.base)
        finally:
            context.close()
    finally:
        desk.stop()

    for body in served:
        kept = Image.open(io.BytesIO(body))
        assert kept.size == (720, 960) and not kept.getexif() and not kept.getexif().get_ifd(GPS_IFD)
        assert b"Exif" not in body and b"EXIF-MARK" not in body and b"PhoneMaker" not in body

    # 4. The scan: nothing readable at rest, nothing in the logs.
    raw = b"".join(p.read_bytes() for p in node.home.rglob("*") if p.is_file())
    logs = "\n".join(r.getMessage() for r in caplog.records)
    for needle in (WEB_MARK, WA_MARK, "SN-" + WEB_MARK, FILE_NAME, WEB_WORDS):
        assert needle.encode() not in raw, f"{needle!r} is readable in the node folder"
        assert needle not in logs, f"{needle!r} reached a log line"
    for body in served:  # slices of the cleaned pictures themselves
        for at in (len(body) // 4, len(body) // 2, 3 * len(body) // 4):
            assert body[at : at + 48] not in raw, "a clear slice of a stored picture is on disk"
