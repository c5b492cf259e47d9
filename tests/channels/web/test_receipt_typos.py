"""Receipt codes as workers type them: a check digit turns a typo into "please check the code",
digits of every shipped script are accepted, codes issued before check digits keep working, and
none of it tells anyone whether a code exists. Through the real web routes and the JSON API.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from channels.web.errors import FIELD_MESSAGES
from intake.domain import BOARD_LABELS, BoardStatus, Channel, ReceiptCode, Report
from intake.errors import ReceiptMistyped
from intake.node import RECEIPT_LABEL, IntakeKeys, load_keyring, open_inbox
from intake.receipts import CHECKED, MIXED, SCHEME_META_KEY, ReceiptHasher, has_check_digit, parse_receipt
from intake.services import IntakeService, _seal
from tests.channels.web import ZH, full_case, gettext, html_page, json_error, post_form, stored
from tests.conftest import Node, csrf_token, drain_node, make_node, receipt_in
from tests.intake.test_receipts import SCRIPTS, in_script

DESC = "Our overtime on line 2 has not been paid since the audit in March."
MORE = "Update: the supervisor told us to sign a paper saying we were paid."
REPLY = "We met the factory on Monday; they promised the back pay by the 15th."


def web_report(client: TestClient) -> str:
    return receipt_in(html_page(post_form(client, "/report", {"description": DESC}), 200))


def typos(code: str) -> list[str]:
    """One substitution per position and every swap of neighbouring digits, as typed (grouped)."""
    digits = code.replace("-", "")
    subs = [digits[:i] + str((int(digits[i]) + 1 + i % 9) % 10) + digits[i + 1 :] for i in range(16)]
    swaps = [digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :] for i in range(15) if digits[i] != digits[i + 1]]
    return ["-".join(t[j : j + 4] for j in range(0, 16, 4)) for t in subs + swaps]


def reply_to(service: IntakeService, code: str, text: str = REPLY) -> None:
    service.inbox.post_message(service.receipts.hash(parse_receipt(code)), text)  # type: ignore[arg-type]


# -- a fresh node: every code it handed out has a check digit ------------------------------------------


def test_a_fresh_node_hands_out_checked_codes_and_says_so(client: TestClient, service: IntakeService) -> None:
    assert service.receipt_scheme is CHECKED
    assert service.inbox.get_meta(SCHEME_META_KEY) == "checked"
    for _ in range(3):
        code = parse_receipt(web_report(client))
        assert code is not None and has_check_digit(code)
    api = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    assert has_check_digit(parse_receipt(api))  # type: ignore[arg-type]


def test_a_typo_on_the_status_page_asks_to_check_the_code(client: TestClient, service: IntakeService) -> None:
    code = web_report(client)
    reply_to(service, code)
    before = stored(service)
    for typo in typos(code):
        html = html_page(post_form(client, "/status", {"receipt": typo}), 400)
        assert escape(gettext("en", ReceiptMistyped.message)) in html
        assert escape(gettext("en", FIELD_MESSAGES["receipt_check"])) in html
        assert f'value="{typo}"' in html, "what the worker typed is there to correct"
        assert REPLY not in html
        assert escape(gettext("en", BOARD_LABELS[BoardStatus.RECEIVED])) not in html
    assert stored(service) == before
    assert REPLY in html_page(post_form(client, "/status", {"receipt": code}), 200)


def test_the_status_page_message_is_in_the_workers_language(client: TestClient) -> None:
    typo = typos(web_report(client))[0]
    html = html_page(post_form(client, "/status", {"receipt": typo, "lang": "zh_Hans"}), 400)
    assert escape(gettext("zh_Hans", ReceiptMistyped.message)) in html


def test_every_typo_gets_receipt_mistyped_from_the_api(client: TestClient, service: IntakeService) -> None:
    code = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    reply_to(service, code)
    for typo in typos(code):
        error = json_error(client.post("/api/v1/status", json={"receipt": typo}), 400, "receipt_mistyped")
        assert error["message"] == gettext("en", ReceiptMistyped.message)
        assert error["fields"] == {"receipt": gettext("en", FIELD_MESSAGES["receipt_check"])}
    zh = json_error(client.post("/api/v1/status", json={"receipt": typo}, headers=ZH), 400, "receipt_mistyped")
    assert zh["message"] == gettext("zh_Hans", ReceiptMistyped.message)
    assert client.post("/api/v1/status", json={"receipt": code}).json()["messages"][0]["text"] == REPLY


def test_a_followup_to_a_typo_is_refused_and_nothing_is_stored(client: TestClient, service: IntakeService) -> None:
    code = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    before = stored(service)
    for typo in typos(code)[:4] + typos(code)[-2:]:
        refused = client.post("/api/v1/followups", json={"receipt": typo, "text": MORE})
        assert json_error(refused, 400, "receipt_mistyped")["fields"] == {"receipt": "Please check this code."}
        # The web form carries the code in a hidden field: only a tampered form gets here. The text stays.
        html = html_page(post_form(client, "/status/add", {"receipt": typo, "text": MORE}), 400)
        assert escape(gettext("en", ReceiptMistyped.message)) in html and MORE in html
    assert stored(service) == before, "nothing was sealed or stored for a typo"


def test_a_followup_with_the_right_code_reaches_the_case(client: TestClient, node: Node) -> None:
    code = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    assert client.post("/api/v1/followups", json={"receipt": code, "text": MORE}).status_code == 202
    result, cases = drain_node(node)
    assert (result.cases, result.followups) == (1, 1)
    assert [f.text for f in full_case(node, cases[0].id).followups] == [MORE]


def test_a_typo_answers_the_same_whether_or_not_the_right_code_exists(client: TestClient) -> None:
    """No oracle: the answer to a typo depends on the typed string only."""
    real = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    typo_of_real = typos(real)[5]
    made_up = "1111-2222-3333-4444"  # fails the check, and nobody holds its corrected form
    assert not has_check_digit(ReceiptCode(made_up.replace("-", "")))
    a = client.post("/api/v1/status", json={"receipt": typo_of_real})
    b = client.post("/api/v1/status", json={"receipt": made_up})
    assert (a.status_code, a.json(), sorted(a.headers.items())) == (b.status_code, b.json(), sorted(b.headers.items()))
    page_a = html_page(post_form(client, "/status", {"receipt": typo_of_real}), 400).replace(typo_of_real, "CODE")
    page_b = html_page(post_form(client, "/status", {"receipt": made_up}), 400).replace(made_up, "CODE")
    token = re.compile(r'name="csrf" value="[^"]+"')
    assert token.sub("", page_a) == token.sub("", page_b)


def test_a_well_formed_unknown_code_still_looks_like_one_without_news(client: TestClient) -> None:
    known = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    unknown = "1111-2222-3333-4440" if known != "1111-2222-3333-4440" else "0000-1111-2222-3334"
    assert has_check_digit(ReceiptCode(unknown.replace("-", "")))
    a, b = (client.post("/api/v1/status", json={"receipt": c}) for c in (known, unknown))
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    assert client.post("/api/v1/followups", json={"receipt": unknown, "text": MORE}).status_code == 202


# -- an upgraded node: codes from before check digits are still out ------------------------------------

LEGACY = "1234-5678-9012-3456"  # 16 random digits of the old kind; it fails the check, as 9 in 10 do


@pytest.fixture
def upgraded(tmp_path: Path) -> Iterator[tuple[Node, IntakeService, TestClient]]:
    """A node whose inbox already holds a report filed with an old code when the new version opens it."""
    from channels.server import create_intake_app

    node = make_node(tmp_path / "node")
    code = parse_receipt(LEGACY)
    assert code is not None and not has_check_digit(code)
    keys = IntakeKeys.load(node.settings.intake_key_path)
    old = IntakeService(  # what the old version held; constructing it settles nothing
        settings=node.settings,
        inbox=open_inbox(node.settings),
        public_key=load_keyring(node.settings).public_key,
        receipts=ReceiptHasher(keys.key(RECEIPT_LABEL)),
        csrf_key=b"",
    )
    receipt_hash = old.receipts.hash(code)
    report = Report(channel=Channel.WEB, locale="en", description=DESC)
    item_id, blob = _seal(
        old, {"kind": "report", "receipt_hash": receipt_hash.hex(), "report": report.model_dump(mode="json")}
    )
    old.inbox.put(item_id, blob, board=receipt_hash)
    assert old.inbox.get_meta(SCHEME_META_KEY) is None
    old.close()
    service = IntakeService.open(node.settings)
    try:
        with TestClient(create_intake_app(node.settings, service), base_url="http://testserver") as client:
            yield node, service, client
    finally:
        service.close()


def test_an_old_code_keeps_working_on_an_upgraded_node(upgraded: tuple[Node, IntakeService, TestClient]) -> None:
    node, service, client = upgraded
    assert service.receipt_scheme is MIXED and service.inbox.get_meta(SCHEME_META_KEY) == "mixed"
    reply_to(service, LEGACY)
    for typed in (LEGACY, LEGACY.replace("-", " "), in_script(LEGACY, "thai")):
        assert REPLY in html_page(post_form(client, "/status", {"receipt": typed}), 200)
        assert client.post("/api/v1/status", json={"receipt": typed}).json()["messages"][0]["text"] == REPLY
    assert client.post("/api/v1/followups", json={"receipt": LEGACY, "text": MORE}).status_code == 202
    html_page(post_form(client, "/status/add", {"receipt": LEGACY, "text": MORE + " (web)"}), 200)
    result, cases = drain_node(node)
    assert (result.cases, result.followups) == (1, 2), "both follow-ups joined the old report"
    assert [f.text for f in full_case(node, cases[0].id).followups] == [MORE, MORE + " (web)"]


def test_an_upgraded_node_stays_mixed_and_gives_no_oracle(upgraded: tuple[Node, IntakeService, TestClient]) -> None:
    node, _service, client = upgraded
    # New codes carry the check digit here too.
    new = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    assert has_check_digit(parse_receipt(new))  # type: ignore[arg-type]
    # An old code without news and a code failing the check that nobody holds answer alike: the
    # typo is not caught here (it could be an old code), and nothing says which codes exist.
    unknown = "9876-5432-1098-7654"
    assert not has_check_digit(ReceiptCode(unknown.replace("-", "")))
    a, b = (client.post("/api/v1/status", json={"receipt": c}) for c in (LEGACY, unknown))
    assert a.status_code == b.status_code == 200 and a.json() == b.json()
    # Reopening keeps what was settled.
    again = IntakeService.open(node.settings)
    try:
        assert again.receipt_scheme is MIXED
    finally:
        again.close()


def test_a_node_opened_again_stays_checked(node: Node, service: IntakeService, client: TestClient) -> None:
    web_report(client)  # the board is no longer empty
    again = IntakeService.open(node.settings)
    try:
        assert again.receipt_scheme is CHECKED
    finally:
        again.close()


# -- digits of every shipped script -------------------------------------------------------------------


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_status_page_takes_a_code_in_each_script(client: TestClient, service: IntakeService, script: str) -> None:
    code = web_report(client)
    reply_to(service, code)
    for typed in (
        in_script(code, script),
        in_script(code.replace("-", " "), script),
        in_script(code.replace("-", ""), script),
    ):
        html = html_page(post_form(client, "/status", {"receipt": typed}), 200)
        assert REPLY in html
        assert f'name="receipt" value="{code}"' in html, "shown back in the digits the receipt page used"
    # A typo typed in that script is caught like one typed in ASCII digits.
    html = html_page(post_form(client, "/status", {"receipt": in_script(typos(code)[3], script)}), 400)
    assert escape(gettext("en", ReceiptMistyped.message)) in html


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_api_takes_a_code_in_each_script(
    client: TestClient, node: Node, service: IntakeService, script: str
) -> None:
    code = client.post("/api/v1/reports", json={"description": DESC}).json()["receipt"]
    reply_to(service, code)
    data = client.post("/api/v1/status", json={"receipt": in_script(code, script)}).json()
    assert [m["text"] for m in data["messages"]] == [REPLY]
    spaced = in_script(code.replace("-", " "), script)
    assert client.post("/api/v1/followups", json={"receipt": spaced, "text": MORE}).status_code == 202
    typo = in_script(typos(code)[-1], script)
    json_error(client.post("/api/v1/status", json={"receipt": typo}), 400, "receipt_mistyped")
    result, cases = drain_node(node)
    assert (result.cases, result.followups) == (1, 1)
    assert [f.text for f in full_case(node, cases[0].id).followups] == [MORE]


def test_a_followup_in_a_script_through_the_form_reaches_the_case(client: TestClient, node: Node) -> None:
    code = web_report(client)
    token = csrf_token(client, "/status")
    typed = in_script(code, "khmer")
    page = html_page(client.post("/status", data={"csrf": token, "receipt": typed}), 200)
    hidden = re.search(r'name="receipt" value="([^"]+)"', page)
    assert hidden and hidden.group(1) == code
    html_page(post_form(client, "/status/add", {"receipt": typed, "text": MORE}), 200)
    result, cases = drain_node(node)
    assert result.followups == 1 and [f.text for f in full_case(node, cases[0].id).followups] == [MORE]


# -- "not replied yet" never stands above a reply ------------------------------------------------------


def test_the_status_never_says_not_replied_above_a_reply(client: TestClient, service: IntakeService) -> None:
    code = web_report(client)
    not_yet = escape(gettext("en", BOARD_LABELS[BoardStatus.RECEIVED]))
    assert not_yet in html_page(post_form(client, "/status", {"receipt": code}), 200)
    reply_to(service, code)  # a caseworker replied while the entry was still "received"
    html = html_page(post_form(client, "/status", {"receipt": code}), 200)
    assert REPLY in html and not_yet not in html
    assert escape(gettext("en", BOARD_LABELS[BoardStatus.IN_REVIEW])) in html
    data = client.post("/api/v1/status", json={"receipt": code}).json()
    assert data["status"] == "received", "the status itself is what the desk set"
    assert data["status_text"] == gettext("en", BOARD_LABELS[BoardStatus.IN_REVIEW])
    zh = client.post("/api/v1/status", json={"receipt": code}, headers=ZH).json()
    assert zh["status_text"] == gettext("zh_Hans", BOARD_LABELS[BoardStatus.IN_REVIEW])
