"""The no-JavaScript form flow and the Chinese flow, end to end through the real app and stores.

Everything here is plain HTTP as a browser with scripts off would send it: GET a form, POST it
back with the CSRF token and cookie, read the HTML that comes back.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

import i18n
from channels.web.errors import FIELD_MESSAGES
from intake.domain import BOARD_LABELS, BoardStatus, Category, Channel, Consent
from intake.errors import FormExpired, InvalidInput
from intake.receipts import parse_receipt
from intake.services import IntakeService
from tests.channels.web import RECEIPT_SHAPE, ZH, full_case, gettext, html_lang, html_page, post_form, stored, web_app
from tests.conftest import Node, csrf_token, drain_node, receipt_in

EN_DESC = "Since March the dormitory on block C has had no hot water and twelve of us share one room."
EN_FOLLOWUP = "Update: the supervisor now says the water heater will not be repaired this year."
ZH_DESC = "宿舍从三月起没有热水，我们十二个人住一个房间。加班费也没有按规定支付。"
ZH_FACTORY = "东莞某电子厂"
ZH_LOCATION = "长安镇"
ZH_FOLLOWUP = "补充：组长说不加班就扣全勤奖。"

TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module")
def reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for tests that only GET pages (node set-up is the slow part)."""
    with web_app(tmp_path_factory.mktemp("reader") / "node") as web:
        yield web.client


def token_in(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def no_code_in_urls(responses: list[httpx.Response], code: str) -> None:
    """A receipt code must never reach a URL (browser history on a shared phone) or a redirect."""
    digits = code.replace("-", "")
    for response in responses:
        assert not response.is_redirect, response.headers
        assert "location" not in response.headers
        for url in (str(response.url), str(response.request.url)):
            assert code not in url and digits not in url, url
        for href in re.findall(r'(?:href|action|src)="([^"]*)"', response.text):
            assert code not in href and digits not in href, href


# -- the no-JS flow -------------------------------------------------------------------------------


def test_report_form_carries_a_token_and_sets_only_a_strict_csrf_cookie(client: TestClient) -> None:
    response = client.get("/report", follow_redirects=False)
    html = html_page(response, 200)
    assert token_in(html)
    assert '<form method="post" action="/report"' in html
    assert "<script" not in html.lower()
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 1
    name_value, *attributes = [part.strip() for part in cookies[0].split(";")]
    assert name_value.startswith("csrf=") and len(name_value) > len("csrf=") + 16
    flags = {a.split("=")[0].lower(): [*a.split("=", 1), ""][1].lower() for a in attributes}
    assert "httponly" in flags
    assert flags.get("samesite") == "strict"
    assert flags.get("path") == "/"
    assert "secure" not in flags  # plain http in the test; see test_security for https


def test_no_js_flow_report_status_followup_then_drain(client: TestClient, node: Node, service: IntakeService) -> None:
    responses: list[httpx.Response] = []

    def keep(response: httpx.Response) -> httpx.Response:
        responses.append(response)
        return response

    form = keep(client.get("/report", follow_redirects=False))
    token = token_in(html_page(form, 200))
    sent = keep(
        client.post(
            "/report",
            data={
                "csrf": token,
                "lang": "en",
                "description": EN_DESC,
                "factory": "Northwind Components Ltd",
                "location": "Block C",
                "categories": [Category.DORMITORY.value, Category.WAGES.value],
                "consent": "1",
                "website": "",
            },
            follow_redirects=False,
        )
    )
    receipt_html = html_page(sent, 200)
    code = receipt_in(receipt_html)
    assert RECEIPT_SHAPE.match(code)
    assert escape(gettext("en", "Your report was received")) in receipt_html
    assert stored(service) == (1, 1)

    status_form = keep(client.get("/status", follow_redirects=False))
    status = keep(
        client.post(
            "/status",
            data={"csrf": token_in(html_page(status_form, 200)), "receipt": code},
            follow_redirects=False,
        )
    )
    status_html = html_page(status, 200)
    assert escape(gettext("en", BOARD_LABELS[BoardStatus.RECEIVED])) in status_html
    assert f'name="receipt" value="{code}"' in status_html  # carried in the POST body, never the URL

    added = keep(
        client.post(
            "/status/add",
            data={"csrf": token_in(status_html), "receipt": code, "text": EN_FOLLOWUP},
            follow_redirects=False,
        )
    )
    assert escape(gettext("en", "Thank you. Your addition was received.")) in html_page(added, 200)
    assert stored(service) == (2, 1)
    no_code_in_urls(responses, code)

    result, cases = drain_node(node)
    assert (result.cases, result.followups, result.unreadable) == (1, 1, 0)
    assert len(cases) == 1
    case = full_case(node, cases[0].id)
    assert case.description == EN_DESC
    assert case.factory == "Northwind Components Ltd"
    assert case.location == "Block C"
    assert case.categories == [Category.DORMITORY, Category.WAGES]
    assert case.consent == Consent.ANONYMISED
    assert case.channel == Channel.WEB
    assert case.locale == "en"
    assert not case.contact_ok and not case.has_contact
    assert [f.text for f in case.followups] == [EN_FOLLOWUP]


def test_contact_details_reach_the_case_only_as_a_sealed_contact(client: TestClient, node: Node) -> None:
    response = post_form(
        client,
        "/report",
        {"description": EN_DESC, "consent": "2", "contact_ok": "1", "phone": "+44 7700 900123", "name": "Ana Test"},
    )
    html_page(response, 200)
    _result, cases = drain_node(node)
    (case,) = cases
    assert case.contact_ok and case.has_contact
    assert case.consent == Consent.WITH_NAME
    assert "7700" not in case.description


def test_status_page_shows_replies_from_the_board(client: TestClient, service: IntakeService) -> None:
    code = receipt_in(html_page(post_form(client, "/report", {"description": EN_DESC}), 200))
    receipt_hash = service.receipts.hash(parse_receipt(code))  # type: ignore[arg-type]
    service.inbox.set_status(receipt_hash, BoardStatus.IN_REVIEW)
    service.inbox.post_message(receipt_hash, "We have read your report and will visit next week.")
    html = html_page(post_form(client, "/status", {"receipt": code}), 200)
    assert escape(gettext("en", BOARD_LABELS[BoardStatus.IN_REVIEW])) in html
    assert "We have read your report and will visit next week." in html
    assert escape(gettext("en", "Replies from the labour group")) in html


def test_status_page_is_the_same_for_an_unknown_code_and_a_known_one_without_news(client: TestClient) -> None:
    known = receipt_in(html_page(post_form(client, "/report", {"description": EN_DESC}), 200))
    unknown = "0000-1111-2222-3334" if known != "0000-1111-2222-3334" else "9999-8888-7777-6667"

    def page(code: str) -> str:
        html = html_page(post_form(client, "/status", {"receipt": code}), 200)
        return TOKEN.sub("", html).replace(code, "CODE")

    assert page(known) == page(unknown)
    assert escape(gettext("en", BOARD_LABELS[BoardStatus.RECEIVED])) in page(unknown)


def test_status_accepts_a_code_typed_with_spaces_or_full_width_digits(client: TestClient) -> None:
    code = receipt_in(html_page(post_form(client, "/report", {"description": EN_DESC}), 200))
    full_width = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else "\u3000" for c in code)
    assert unicodedata.normalize("NFKC", full_width) != full_width
    for typed in (code.replace("-", " "), code.replace("-", ""), full_width):
        html = html_page(post_form(client, "/status", {"receipt": typed}), 200)
        assert f'name="receipt" value="{code}"' in html


def test_a_mistyped_code_gives_the_form_back_with_what_was_typed(client: TestClient) -> None:
    html = html_page(post_form(client, "/status", {"receipt": "1234-5678-9012"}), 400)
    assert 'value="1234-5678-9012"' in html
    assert escape(gettext("en", FIELD_MESSAGES["receipt"])) in html
    assert escape(gettext("en", InvalidInput.message)) in html


@pytest.mark.parametrize(
    ("data", "field"),
    [({"receipt": "1234-5678-9012-3456", "text": "   "}, "text"), ({"receipt": "12", "text": EN_FOLLOWUP}, "receipt")],
    ids=["empty-text", "bad-receipt"],
)
def test_a_bad_followup_is_refused_with_the_text_kept(
    client: TestClient, service: IntakeService, data: dict[str, str], field: str
) -> None:
    before = stored(service)
    html = html_page(post_form(client, "/status/add", data), 400)
    assert stored(service) == before
    assert escape(gettext("en", InvalidInput.message)) in html
    if field == "text":
        assert escape(gettext("en", FIELD_MESSAGES["missing"])) in html
    else:  # the receipt travels in a hidden field: only a tampered form gets here
        assert data["text"] in html


def test_an_expired_form_is_shown_again_and_the_new_token_works(client: TestClient, service: IntakeService) -> None:
    csrf_token(client)  # sets the cookie
    refused = client.post("/report", data={"csrf": "1.bad", "description": EN_DESC})
    html = html_page(refused, 403)
    assert escape(gettext("en", FormExpired.message)) in html
    assert EN_DESC in html
    assert stored(service) == (0, 0)
    again = client.post("/report", data={"csrf": token_in(html), "description": EN_DESC})
    assert RECEIPT_SHAPE.match(receipt_in(html_page(again, 200)))
    assert stored(service) == (1, 1)


# -- language negotiation and the Chinese flow -------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "params", "expected"),
    [
        ({"accept-language": "zh-CN"}, {}, "zh-Hans"),
        ({"accept-language": "zh-SG"}, {}, "zh-Hans"),
        ({"accept-language": "zh-Hans-CN"}, {}, "zh-Hans"),
        ({"accept-language": "zh-Hans"}, {}, "zh-Hans"),
        ({"accept-language": "zh"}, {}, "zh-Hans"),
        ({"accept-language": "en;q=0.3, zh-CN;q=0.8"}, {}, "zh-Hans"),
        ({"accept-language": "en-US"}, {"lang": "zh_Hans"}, "zh-Hans"),
        ({}, {"lang": "zh_Hans"}, "zh-Hans"),
        ({"accept-language": "zh-CN"}, {"lang": "en"}, "en"),
        ({"accept-language": "de-DE, is;q=0.5"}, {}, "en"),  # languages that do not ship
        ({}, {}, "en"),
        ({"accept-language": "zh-CN;q=0"}, {}, "en"),
    ],
)
@pytest.mark.parametrize("path", ["/", "/report", "/status"])
def test_language_is_negotiated(
    reader: TestClient, path: str, headers: dict[str, str], params: dict[str, str], expected: str
) -> None:
    html = html_page(reader.get(path, headers=headers, params=params), 200)
    assert html_lang(html) == expected
    locale = expected.replace("-", "_")
    assert escape(gettext(locale, "Workers' grievance line")) in html


def test_every_page_offers_every_shipped_language(reader: TestClient) -> None:
    html = html_page(reader.get("/"), 200)
    assert "zh_Hans" in i18n.available_locales()
    for locale in i18n.available_locales():
        if locale != "en":
            assert f'href="?lang={locale}"' in html
    zh = html_page(reader.get("/", params={"lang": "zh_Hans"}), 200)
    assert 'href="/report?lang=zh_Hans"' in zh  # the choice sticks while the worker moves on


def test_chinese_flow_end_to_end(client: TestClient, node: Node, service: IntakeService) -> None:
    form = html_page(client.get("/report", headers=ZH), 200)
    assert html_lang(form) == "zh-Hans"
    assert 'name="lang" value="zh_Hans"' in form
    assert escape(gettext("zh_Hans", "What happened?")) in form
    assert escape(gettext("zh_Hans", "Send report")) in form

    sent = client.post(
        "/report",
        headers=ZH,
        data={
            "csrf": token_in(form),
            "lang": "zh_Hans",
            "description": ZH_DESC,
            "factory": ZH_FACTORY,
            "location": ZH_LOCATION,
            "categories": [Category.WORKING_HOURS.value, Category.DORMITORY.value],
            "consent": "0",
        },
    )
    receipt_html = html_page(sent, 200)
    assert html_lang(receipt_html) == "zh-Hans"
    assert escape(gettext("zh_Hans", "Your report was received")) in receipt_html
    assert escape(gettext("zh_Hans", "Your receipt code:")) in receipt_html
    code = receipt_in(receipt_html)
    assert RECEIPT_SHAPE.match(code)

    status = html_page(post_form(client, "/status", {"receipt": code, "lang": "zh_Hans"}, headers=ZH), 200)
    assert html_lang(status) == "zh-Hans"
    assert escape(gettext("zh_Hans", BOARD_LABELS[BoardStatus.RECEIVED])) in status
    added = client.post(
        "/status/add",
        headers=ZH,
        data={"csrf": token_in(status), "lang": "zh_Hans", "receipt": code, "text": ZH_FOLLOWUP},
    )
    assert escape(gettext("zh_Hans", "Thank you. Your addition was received.")) in html_page(added, 200)
    assert stored(service) == (2, 1)

    result, cases = drain_node(node)
    assert (result.cases, result.followups) == (1, 1)
    case = full_case(node, cases[0].id)
    assert case.locale == "zh_Hans"
    assert case.description == ZH_DESC
    assert case.factory == ZH_FACTORY
    assert case.location == ZH_LOCATION
    assert case.categories == [Category.WORKING_HOURS, Category.DORMITORY]
    assert [f.text for f in case.followups] == [ZH_FOLLOWUP]


def test_the_forms_hidden_language_wins_over_the_browsers(client: TestClient, node: Node) -> None:
    """A worker who chose Chinese on a borrowed English phone keeps Chinese through the POST."""
    sent = post_form(client, "/report", {"description": ZH_DESC, "lang": "zh_Hans"}, headers={"accept-language": "en"})
    html = html_page(sent, 200)
    assert html_lang(html) == "zh-Hans"
    assert 'href="/status?lang=zh_Hans"' in html
    _result, cases = drain_node(node)
    assert [c.locale for c in cases] == ["zh_Hans"]
    assert cases[0].description == ZH_DESC
