"""Bad input of every kind: a clear, translated 4xx, never a 500 or a traceback, and nothing stored.

An inbox that cannot take a write refuses with 503: a report is never acknowledged and then lost.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from channels.web.errors import FIELD_MESSAGES
from intake.errors import (
    InvalidInput,
    MalformedRequest,
    StoreUnavailable,
    TooLarge,
    UnsupportedMediaType,
)
from intake.services import IntakeService
from tests.channels.web import JSON, RECEIPT_SHAPE, ZH, Web, gettext, html_page, json_error, post_form, stored, web_app
from tests.conftest import csrf_token, receipt_in

TEXT = "The agency took three months of wages as a recruitment fee and we still owe it money."
MESSAGES = {
    "invalid_input": InvalidInput.message,
    "malformed": MalformedRequest.message,
    "too_large": TooLarge.message,
    "unsupported_media_type": UnsupportedMediaType.message,
    "unavailable": StoreUnavailable.message,
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """Refused requests change nothing, so they can share one node (set-up is the slow part)."""
    with web_app(tmp_path_factory.mktemp("bad-input") / "node") as web:
        yield web


@pytest.fixture
def web(shared: Web) -> Iterator[Web]:
    """The shared app, checked to hold exactly as much after the test as before it."""
    shared.client.cookies.clear()
    before = stored(shared.service)
    yield shared
    assert stored(shared.service) == before, "a refused request stored something"


def body(**fields: Any) -> bytes:
    return json.dumps({"description": TEXT, **fields}).encode()


def streamed(total: int) -> Iterator[bytes]:
    """A body sent chunked, with no Content-Length to refuse it by."""
    for _ in range(total // 1024):
        yield b"x" * 1024


# name: (body, status, code, {field: FIELD_MESSAGES key} or None)
JSON_CASES: dict[str, tuple[Any, int, str, dict[str, str] | None]] = {
    "not-json": (b"description=hello", 400, "malformed", None),
    "truncated": (b'{"description": "hello"', 400, "malformed", None),
    "empty-body": (b"", 400, "malformed", None),
    "invalid-utf8": (b'{"description": "\xff\xfe\xfd"}', 400, "malformed", None),
    "utf16-bom": ('{"description": "hello"}'.encode("utf-16"), 400, "malformed", None),
    "lone-surrogate": (b'{"description": "before \\ud800 after"}', 400, "invalid_input", {"description": "invalid"}),
    "lone-low-surrogate": (b'{"description": "x", "factory": "\\udfff"}', 400, "invalid_input", {"factory": "invalid"}),
    "array": (b'[{"description": "hello"}]', 400, "malformed", None),
    "string": (b'"hello"', 400, "malformed", None),
    "number": (b"7", 400, "malformed", None),
    "null": (b"null", 400, "malformed", None),
    "deeply-nested": (b"[" * 30_000 + b"]" * 30_000, 400, "malformed", None),
    "huge-integer": (b'{"description": "x", "consent": ' + b"9" * 5_000 + b"}", 400, "malformed", None),
    "description-number": (b'{"description": 12345}', 400, "invalid_input", {"description": "invalid"}),
    "description-null": (b'{"description": null}', 400, "invalid_input", {"description": "invalid"}),
    "description-list": (b'{"description": ["a", "b"]}', 400, "invalid_input", {"description": "invalid"}),
    "categories-string": (body(categories="wages"), 400, "invalid_input", {"categories": "invalid"}),
    "categories-numbers": (body(categories=[1, 2]), 400, "invalid_input", {"categories": "invalid"}),
    "unknown-category": (body(categories=["wages", "bribery"]), 400, "invalid_input", {"categories": "invalid"}),
    "too-many-categories": (body(categories=["wages"] * 14), 400, "invalid_input", {"categories": "too_long"}),
    "consent-7": (body(consent=7), 400, "invalid_input", {"consent": "invalid"}),
    "consent-negative": (body(consent=-1), 400, "invalid_input", {"consent": "invalid"}),
    "consent-x": (body(consent="x"), 400, "invalid_input", {"consent": "invalid"}),
    "consent-fraction": (body(consent=1.5), 400, "invalid_input", {"consent": "invalid"}),
    "consent-nan": (b'{"description": "x", "consent": NaN}', 400, "invalid_input", {"consent": "invalid"}),
    "consent-infinity": (b'{"description": "x", "consent": 1e999}', 400, "invalid_input", {"consent": "invalid"}),
    "contact-ok-string": (
        body(contact_ok="maybe", phone="+1 555 0100"),
        400,
        "invalid_input",
        {"contact_ok": "invalid"},
    ),
    "unknown-field": (body(email="someone@example.org"), 400, "invalid_input", {"email": "invalid"}),
    "unknown-locale": (body(locale="xx_YY"), 400, "invalid_input", {"locale": "invalid"}),
    "locale-number": (body(locale=5), 400, "invalid_input", {"locale": "invalid"}),
    "missing-description": (b'{"factory": "Tailspin Toys"}', 400, "invalid_input", {"description": "missing"}),
    "empty-description": (body(description=""), 400, "invalid_input", {"description": "missing"}),
    "whitespace-description": (body(description=" \n\t \u3000 "), 400, "invalid_input", {"description": "missing"}),
    "control-characters-only": (
        body(description="\u0000\u0007\u001b"),
        400,
        "invalid_input",
        {"description": "missing"},
    ),
    "description-too-long": (body(description="x" * 20_001), 400, "invalid_input", {"description": "too_long"}),
    "factory-too-long": (body(factory="f" * 301), 400, "invalid_input", {"factory": "too_long"}),
    "phone-too-long": (body(phone="1" * 41), 400, "invalid_input", {"phone": "too_long"}),
    "contact-without-phone": (body(contact_ok=True), 400, "invalid_input", {"phone": "missing"}),
    "over-size-limit": (body(description="x" * 70_000), 413, "too_large", None),
}


@pytest.mark.parametrize("name", list(JSON_CASES))
def test_bad_json_reports_are_refused_clearly(web: Web, name: str) -> None:
    client = web.client
    content, status, code, fields = JSON_CASES[name]
    response = client.post("/api/v1/reports", content=content, headers=JSON)
    error = json_error(response, status, code)
    assert error["message"] == gettext("en", MESSAGES[code])
    if fields is None:
        assert "fields" not in error
    else:
        assert error["fields"] == {f: gettext("en", FIELD_MESSAGES[kind]) for f, kind in fields.items()}
    assert TEXT not in response.text  # the input is never echoed back


def test_a_streamed_body_over_the_limit_is_refused(web: Web) -> None:
    client = web.client
    response = client.post("/api/v1/reports", content=streamed(100 * 1024), headers=JSON)
    assert "content-length" not in response.request.headers
    json_error(response, 413, "too_large")


def test_a_declared_length_that_is_not_a_number_is_refused(web: Web) -> None:
    client = web.client
    response = client.post("/api/v1/reports", content=body(), headers={**JSON, "content-length": "lots"})
    assert response.status_code in (400, 413)


@pytest.mark.parametrize(
    ("code", "fields"), [("invalid_input", {"description": "missing"}), ("malformed", None), ("too_large", None)]
)
def test_error_messages_are_in_the_requests_language(web: Web, code: str, fields: dict[str, str] | None) -> None:
    client = web.client
    content = {"invalid_input": body(description="  "), "malformed": b"{", "too_large": b"x" * 70_000}[code]
    error = json_error(
        client.post("/api/v1/reports", content=content, headers={**JSON, **ZH}),
        400 if code != "too_large" else 413,
        code,
    )
    assert error["message"] == gettext("zh_Hans", MESSAGES[code])
    if fields:
        assert error["fields"] == {f: gettext("zh_Hans", FIELD_MESSAGES[k]) for f, k in fields.items()}


def test_wrong_content_type_is_415_in_the_requests_language(web: Web) -> None:
    client = web.client
    response = client.post("/api/v1/reports", content=body(), headers={"content-type": "text/plain", **ZH})
    error = json_error(response, 415, "unsupported_media_type")
    assert error["message"] == gettext("zh_Hans", UnsupportedMediaType.message)


@pytest.mark.parametrize(
    ("path", "content", "field"),
    [
        ("/api/v1/status", b'{"receipt": 1234567890123456}', "receipt"),
        ("/api/v1/status", b"{}", "receipt"),
        ("/api/v1/status", b'{"receipt": "1234-5678-9012-3456", "extra": 1}', "extra"),
        ("/api/v1/followups", b'{"receipt": "1234-5678-9012-3456", "text": 5}', "text"),
        ("/api/v1/followups", b'{"receipt": "1234-5678-9012-3456"}', "text"),
        ("/api/v1/followups", json.dumps({"receipt": "1234-5678-9012-3456", "text": "y" * 20_001}).encode(), "text"),
        ("/api/v1/followups", b'{"receipt": "1234-5678-9012-3456", "text": "\\ud800"}', "text"),
        ("/api/v1/followups", b'{"receipt": "1234-5678-9012-3456", "text": "x", "locale": 9}', "locale"),
    ],
)
def test_bad_status_and_followup_bodies(web: Web, path: str, content: bytes, field: str) -> None:
    client = web.client
    error = json_error(client.post(path, content=content, headers=JSON), 400, "invalid_input")
    assert field in error["fields"]


@pytest.mark.parametrize("path", ["/api/v1/status", "/api/v1/followups"])
@pytest.mark.parametrize("content", [b"[]", b"not json", b'{"receipt": "\xff"}'])
def test_unreadable_status_and_followup_bodies(web: Web, path: str, content: bytes) -> None:
    client = web.client
    json_error(client.post(path, content=content, headers=JSON), 400, "malformed")


# -- forms ------------------------------------------------------------------------------------------------

# name: (fields added to a good form, {field: FIELD_MESSAGES key})
FORM_CASES: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "description-too-long": ({"description": "d" * 20_001}, {"description": "too_long"}),
    "empty-description": ({"description": "   "}, {"description": "missing"}),
    "factory-too-long": ({"factory": "f" * 301}, {"factory": "too_long"}),
    "name-too-long": ({"name": "n" * 301}, {"name": "too_long"}),
    "phone-too-long": ({"phone": "1" * 41}, {"phone": "too_long"}),
    "consent-7": ({"consent": "7"}, {"consent": "invalid"}),
    "consent-x": ({"consent": "x"}, {"consent": "invalid"}),
    "consent-negative": ({"consent": "-1"}, {"consent": "invalid"}),
    "unknown-category": ({"categories": ["wages", "bribery"]}, {"categories": "invalid"}),
    "contact-without-phone": ({"contact_ok": "1", "phone": ""}, {"phone": "missing"}),
}
VISIBLE_FIELDS = {"description", "factory", "phone", "consent", "categories"}  # the form marks these


@pytest.mark.parametrize("name", list(FORM_CASES))
def test_bad_forms_come_back_with_the_workers_text(web: Web, name: str) -> None:
    client = web.client
    extra, fields = FORM_CASES[name]
    data = {"description": TEXT, "factory": "Tailspin Toys", "location": "Lot 9", **extra}
    response = post_form(client, "/report", data, headers=ZH)
    html = html_page(response, 400)
    assert escape(gettext("zh_Hans", InvalidInput.message)) in html
    for field, kind in fields.items():
        if field in VISIBLE_FIELDS:
            assert escape(gettext("zh_Hans", FIELD_MESSAGES[kind])) in html
    for value in (data["description"], data["factory"], "Lot 9"):
        if value.strip():
            assert value in html
    assert 'name="csrf" value="' in html and 'id="receipt"' not in html


def test_a_bad_form_keeps_choices_ticked(web: Web) -> None:
    client = web.client
    data = {"description": TEXT, "categories": ["wages", "retaliation"], "consent": "2", "contact_ok": "1"}
    html = html_page(post_form(client, "/report", data), 400)  # contact without a phone
    assert 'value="wages" checked' in html and 'value="retaliation" checked' in html
    assert 'value="health_safety" checked' not in html
    assert 'name="consent" value="2" checked' in html
    assert 'name="contact_ok" value="1" checked' in html


@pytest.mark.parametrize("how", ["declared", "streamed"])
def test_a_form_over_the_size_limit_is_a_413_page(web: Web, how: str) -> None:
    client = web.client
    token = csrf_token(client)
    head = f"csrf={token}&description=".encode()
    content: Any = head + b"x" * 70_000 if how == "declared" else iter([head, *streamed(100 * 1024)])
    headers = {"content-type": "application/x-www-form-urlencoded", **ZH}
    html = html_page(client.post("/report", content=content, headers=headers), 413)
    assert escape(gettext("zh_Hans", TooLarge.message)) in html


@pytest.mark.parametrize(
    "extra",
    [
        {"data": {f"field{i}": "1" for i in range(100)}},
        {"files": {"upload": ("note.txt", b"a file nobody asked for", "text/plain")}},
    ],
    ids=["too-many-fields", "file-upload"],
)
def test_an_unreadable_form_is_a_translated_400_page(web: Web, extra: dict[str, Any]) -> None:
    client = web.client
    token = csrf_token(client)
    data = {"csrf": token, "description": TEXT, **extra.get("data", {})}
    response = client.post("/report", data=data, files=extra.get("files"), headers=ZH)
    html = html_page(response, 400)
    assert escape(gettext("zh_Hans", MalformedRequest.message)) in html


def test_invalid_utf8_in_a_form_is_not_a_500(client: TestClient) -> None:
    """Browsers send UTF-8 (the form says so); a broken client's bytes are replaced, not a crash."""
    token = csrf_token(client)
    content = f"csrf={token}&description=".encode() + b"%FF%FE caf\xe9 " + TEXT.encode()
    response = client.post("/report", content=content, headers={"content-type": "application/x-www-form-urlencoded"})
    assert response.status_code in (200, 400), response.text[:300]
    assert "Traceback" not in response.text


# -- an inbox that cannot take a write ------------------------------------------------------------------------

BIG = "The ventilation in the spray room broke in May and nobody has fixed it. " * 150  # needs new pages


@pytest.fixture
def full_disk(service: IntakeService) -> Iterator[None]:
    """The inbox may not grow by one page: what a full disk looks like to SQLite."""
    conn = service.inbox._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    assert conn.execute(f"PRAGMA max_page_count = {pages}").fetchone()[0] == pages
    yield
    conn.execute("PRAGMA max_page_count = 1073741823")


def test_a_full_inbox_refuses_json_reports_with_503(
    client: TestClient, service: IntakeService, full_disk: None
) -> None:
    error = json_error(client.post("/api/v1/reports", json={"description": BIG}, headers=ZH), 503, "unavailable")
    assert error["message"] == gettext("zh_Hans", StoreUnavailable.message)
    assert "receipt" not in error
    assert stored(service) == (0, 0)
    json_error(
        client.post("/api/v1/followups", json={"receipt": "1234-5678-9012-3450", "text": BIG}), 503, "unavailable"
    )
    assert stored(service) == (0, 0)


def test_a_full_inbox_refuses_the_form_with_a_503_page(
    client: TestClient, service: IntakeService, full_disk: None
) -> None:
    html = html_page(post_form(client, "/report", {"description": BIG}), 503)
    assert escape(gettext("en", StoreUnavailable.message)) in html
    assert 'id="receipt"' not in html
    html = html_page(post_form(client, "/status/add", {"receipt": "1234-5678-9012-3450", "text": BIG}), 503)
    assert escape(gettext("en", StoreUnavailable.message)) in html
    assert stored(service) == (0, 0)


def test_the_inbox_works_again_once_there_is_room(client: TestClient, service: IntakeService) -> None:
    conn = service.inbox._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    json_error(client.post("/api/v1/reports", json={"description": BIG}), 503, "unavailable")
    conn.execute("PRAGMA max_page_count = 1073741823")
    response = client.post("/api/v1/reports", json={"description": BIG})
    assert response.status_code == 201
    assert RECEIPT_SHAPE.match(response.json()["receipt"])
    assert stored(service) == (1, 1)
    assert receipt_in(html_page(post_form(client, "/report", {"description": BIG}), 200))
    assert stored(service) == (2, 2)
