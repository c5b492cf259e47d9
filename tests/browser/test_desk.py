"""Scenario 3 (Chen, caseworker) in Debian's Chromium: unlock -> triage -> reply -> close -> lock.

The real desk app is served by uvicorn on loopback; a demo report waits in the inbox and drains in
on unlock. Every request the browser makes must go to the desk itself (the office link is down:
nothing may come from anywhere else), the session cookie must be HttpOnly and SameSite=Strict, no
page may break its own CSP, and afterwards every step must be in a verified audit chain.
Screenshots go to test-artifacts/desk-*.png for a person to look at.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from i18n import d_, dn_
from intake.audit import AuditLog
from intake.demo.data import SAMPLE_REPORTS
from intake.desk.labels import status_label
from intake.domain import BoardStatus, CaseStatus, Channel, Consent, Report
from intake.node import open_cases
from intake.services import IntakeService, read_status, seal_report
from tests.browser.conftest import PHONE
from tests.browser.test_web_form import Recorder
from tests.conftest import Node, make_node
from tests.intake.desk import report

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# The press injury from the demo data: the report Chen's scenario puts first as urgent.
DEMO = next(r for r in SAMPLE_REPORTS if "手指" in r["description"])
REPLY = "我们收到了你的报告，正在要求工厂支付医药费。"


@dataclass
class LiveDesk:
    node: Node
    app: Any
    base: str

    def url(self, path: str) -> str:
        return self.base + path


@pytest.fixture
def live_desk(tmp_path: Path) -> Iterator[LiveDesk]:
    from intake.demo.servers import start_server
    from intake.desk.app import create_desk_app

    node = make_node(tmp_path / "node")
    app = create_desk_app(node.settings)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))  # a free port, held from the start
    port = sock.getsockname()[1]
    server, thread = start_server(app, sock)
    try:
        yield LiveDesk(node, app, f"http://127.0.0.1:{port}")
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def submit(page: Any, selector: str) -> None:
    """Click a form's submit button and wait for the page the server answers with."""
    with page.expect_navigation():
        page.click(selector)


def text(page: Any, selector: str) -> str:
    return (page.text_content(selector) or "").strip()


def test_a_caseworker_takes_a_demo_report_from_new_to_resolved(
    live_desk: LiveDesk, browser: Any, artifacts: Path
) -> None:
    node = live_desk.node
    receipt = report(
        node,
        DEMO["description"],
        locale=DEMO["locale"],
        factory=DEMO["factory"],
        location=DEMO["location"],
        categories=DEMO["categories"],
        consent=Consent(int(DEMO["consent"])),
    )
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        seen = Recorder(page)
        console: list[str] = []

        def on_console(msg: Any) -> None:
            # Chromium asks for /favicon.ico by itself (the desk has none): the desk's origin, not a page error.
            if msg.type == "error" and msg.location.get("url") != live_desk.url("/favicon.ico"):
                console.append(f"{msg.text} {msg.location}")

        page.on("console", on_console)

        # 1. Locked: any desk address shows the unlock page.
        page.goto(live_desk.url("/cases"))
        assert page.url == live_desk.url("/login")
        assert text(page, "h1") == d_("Unlock the desk")
        assert context.cookies() == []
        page.screenshot(path=str(artifacts / "desk-01-unlock.png"), full_page=True)

        # 2. Unlock; the weekend's report drains in.
        page.select_option("#user", node.user)
        page.fill("#passphrase", node.passphrase)
        submit(page, 'form.login button[type="submit"]')
        assert page.url == live_desk.url("/cases")
        [cookie] = context.cookies()
        assert cookie["name"] == "desk"
        assert cookie["httpOnly"] is True
        assert cookie["sameSite"] == "Strict"
        assert cookie["domain"] == "127.0.0.1" and cookie["expires"] == -1, "a session cookie for the desk only"
        assert page.evaluate("() => document.cookie") == "", "no script can read the session cookie"
        rows = page.locator("table.cases tbody tr")
        assert rows.count() == 1
        assert DEMO["description"][:20] in (rows.first.text_content() or "")
        page.screenshot(path=str(artifacts / "desk-02-cases.png"), full_page=True)

        # 3. Open the case: the worker's own words, in Chinese.
        submit(page, "table.cases tbody tr td:first-child a")
        case_path = page.url.removeprefix(live_desk.base)
        case_id = int(case_path.rsplit("/", 1)[1])
        assert text(page, "blockquote.words") == DEMO["description"]
        assert page.get_attribute("blockquote.words", "lang") == "zh-Hans"
        assert text(page, "h1 .status") == status_label("new")

        # 4. Triage: urgent (an injury), status triaged.
        page.select_option('form.triage select[name="status"]', "triaged")
        page.select_option('form.triage select[name="severity"]', "urgent")
        submit(page, 'form.triage button[type="submit"]')
        assert text(page, "p.notice") == d_("Saved.")
        assert text(page, "h1 .status") == status_label("triaged")
        page.screenshot(path=str(artifacts / "desk-03-triaged.png"), full_page=True)

        # 5. A reply for the worker's status board.
        page.fill("#reply", REPLY)
        submit(page, f'form[action="{case_path}/reply"] button[type="submit"]')
        assert text(page, "p.notice") == d_("Reply posted on the status board.")
        assert text(page, ".entries li.reply p") == REPLY

        # 6. Investigating, then resolved.
        for status in ("investigating", "resolved"):
            page.select_option('form.triage select[name="status"]', status)
            submit(page, 'form.triage button[type="submit"]')
            assert text(page, "p.notice") == d_("Saved.")
            assert text(page, "h1 .status") == status_label(status)
        page.screenshot(path=str(artifacts / "desk-04-resolved.png"), full_page=True)

        # The list shows it as resolved and urgent.
        page.goto(live_desk.url("/cases"))
        assert page.locator("table.cases tbody tr.sev-urgent").count() == 1
        assert text(page, "table.cases tbody tr td:nth-child(3)") == status_label("resolved")

        # 7. Lock: back to the unlock page; the cookie is gone and the case is out of reach.
        submit(page, 'form[action="/lock"] button[type="submit"]')
        assert page.url == live_desk.url("/login")
        assert text(page, "h1") == d_("Unlock the desk")
        assert context.cookies() == []
        page.screenshot(path=str(artifacts / "desk-05-locked.png"), full_page=True)
        page.goto(live_desk.url(case_path))
        assert page.url == live_desk.url("/login")
        assert DEMO["description"][:10] not in page.content()

        seen.assert_only(live_desk.base)
        assert any(u.endswith("/static/desk.css") for u in seen.urls), "the desk's own stylesheet was not loaded"
        assert console == [], f"the browser reported errors (a CSP violation?): {console}"
    finally:
        context.close()

    # The worker's status board: closed, with the reply.
    service = IntakeService.open(node.settings)
    try:
        status = read_status(service, receipt)
    finally:
        service.close()
    assert status.status is BoardStatus.CLOSED
    assert [m for _t, m in status.messages] == [REPLY]

    # Every step is in a verified audit chain.
    store = open_cases(node.settings, node.keys)
    try:
        assert store.get_case(case_id).status is CaseStatus.RESOLVED
        assert store.get_case(case_id).severity == "urgent"
        log = AuditLog(store, node.keys)
        result = log.verify()
        entries = list(reversed(log.entries()))
    finally:
        store.close()
    assert result.ok, result.reason
    assert result.entries == len(entries) > 0
    assert all(e.case_id == case_id and e.user == node.user for e in entries)
    asked = [e.action for e in entries if e.action.startswith("question_")]
    # Resolving asks the worker whether it happened and schedules the retaliation check-ins (issue 15).
    assert asked and set(asked) == {"question_ask"}, asked
    changes = [
        (e.action, e.detail.get("status"), e.detail.get("severity"))
        for e in entries
        if e.action != "view" and not e.action.startswith("question_")
    ]
    assert changes == [
        ("update", "triaged", None),  # the injury was already flagged urgent when the report was drained
        ("reply", None, None),
        ("update", "investigating", None),
        ("update", "resolved", None),
    ]
    assert [e.action for e in entries].count("view") >= 5, "every page of the case was a view"
    closing = [e for e in entries if e.detail.get("status") == "resolved"]
    # The demo report gave no contact, so closing shredded nothing and says so by omission.
    assert len(closing) == 1 and "contact_shredded" not in closing[0].detail


def test_a_coordinator_reviews_and_approves_a_summary(live_desk: LiveDesk, browser: Any, artifacts: Path) -> None:
    """Scenario 4 (Wang): the summary as it would leave, every removal marked, approved in the browser."""
    from nacl.public import PrivateKey
    from nacl.signing import SigningKey

    from crypto.envelope import partner_key_string
    from relay.gate import Relay

    node = live_desk.node
    words = "我叫李伟，工号12345，电话13812345678。车间主任扣了我们三个月的加班费，一共6000元。"
    report(node, words, locale="zh_Hans", factory="示例电子厂", consent=Consent.ANONYMISED)
    store = open_cases(node.settings, node.keys)
    try:
        key = partner_key_string(PrivateKey.generate().public_key, SigningKey.generate().verify_key)
        Relay(store, node.keys).add_partner("monitor", key)
    finally:
        store.close()
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        page = context.new_page()
        seen = Recorder(page)
        page.goto(live_desk.url("/login"))
        page.fill("#passphrase", node.passphrase)
        submit(page, 'form.login button[type="submit"]')
        page.goto(live_desk.url("/relay"))
        submit(page, "table.cases tbody tr td:first-child a")
        summary = text(page, "blockquote.summary")
        for secret in ("李伟", "12345", "13812345678"):
            assert secret not in summary
        assert "6000元" in summary, "the evidence stays"
        marks = page.locator("blockquote.summary mark")
        assert marks.count() >= 3
        # The highlight is really drawn (the stylesheet applies under the desk's CSP).
        assert page.eval_on_selector("blockquote.summary mark", "e => getComputedStyle(e).backgroundColor") != (
            "rgba(0, 0, 0, 0)"
        )
        assert page.locator("blockquote.source del").count() >= 3
        page.screenshot(path=str(artifacts / "desk-06-relay-review.png"), full_page=True)
        submit(page, 'form[action$="/relay/approve"] button[type="submit"]')
        approved = dn_(
            "Approved and sealed for {n} partner. Send with 'intake relay push' or 'intake relay export'.",
            "Approved and sealed for {n} partners. Send with 'intake relay push' or 'intake relay export'.",
            1,
        )
        assert text(page, "p.notice") == approved.format(n=1)
        assert "1 partners" not in page.content()
        assert text(page, "p.relay-state strong") == d_("Approved")
        seen.assert_only(live_desk.base)
    finally:
        context.close()
    store = open_cases(node.settings, node.keys)
    try:
        assert store._conn.execute("SELECT count(*) FROM relay_outbox").fetchone()[0] == 1
        assert AuditLog(store, node.keys).verify().ok
    finally:
        store.close()


def a_call(node: Node) -> None:
    """A hotline call as the voice channel leaves it: no written words, a recording on its way."""
    service = IntakeService.open(node.settings)
    try:
        spoken = Report(channel=Channel.VOICE, locale="en", consent=Consent.ANONYMISED)
        item_id, blob, _receipt, board = seal_report(service, spoken, recording_sid="RE" + "7" * 32)
        service.inbox.put(item_id, blob, board=board)
    finally:
        service.close()


# Every link's accessible text, as axe's link-name rule reads it (text, aria-label or an image's alt).
NAMELESS_LINKS = """() => [...document.querySelectorAll('a[href]')]
  .filter(a => !(a.innerText.trim() || (a.getAttribute('aria-label') || '').trim()
                 || [...a.querySelectorAll('img[alt]')].some(i => i.alt.trim())))
  .map(a => a.getAttribute('href'))"""


def test_the_desk_fits_a_360_px_phone_and_lock_is_in_reach(live_desk: LiveDesk, browser: Any, artifacts: Path) -> None:
    """At 360x740 no desk page is wider than the screen (a wide table scrolls in its own box), Lock
    is on screen and works, and no link in the case list is nameless (a call has no words)."""
    from nacl.public import PrivateKey
    from nacl.signing import SigningKey

    from crypto.envelope import partner_key_string
    from relay.gate import Relay

    node = live_desk.node
    for sample in SAMPLE_REPORTS[:5]:
        report(
            node, sample["description"], locale=sample["locale"], factory=sample["factory"],
            consent=Consent(int(sample["consent"])),
        )  # fmt: skip
    a_call(node)
    store = open_cases(node.settings, node.keys)
    try:
        key = partner_key_string(PrivateKey.generate().public_key, SigningKey.generate().verify_key)
        Relay(store, node.keys).add_partner("monitor", key)
    finally:
        store.close()
    context = browser.new_context(viewport=PHONE, locale="en-US")
    try:
        page = context.new_page()
        page.goto(live_desk.url("/login"))
        page.fill("#passphrase", node.passphrase)
        submit(page, 'form.login button[type="submit"]')
        assert page.url == live_desk.url("/cases")

        # The call's row: its link names the case instead of being empty (axe link-name).
        assert page.evaluate(NAMELESS_LINKS) == [], "a link in the case list has no text"
        call_row = page.locator("table.cases tbody tr", has_text=d_("Phone call"))
        assert call_row.count() == 1
        call_link = (call_row.locator("td.what a").text_content() or "").strip()
        assert d_("Phone call") in call_link and re.search(r"\d{4}-\d{2}-\d{2}", call_link), call_link
        call_path = call_row.locator("td.what a").get_attribute("href")
        first_path = page.locator("table.cases tbody tr td:first-child a").last.get_attribute("href")

        for path in ("/cases", first_path, call_path, "/dashboard", "/factories", "/relay", f"{first_path}/relay"):
            page.goto(live_desk.url(str(path)))
            assert page.url == live_desk.url(str(path)), path
            width = page.evaluate("() => document.documentElement.scrollWidth")
            assert width <= PHONE["width"], f"{path} is {width} px wide at {PHONE['width']} px"
            lock = page.locator('form[action="/lock"] button[type="submit"]')
            assert lock.is_visible(), path
            box = lock.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], (path, box)
            assert page.evaluate(NAMELESS_LINKS) == [], path
            name = str(path).strip("/").replace("/", "-")
            page.screenshot(path=str(artifacts / f"desk-phone-{name}.png"), full_page=True)

        # The wide case table scrolls inside its own box, not the page.
        page.goto(live_desk.url("/cases"))
        inner = page.eval_on_selector("table.cases", "t => t.parentElement.scrollWidth")
        outer = page.eval_on_selector("table.cases", "t => t.parentElement.clientWidth")
        assert outer <= PHONE["width"] and inner >= outer

        # Lock is reachable with a tap and locks.
        lock = page.locator('form[action="/lock"] button[type="submit"]')
        with page.expect_navigation():
            lock.click()
        assert page.url == live_desk.url("/login")
        assert context.cookies() == []
    finally:
        context.close()
