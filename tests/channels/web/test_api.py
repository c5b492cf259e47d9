"""The JSON API: reports, status without an oracle, follow-ups, and the OpenAPI document."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from intake.domain import BOARD_LABELS, BoardStatus, Category, Channel, Consent
from intake.errors import InvalidInput, NotFound
from intake.receipts import parse_receipt
from intake.services import IntakeService
from tests.channels.web import RECEIPT_SHAPE, ZH, full_case, gettext, json_error, stored
from tests.conftest import Node, drain_node

DESC = "The line leader keeps our ID cards in his drawer and says we get them back after the peak season."
ZH_DESC = "组长把我们的身份证收走了，说旺季结束才还。"


def report(client: TestClient, body: dict[str, Any] | None = None, **headers: str) -> str:
    response = client.post("/api/v1/reports", json={"description": DESC, **(body or {})}, headers=headers)
    assert response.status_code == 201, response.text
    assert "location" not in response.headers
    data = response.json()
    assert set(data) == {"receipt", "locale", "status_url"}
    assert RECEIPT_SHAPE.match(data["receipt"])
    assert data["status_url"] == "/status"
    return str(data["receipt"])


def status(client: TestClient, receipt: str, **headers: str) -> dict[str, Any]:
    response = client.post("/api/v1/status", json={"receipt": receipt}, headers=headers)
    assert response.status_code == 200, response.text
    return dict(response.json())


# -- reports --------------------------------------------------------------------------------------


def test_a_full_report_lands_as_a_case(client: TestClient, node: Node, service: IntakeService) -> None:
    body = {
        "factory": "Contoso Assembly Plant 2",
        "location": "Industrial Park East",
        "categories": ["forced_labour", "recruitment_fees", "forced_labour"],
        "consent": 1,
        "locale": "en",
        "name": "Test Person",
        "phone": "+66 81 234 5678",
        "contact_ok": True,
    }
    receipt = report(client, body)
    assert stored(service) == (1, 1)
    result, cases = drain_node(node)
    assert result.cases == 1
    case = full_case(node, cases[0].id)
    assert case.channel == Channel.API
    assert case.description == DESC
    assert case.factory == "Contoso Assembly Plant 2"
    assert case.location == "Industrial Park East"
    assert case.categories == [Category.FORCED_LABOUR, Category.RECRUITMENT_FEES]  # duplicates dropped
    assert case.consent == Consent.ANONYMISED
    assert case.contact_ok and case.has_contact
    assert receipt not in case.model_dump_json()


def test_the_minimal_report_is_only_a_description(client: TestClient, node: Node) -> None:
    response = client.post("/api/v1/reports", json={"description": DESC})
    assert response.status_code == 201
    assert response.json()["locale"] == "en"
    _result, (case,) = drain_node(node)
    assert (case.consent, case.categories, case.factory) == (Consent.INTERNAL, [], "")


@pytest.mark.parametrize(
    ("body", "headers", "expected"),
    [
        ({}, ZH, "zh_Hans"),
        ({"locale": "zh_Hans"}, {}, "zh_Hans"),
        ({"locale": "zh-CN"}, {}, "zh_Hans"),
        ({"locale": "en"}, ZH, "en"),
        ({}, {"accept-language": "de"}, "en"),  # a language that does not ship
    ],
)
def test_the_report_locale_is_explicit_or_negotiated(
    client: TestClient, node: Node, body: dict[str, str], headers: dict[str, str], expected: str
) -> None:
    response = client.post("/api/v1/reports", json={"description": ZH_DESC, **body}, headers=headers)
    assert response.status_code == 201, response.text
    assert response.json()["locale"] == expected
    _result, (case,) = drain_node(node)
    assert case.locale == expected
    assert case.description == ZH_DESC


# -- status: no oracle ------------------------------------------------------------------------------


def test_an_unknown_code_answers_exactly_like_a_known_one_without_news(client: TestClient) -> None:
    known = report(client)
    unknown = "1111-2222-3333-4440" if known != "1111-2222-3333-4440" else "5555-6666-7777-8888"
    known_response = client.post("/api/v1/status", json={"receipt": known})
    unknown_response = client.post("/api/v1/status", json={"receipt": unknown})
    assert known_response.status_code == unknown_response.status_code == 200
    assert known_response.json() == unknown_response.json()
    assert known_response.json() == {
        "status": "received",
        "status_text": gettext("en", BOARD_LABELS[BoardStatus.RECEIVED]),
        "messages": [],
    }
    assert sorted(known_response.headers.keys()) == sorted(unknown_response.headers.keys())
    assert known_response.headers["content-length"] == unknown_response.headers["content-length"]


def test_status_text_is_in_the_requests_language(client: TestClient) -> None:
    assert status(client, report(client), **ZH)["status_text"] == gettext("zh_Hans", BOARD_LABELS[BoardStatus.RECEIVED])


def test_status_shows_the_caseworkers_replies(client: TestClient, service: IntakeService) -> None:
    receipt = report(client)
    board = service.receipts.hash(parse_receipt(receipt))  # type: ignore[arg-type]
    service.inbox.set_status(board, BoardStatus.IN_PROGRESS)
    service.inbox.post_message(board, "We raised the ID cards with the brand; please keep your receipt.")
    data = status(client, receipt)
    assert data["status"] == "in_progress"
    assert [m["text"] for m in data["messages"]] == ["We raised the ID cards with the brand; please keep your receipt."]
    assert set(data["messages"][0]) == {"at", "text"}
    other = status(client, "9999-0000-9999-0007")
    assert other["messages"] == [] and other["status"] == "received"


@pytest.mark.parametrize("typed", ["{digits}", "{spaced}", " {code} "])
def test_status_accepts_the_ways_people_type_a_code(client: TestClient, service: IntakeService, typed: str) -> None:
    code = report(client)
    board = service.receipts.hash(parse_receipt(code))  # type: ignore[arg-type]
    service.inbox.set_status(board, BoardStatus.CLOSED)
    text = typed.format(code=code, digits=code.replace("-", ""), spaced=code.replace("-", " "))
    assert status(client, text)["status"] == "closed"


@pytest.mark.parametrize(
    "receipt",
    ["", "9876", "9876-5432-1098-765", "9876-5432-1098-76543", "abcd-efgh-ijkl-mnop", "9876/5432/1098/7654", "9" * 64],
)
def test_a_malformed_code_is_a_400(client: TestClient, service: IntakeService, receipt: str) -> None:
    error = json_error(client.post("/api/v1/status", json={"receipt": receipt}), 400, "invalid_input")
    assert error["message"] == gettext("en", InvalidInput.message)
    assert set(error["fields"]) == {"receipt"}
    assert not receipt or receipt not in json.dumps(error)  # what was typed is not echoed back


# -- follow-ups -----------------------------------------------------------------------------------------


def test_followups_attach_to_their_case_and_unknown_codes_lose_nothing(
    client: TestClient, node: Node, service: IntakeService
) -> None:
    known = report(client)
    for receipt, text in ((known, "They gave two cards back today."), ("4444-3333-2222-1111", "我的工资被扣了。")):
        response = client.post("/api/v1/followups", json={"receipt": receipt, "text": text})
        assert response.status_code == 202
        assert response.json() == {"accepted": True}
    assert stored(service) == (3, 1)  # follow-ups open no status-board entry
    result, cases = drain_node(node)
    assert (result.cases, result.followups) == (2, 1)
    by_text = {c.description: c for c in cases}
    assert [f.text for f in full_case(node, by_text[DESC].id).followups] == ["They gave two cards back today."]
    assert "我的工资被扣了。" in by_text  # a mistyped code becomes a case of its own


def test_a_followup_with_a_bad_code_or_no_text_is_refused(client: TestClient, service: IntakeService) -> None:
    error = json_error(client.post("/api/v1/followups", json={"receipt": "12", "text": "x"}), 400, "invalid_input")
    assert set(error["fields"]) == {"receipt"}
    error = json_error(
        client.post("/api/v1/followups", json={"receipt": "1234-5678-9012-3456", "text": " \n "}), 400, "invalid_input"
    )
    assert set(error["fields"]) == {"text"}
    assert stored(service) == (0, 0)


def test_healthz(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# -- OpenAPI ------------------------------------------------------------------------------------------


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_openapi_lists_the_api(openapi: dict[str, Any]) -> None:
    paths = openapi["paths"]
    assert set(paths["/api/v1/reports"]) == {"post"}
    assert set(paths["/api/v1/status"]) == {"post"}
    assert set(paths["/api/v1/followups"]) == {"post"}
    assert "get" in paths["/healthz"]
    assert not [p for p in paths if p in ("/", "/report", "/status", "/status/add")]  # pages are not API
    assert "201" in paths["/api/v1/reports"]["post"]["responses"]
    for code in ("400", "413", "415", "429", "503"):
        assert code in paths["/api/v1/reports"]["post"]["responses"]


def test_openapi_documents_the_report_body(openapi: dict[str, Any]) -> None:
    body = openapi["paths"]["/api/v1/reports"]["post"]["requestBody"]
    assert body["required"] is True
    schema = body["content"]["application/json"]["schema"]
    props = schema["properties"]
    assert {"description", "factory", "categories", "consent", "locale"} <= set(props)
    assert {"name", "phone", "location", "contact_ok"} <= set(props)
    assert schema["required"] == ["description"]
    assert schema["additionalProperties"] is False
    assert props["description"]["maxLength"] == 20_000
    assert set(props["categories"]["items"]["enum"]) == {c.value for c in Category}
    assert props["consent"]["enum"] == [0, 1, 2]


def test_openapi_references_all_resolve(openapi: dict[str, Any]) -> None:
    """A ``$ref`` that dangles breaks every client generator and mock server that reads the spec."""
    refs = re.findall(r'"\$ref": "([^"]+)"', json.dumps(openapi))
    assert refs
    for ref in refs:
        assert ref.startswith("#/"), ref
        node: Any = openapi
        for part in ref[2:].split("/"):
            assert isinstance(node, dict) and part in node, f"dangling $ref {ref}"
            node = node[part]


def test_openapi_error_shape(openapi: dict[str, Any]) -> None:
    schemas = openapi["components"]["schemas"]
    assert set(schemas["ErrorOut"]["properties"]) == {"error"}
    assert {"code", "message", "fields"} == set(schemas["ErrorBody"]["properties"])
    # "question" only when one waits for the worker (issue 15; tests/channels/web/test_answers.py)
    assert set(schemas["StatusOut"]["properties"]) == {"status", "status_text", "messages", "question"}
    assert set(schemas["StatusOut"]["required"]) == {"status", "status_text", "messages"}


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_no_pages_that_load_assets_from_a_cdn(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert "cdn" not in response.text.lower()


def test_an_unknown_path_gets_the_translated_error_shape(client: TestClient) -> None:
    error = json_error(client.get("/api/v1/no-such-thing", headers=ZH), 404, "not_found")
    assert error["message"] == gettext("zh_Hans", NotFound.message)
    page = client.get("/no-such-page", headers=ZH)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert str(escape(gettext("zh_Hans", NotFound.message))) in page.text
    assert 'lang="zh-Hans"' in page.text
