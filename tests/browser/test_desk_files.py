"""Evidence files on the desk in Debian's Chromium (issue 16 item 6): a worker's photo, drained in on
unlock, shows inline on the case page; a PDF is a download with its metadata warning; a caseworker
attaches a phone photo to a CAP step through the form and it shows there, without its GPS.

Every request stays on the desk's origin and no page breaks its own CSP (no console errors).
Screenshots go to test-artifacts/desk-files-*.png.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from intake.domain import Channel, Report
from intake.evidence import clean
from intake.node import open_cases
from intake.services import IntakeService, accept_report
from intake.store.actions import Actions
from intake.store.casework import CaseWork
from tests.browser.test_desk import LiveDesk, live_desk, submit, text  # noqa: F401 - the fixture
from tests.browser.test_web_form import Recorder
from tests.intake import hostile_files as h

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WARNING = "This file is kept as the worker sent it and may contain the author's name or other details."
WORDS = "The fire exit on floor 3 is chained shut every night. Photo and our pay slip attached."


def test_a_workers_photo_shows_inline_and_a_pdf_is_a_download(
    live_desk: LiveDesk,  # noqa: F811 - the fixture imported above
    browser: Any,
    artifacts: Path,
    tmp_path: Path,
) -> None:
    node = live_desk.node
    service = IntakeService.open(node.settings)
    try:
        photo = clean(h.jpeg_with_exif_gps(b"PX", b"EXIFMARKER"))
        accept_report(service, Report(description=WORDS, channel=Channel.WEB), files=[photo, clean(h.pdf())])
    finally:
        service.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US", accept_downloads=True)
    try:
        page = context.new_page()
        seen = Recorder(page)
        console: list[str] = []

        def on_console(msg: Any) -> None:
            if msg.type == "error" and "favicon" not in str(msg.location):
                console.append(msg.text)

        page.on("console", on_console)
        page.goto(live_desk.url("/login"))
        page.select_option("#user", node.user)
        page.fill("#passphrase", node.passphrase)
        submit(page, 'form.login button[type="submit"]')  # unlocking drains the report and its files
        submit(page, "table.cases tbody tr td:first-child a")
        case_path = page.url.removeprefix(live_desk.base)
        case_id = int(case_path.rsplit("/", 1)[1])

        image = page.locator("ul.files img").first
        image.wait_for()
        assert image.get_attribute("src") == f"{case_path}/files/1"
        assert page.evaluate("() => document.querySelector('ul.files img').complete")
        width = page.evaluate("() => document.querySelector('ul.files img').naturalWidth")
        assert width == Image.open(io.BytesIO(photo.data)).size[0] > 0, "the photo was loaded and decoded"
        link = page.locator(f'ul.files a[href="{case_path}/files/2"]')
        assert link.get_attribute("download") is not None and "PDF" in text(page, "ul.files li:nth-child(2)")
        assert page.locator("ul.files p.warning").is_visible() and text(page, "ul.files p.warning") == WARNING
        page.screenshot(path=str(artifacts / "desk-files-01-case.png"), full_page=True)
        with page.expect_download() as download:
            link.click()
        saved = tmp_path / "saved.pdf"
        download.value.save_as(saved)
        assert download.value.suggested_filename == f"case-{case_id}-file-2.pdf"
        assert saved.read_bytes() == h.pdf()

        # A caseworker attaches a phone photo to a step of the plan.
        store = open_cases(node.settings, node.keys)
        try:
            step = Actions(CaseWork(store, node.keys)).add(case_id, "Unchain the exit", "employer", "2099-01-31")
        finally:
            store.close()
        page.goto(live_desk.url(case_path))
        phone = tmp_path / "IMG_0042.jpg"
        phone.write_bytes(h.jpeg_with_exif_gps(b"QZ", b"EXIFMARKER"))
        form = f'form[action="{case_path}/actions/{step}/files"]'
        page.set_input_files(f'{form} input[type="file"]', str(phone))
        submit(page, f'{form} button[type="submit"]')
        attached = page.locator(f'#action-{step} ul.files img[src="{case_path}/files/3"]')
        attached.wait_for()
        assert page.evaluate(f"() => document.querySelector('#action-{step} ul.files img').naturalWidth") > 0
        page.screenshot(path=str(artifacts / "desk-files-02-step.png"), full_page=True)
        seen.assert_only(live_desk.base)
        assert console == [], f"the browser reported errors (a CSP violation?): {console}"
    finally:
        context.close()
