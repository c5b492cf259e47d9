"""The worker confirms the remedy on a 360-px phone with JavaScript off (issue 15, "Done when").

A report filed through the real form; the case resolved with back pay by the same case work the desk
does (intake/demo/remedy.py); the status page then asks "Has this happened: back pay?" as a plain
form with radio buttons; the worker picks one and sends it (a native form post); the drain takes the
answer into the case: resolved, confirmed by the worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from intake.demo.remedy import resolve_one
from intake.node import open_cases
from tests.browser.conftest import LiveIntake
from tests.browser.test_web_form import RECEIPT, Recorder, nojs, shot, submit  # noqa: F401 - nojs: a fixture
from tests.conftest import drain_node


def _status(page: Any, live: LiveIntake, receipt: str) -> None:
    page.goto(live.url("/status"))
    page.fill("#receipt", receipt)
    submit(page, "/status")


def test_the_worker_confirms_on_a_small_phone_without_javascript(
    live: LiveIntake,
    nojs: Any,  # noqa: F811 - the fixture
    artifacts: Path,
) -> None:
    page = nojs
    seen = Recorder(page)
    words = "Two months of overtime were never paid on line 6."
    page.goto(live.url("/report"))
    page.fill("#description", words)
    page.fill("#factory", "Example Components Works")
    submit(page, "/report")
    receipt = (page.text_content("#receipt") or "").strip()
    assert RECEIPT.match(receipt)
    drain_node(live.node)
    case_id = resolve_one(live.node.settings, live.node.keys, receipt)
    assert case_id

    _status(page, live, receipt)
    assert page.locator("form.question").count() == 1
    assert (page.text_content(".question-text") or "").strip() == "Has this happened: back pay?"
    labels = [t.strip() for t in page.locator("form.question label.choice").all_text_contents()]
    assert labels == ["Yes", "Partly", "No"]
    for box in (page.locator("form.question").bounding_box(), page.locator("form.question button").bounding_box()):
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360, box
    shot(page, artifacts, "20-status-question")
    page.check('form.question input[name="answer"][value="1"]')
    submit(page, "/status/answer")
    assert (page.text_content("h1") or "").strip() == "Thank you, your answer was received."
    shot(page, artifacts, "21-answered")

    _status(page, live, receipt)
    assert page.locator("form.question").count() == 0, "an answered question is not asked again"
    seen.assert_only(live.base)
    assert all(receipt not in u for u in seen.urls), "a receipt code travelled in a URL"

    drain_node(live.node)
    store = open_cases(live.node.settings, live.node.keys)
    try:
        row = store._conn.execute("SELECT status, worker_confirmation FROM cases WHERE id = ?", (case_id,)).fetchone()
    finally:
        store.close()
    assert tuple(row) == ("resolved", "yes")


def test_the_question_in_urdu_reads_right_to_left_on_a_small_phone(
    live: LiveIntake,
    nojs: Any,  # noqa: F811 - the fixture
    artifacts: Path,
) -> None:
    page = nojs
    page.goto(live.url("/report?lang=ur"))
    page.fill("#description", "ہمیں تین مہینے سے اوور ٹائم کی اجرت نہیں ملی۔")
    submit(page, "/report")
    receipt = (page.text_content("#receipt") or "").strip()
    drain_node(live.node)
    assert resolve_one(live.node.settings, live.node.keys, receipt)
    page.goto(live.url("/status?lang=ur"))
    page.fill("#receipt", receipt)
    submit(page, "/status")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.locator('form.question input[type="radio"]').count() == 3
    shot(page, artifacts, "22-status-question-ur")
