"""A worker attaches a photo of a pay slip from a 360-px phone with JavaScript off (issue 16).

Debian's Chromium against the real intake app on loopback. The photo is made here (Pillow: a white
slip with text drawn on it, EXIF with GPS and the phone's serial). After the receipt, the node's
inbox is drained with the node key and the stored copy must carry no EXIF and no GPS at all.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from intake.node import open_cases
from tests.browser.conftest import PHONE, LiveIntake
from tests.browser.test_web_form import Recorder, shot, submit
from tests.conftest import drain_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

GPS_IFD = 0x8825
WORDS = "Synthetic: my pay slip says 26 days, I worked 30. Photo attached."


def pay_slip_photo() -> bytes:
    """A phone photo of a pay slip: white paper, black text, and EXIF naming where and with what."""
    image = Image.new("RGB", (900, 1200), "white")
    draw = ImageDraw.Draw(image)
    for i, line in enumerate(["PAY SLIP - MARCH", "Days worked: 26", "Overtime: 0", "Net pay: 4,120"]):
        draw.text((60, 80 + 90 * i), line, fill="black", font_size=48)
    exif = Image.Exif()
    exif[0x010F], exif[0x0110], exif[0xA431] = "PhoneMaker", "Model X", "SN-SYNTH-0042"
    gps = exif.get_ifd(GPS_IFD)
    gps[1], gps[2], gps[3], gps[4] = "N", (23.0, 48.0, 36.0), "E", (90.0, 24.0, 0.0)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


@pytest.fixture
def nojs(browser: Any) -> Iterator[Any]:
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="en-US")
    try:
        yield context.new_page()
    finally:
        context.close()


def test_a_pay_slip_photo_from_a_phone_without_javascript(live: LiveIntake, nojs: Any, artifacts: Path) -> None:
    photo = pay_slip_photo()
    original = Image.open(io.BytesIO(photo))
    assert original.getexif().get_ifd(GPS_IFD), "the test photo must carry GPS to begin with"
    page = nojs
    seen = Recorder(page)

    page.goto(live.url("/report"))
    page.fill("#description", WORDS)
    hint = page.text_content("#attachments-hint") or ""
    assert "Location and camera details are removed from photos." in hint
    page.set_input_files("#attachments", files=[{"name": "IMG_2041.jpg", "mimeType": "image/jpeg", "buffer": photo}])
    shot(page, artifacts, "30-report-with-photo")  # no sideways scroll at 360 px with the file input
    submit(page, "/report")

    receipt = (page.text_content("#receipt") or "").strip()
    assert re.match(r"^\d{4}-\d{4}-\d{4}-\d{4}$", receipt), receipt
    assert (page.text_content("#files-received") or "").strip() == "1 file was received with your report."
    shot(page, artifacts, "31-receipt-with-photo")
    seen.assert_only(live.base)

    result, cases = drain_node(live.node)
    assert result.unreadable == 0
    [case] = [c for c in cases if c.description == WORDS]
    store = open_cases(live.node.settings, live.node.keys)
    try:
        [info] = store.attachments(case.id)
        found = store.attachment(case.id, info.n)
    finally:
        store.close()
    assert found is not None
    kept = Image.open(io.BytesIO(found[1]))
    assert info.type == "image/jpeg" and kept.size == original.size
    assert not kept.getexif(), f"EXIF survived: {dict(kept.getexif())}"
    assert not kept.getexif().get_ifd(GPS_IFD)
    assert b"Exif" not in found[1] and b"SN-SYNTH-0042" not in found[1]
    corner = kept.convert("L").getpixel((10, 10))
    assert isinstance(corner, int) and corner > 240  # still the white slip: the picture is there
