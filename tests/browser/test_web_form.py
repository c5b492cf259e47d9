"""The worker's web flow as a worker sees it: a 360-px phone screen with JavaScript turned off.

Report -> receipt -> status -> follow-up, in Debian's Chromium against the real intake app on
loopback. Every request the page makes must go to the intake itself (no CDN, no font service, no
analytics: docs/threat-model.md#network-observer), and no page may scroll sideways on a small phone.
The form and the status page are rendered in every shipped language (Urdu right to left, mirrored).
Screenshots go to $INTAKE_ARTIFACTS (default tests/artifacts/) for a person to look at.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

import i18n
from intake.node import open_cases
from intake.receipts import parse_receipt
from intake.services import IntakeService
from tests.browser.conftest import PHONE, LiveIntake
from tests.conftest import drain_node

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RECEIPT = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{4}$")
CJK = re.compile(r"[\u4e00-\u9fff]")


class Recorder:
    """Every request a page makes, and every response that was not a success."""

    def __init__(self, page: Any) -> None:
        self.urls: list[str] = []
        self.failed: list[str] = []
        page.on("request", lambda req: self.urls.append(req.url))
        page.on("requestfailed", lambda req: self.failed.append(req.url))
        page.on("response", lambda resp: resp.status >= 400 and self.failed.append(f"{resp.status} {resp.url}"))

    def assert_only(self, base: str) -> None:
        origin = urlsplit(base)[:2]
        assert self.urls, "the page made no requests at all"
        foreign = [u for u in self.urls if urlsplit(u)[:2] != origin]
        assert not foreign, f"requests left the intake's origin {base}: {foreign}"
        assert not self.failed, f"requests failed: {self.failed}"


@pytest.fixture
def nojs(browser: Any) -> Iterator[Any]:
    """A phone-sized page with JavaScript off, as on a cautious worker's phone."""
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="en-US")
    try:
        yield context.new_page()
    finally:
        context.close()


def shot(page: Any, folder: Path, name: str) -> None:
    """Save a full-page screenshot, and check that the page does not scroll sideways at 360 px.

    Playwright's own evaluate and full-page screenshots work with the page's JavaScript off (only
    the page's scripts are stopped), so the layout is measured on the very page the worker sees.
    """
    png = page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    width = struct.unpack(">I", png[16:20])[0]  # the PNG's IHDR width
    scroll = int(page.evaluate("() => document.documentElement.scrollWidth"))
    assert max(width, scroll) <= PHONE["width"], f"{name}: {page.url} scrolls sideways at 360 px ({scroll} px)"


def submit(page: Any, form_action: str) -> None:
    """Click the form's own submit button: a native form post, no script involved."""
    with page.expect_navigation():
        page.click(f'form[action="{form_action}"] button[type="submit"]')


def test_report_status_and_follow_up_without_javascript(live: LiveIntake, nojs: Any, artifacts: Path) -> None:
    page = nojs
    seen = Recorder(page)
    words = "Overtime every Sunday since March, not paid. The line leader keeps our ID cards."

    # 1. The landing page, then the report form.
    page.goto(live.url("/"))
    shot(page, artifacts, "00-landing")
    page.goto(live.url("/report"))
    assert page.get_attribute("html", "lang") == "en"
    page.fill("#description", words)
    page.fill("#factory", "Example Electronics Plant 3")
    page.fill("#location", "Riverside district")
    page.check('input[name="categories"][value="wages"]')
    page.check('input[name="categories"][value="working_hours"]')
    page.check('input[name="consent"][value="1"]')
    box = page.locator("#website").bounding_box()  # the honeypot: for bots, out of a person's sight
    assert box is None or box["x"] + box["width"] <= 0, f"the honeypot field is on screen: {box}"
    shot(page, artifacts, "01-report-form-filled")
    submit(page, "/report")

    # 2. The receipt, read off the page.
    assert page.title()
    receipt = (page.text_content("#receipt") or "").strip()
    assert RECEIPT.match(receipt), f"no receipt code on the page: {receipt!r}"
    assert receipt not in page.url, "a receipt code must never be put in a URL"
    shot(page, artifacts, "02-receipt")

    # 3. The status page: type the code back in.
    page.goto(live.url("/status"))
    page.fill("#receipt", receipt)
    submit(page, "/status")
    status = page.text_content(".status") or ""
    assert status.strip() == i18n.translations("en").gettext("Received. A caseworker has not replied yet.")
    assert page.locator(".messages").count() == 0, "a new report has no replies"
    shot(page, artifacts, "03-status")

    # 4. Add to the report.
    page.fill("#text", "Two more of us were told to sign blank forms today.")
    submit(page, "/status/add")
    assert "Thank you" in (page.text_content("h1") or "")
    shot(page, artifacts, "04-follow-up-added")

    seen.assert_only(live.base)
    assert any(u.endswith("/static/style.css") for u in seen.urls), "the page's own stylesheet was not loaded"
    assert all(receipt not in u for u in seen.urls), "a receipt code travelled in a URL"

    # 5. It really arrived: drain the node and find the report and its follow-up in one case.
    result, cases = drain_node(live.node)
    assert result.unreadable == 0
    mine = [c for c in cases if c.description == words]
    assert len(mine) == 1
    case = mine[0]
    assert case.factory == "Example Electronics Plant 3"
    assert {c.value for c in case.categories} == {"wages", "working_hours"}
    assert int(case.consent) == 1
    assert result.followups == 1
    cases_store = open_cases(live.node.settings, live.node.keys)
    try:
        full = cases_store.get_case(case.id)
    finally:
        cases_store.close()
    assert [f.text for f in full.followups] == ["Two more of us were told to sign blank forms today."]


def test_chinese_report_flow(live: LiveIntake, nojs: Any, artifacts: Path) -> None:
    page = nojs
    seen = Recorder(page)
    zh = i18n.translations("zh_Hans")

    page.goto(live.url("/?lang=zh_Hans"))
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert (page.text_content("h1") or "").strip() == zh.gettext("Report a problem at work")
    shot(page, artifacts, "10-zh-landing")
    page.goto(live.url("/status?lang=zh_Hans"))
    shot(page, artifacts, "13-zh-status")
    page.goto(live.url("/?lang=zh_Hans"))

    # The landing page's button keeps the language choice.
    with page.expect_navigation():
        page.click('a.button[href^="/report"]')
    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert (page.text_content("h1") or "").strip() == zh.gettext("Make a report")
    words = "车间主任扣押了我们的身份证，每个月加班超过一百小时，没有加班费。"
    page.fill("#description", words)
    page.fill("#factory", "示例电子厂")
    page.check('input[name="categories"][value="forced_labour"]')
    page.check('input[name="consent"][value="0"]')
    shot(page, artifacts, "11-zh-report-form")
    submit(page, "/report")

    assert page.get_attribute("html", "lang") == "zh-Hans"
    assert RECEIPT.match((page.text_content("#receipt") or "").strip())
    assert (page.text_content("h1") or "").strip() == zh.gettext("Your report was received")
    shot(page, artifacts, "12-zh-receipt")
    seen.assert_only(live.base)

    result, cases = drain_node(live.node)
    assert result.unreadable == 0
    [case] = [c for c in cases if c.description == words]
    assert case.locale == "zh_Hans"
    assert case.factory == "示例电子厂"


def test_accept_language_picks_chinese(live: LiveIntake, browser: Any) -> None:
    """A phone set to Chinese (zh-CN) gets Chinese without asking."""
    context = browser.new_context(java_script_enabled=False, viewport=PHONE, locale="zh-CN")
    try:
        page = context.new_page()
        page.goto(live.url("/"))
        assert page.get_attribute("html", "lang") == "zh-Hans"
    finally:
        context.close()


def test_bad_form_comes_back_with_the_words_kept(live: LiveIntake, nojs: Any, artifacts: Path) -> None:
    """A report whose description is only spaces is refused with a clear message, the rest kept."""
    page = nojs
    page.goto(live.url("/report"))
    page.fill("#description", "   ")  # only spaces: 'required' lets it through, the server must not
    page.fill("#factory", "Example Electronics Plant 3")
    submit(page, "/report")
    assert page.is_visible("p.error")
    assert page.locator(".field.invalid").count() >= 1
    assert page.input_value("#factory") == "Example Electronics Plant 3"
    assert page.locator("#receipt").count() == 0
    shot(page, artifacts, "20-report-refused")


def test_pages_have_no_script_and_work_as_plain_html(live: LiveIntake, nojs: Any) -> None:
    """No <script> at all: nothing for a page to run, nothing for JS-off to break."""
    for path in ("/", "/report", "/status"):
        nojs.goto(live.url(path))
        assert nojs.locator("script").count() == 0, f"{path} has a script"


def test_script_really_is_off(nojs: Any) -> None:
    """The no-JS context stops page scripts (so the flow above proves the pages need none)."""
    nojs.set_content("<title>before</title><script>document.title = 'ran'</script>")
    assert nojs.title() == "before"


# -- every shipped language ---------------------------------------------------------------------------

# Anything visible that sticks out of the 360 px screen: an element's box, or a line of its text.
# (The honeypot is off screen on purpose.)
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth, out = [];
  const off = (r) => r.width > 0 && (r.right > width + 0.5 || r.left < -0.5);
  for (const e of document.body.querySelectorAll('*')) {
    if (e.closest('.hp')) continue;
    if (off(e.getBoundingClientRect())) out.push(e.tagName + (e.id ? '#' + e.id : ''));
  }
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim() || node.parentElement.closest('.hp')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    if ([...range.getClientRects()].some(off)) out.push(JSON.stringify(node.textContent.trim().slice(0, 40)));
  }
  return out;
}"""


def no_overflow(page: Any, what: str) -> None:
    sticking_out = page.evaluate(OVERFLOW)
    assert not sticking_out, f"{what}: wider than a 360 px phone: {sticking_out}"


def box(page: Any, selector: str) -> dict[str, float]:
    """Where the element's content is drawn: its text's extent (a block stretches to the full width
    in either direction), or its box when it has no text (a check box)."""
    found = page.evaluate(
        """(selector) => {
          const e = document.querySelector(selector);
          if (!e) return null;
          const range = document.createRange();
          range.selectNodeContents(e);
          const r = e.textContent.trim() ? range.getBoundingClientRect() : e.getBoundingClientRect();
          return {x: r.left, y: r.top, width: r.width, height: r.height};
        }""",
        selector,
    )
    assert found is not None, f"{selector} is not on the page"
    return dict(found)


@pytest.fixture(scope="module")
def answered(live: LiveIntake) -> str:
    """A report with one reply from the labour group, so the status page shows a dated reply."""
    import httpx

    response = httpx.post(live.url("/api/v1/reports"), json={"description": "Wages three months late."}, timeout=10)
    assert response.status_code == 201, response.text
    code = response.json()["receipt"]
    service = IntakeService.open(live.node.settings)
    try:
        parsed = parse_receipt(code)
        assert parsed is not None
        service.inbox.post_message(service.receipts.hash(parsed), "We met the factory; back pay is promised.")
    finally:
        service.close()
    return str(code)


def test_every_language_renders_on_a_small_phone(live: LiveIntake, nojs: Any, artifacts: Path, answered: str) -> None:
    """The form and the status page (with a dated reply) in each shipped language: the page's
    language and direction, the worker's own strings, nothing wider than the phone, a screenshot
    each (lang-<locale>-report.png, lang-<locale>-status.png). One browser page for all of them."""
    page = nojs
    seen = Recorder(page)
    for locale in i18n.available_locales():
        t = i18n.translations(locale)
        direction = i18n.text_direction(locale)
        page.goto(live.url(f"/report?lang={locale}"))
        assert page.get_attribute("html", "lang") == i18n.html_lang(locale)
        assert page.get_attribute("html", "dir") == direction
        assert page.evaluate("() => getComputedStyle(document.body).direction") == direction
        assert (page.text_content("h1") or "").strip() == t.gettext("Make a report")
        no_overflow(page, f"/report in {locale}")
        shot(page, artifacts, f"lang-{locale}-report")

        page.goto(live.url(f"/status?lang={locale}"))
        page.fill("#receipt", answered)
        submit(page, "/status")
        assert page.get_attribute("html", "lang") == i18n.html_lang(locale)
        assert (page.text_content("h1") or "").strip() == t.gettext("Your report")
        assert page.locator(".messages time").count() == 1, "the reply is shown with its date"
        when = date.fromisoformat(page.get_attribute(".messages time", "datetime") or "")
        assert (page.text_content(".messages time") or "").strip() == i18n.format_date(when, locale)
        no_overflow(page, f"/status in {locale}")
        shot(page, artifacts, f"lang-{locale}-status")
    seen.assert_only(live.base)


def test_urdu_is_laid_out_right_to_left(live: LiveIntake, nojs: Any, artifacts: Path) -> None:
    """The Urdu form mirrors the English one: labels and headings start at the right edge, the
    check boxes sit at the right of their labels, the header's title is on the right."""
    if "ur" not in i18n.available_locales():
        pytest.skip("Urdu does not ship yet")
    page = nojs
    edges = {}
    for locale in ("en", "ur"):
        page.goto(live.url(f"/report?lang={locale}"))
        edges[locale] = {
            sel: box(page, sel)
            for sel in ('label[for="description"]', "h1", ".home", 'input[name="categories"]', 'label[for="factory"]')
        }
        main = page.locator("main").bounding_box()
        assert main is not None
        edges[locale]["main"] = dict(main)
    en, ur = edges["en"], edges["ur"]
    assert page.evaluate("() => getComputedStyle(document.documentElement).direction") == "rtl"
    left_margin = en["main"]["x"]
    right_margin = PHONE["width"] - (ur["main"]["x"] + ur["main"]["width"])
    assert abs(left_margin - right_margin) <= 1, "the page's margins mirror"
    for sel in ('label[for="description"]', 'label[for="factory"]', "h1", ".home"):
        en_start = en[sel]["x"] - en["main"]["x"]
        ur_start = (ur["main"]["x"] + ur["main"]["width"]) - (ur[sel]["x"] + ur[sel]["width"])
        assert en_start <= 2, f"{sel} starts at the left edge in English ({en[sel]})"
        assert ur_start <= 2, f"{sel} starts at the right edge in Urdu ({ur[sel]}, main {ur['main']})"
        assert ur[sel]["x"] > en[sel]["x"], f"{sel} is mirrored"
    checkbox_en, checkbox_ur = en['input[name="categories"]'], ur['input[name="categories"]']
    assert checkbox_en["x"] < PHONE["width"] / 2 < checkbox_ur["x"], "check boxes move to the right"
    honeypot = page.locator("#website").bounding_box()
    assert honeypot is None or honeypot["x"] >= PHONE["width"], f"the honeypot is on screen: {honeypot}"
    shot(page, artifacts, "lang-ur-report-rtl")
