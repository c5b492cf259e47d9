"""Trust at the edges (issue 12): nothing doubled, clear errors and never a 500, a coherent form.

Everything runs through the real app and real SQLCipher stores: TestClient for most requests,
uvicorn on 127.0.0.1 and a raw socket for a client that goes away in the middle of its request.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape
from twilio.request_validator import RequestValidator

from channels.server import create_intake_app
from intake import clock
from intake.errors import BadIdempotencyKey, IdempotencyConflict, RateLimited
from intake.receipts import format_receipt, new_receipt
from intake.services import IntakeService
from tests.channels.web import ZH, client_for, gettext, html_page, json_error, stored
from tests.conftest import Node, csrf_token, drain_node, make_node, receipt_in

TEXT = "The canteen deducts twice for one meal and the overtime is paid at the normal rate."
OTHER = "The fire exit on the second floor of the packing hall is locked during the night shift."
MORE = "Update: the deduction happened again this week, for everyone on line 7."
KEY = "5f0c1a52-8a9e-4e35-9b1b-2c1f4d1e7a11"
TOKEN = re.compile(r'name="csrf" value="([^"]+)"')


def token_in(html: str) -> str:
    match = TOKEN.search(html)
    assert match, "page has no form token"
    return match.group(1)


def raw_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def followup_form(client: TestClient, receipt: str) -> str:
    """The status page for ``receipt``: its follow-up form's token."""
    page = client.post("/status", data={"csrf": csrf_token(client, "/status"), "receipt": receipt})
    return token_in(html_page(page, 200))


# -- 1. nothing doubled: the web form ------------------------------------------------------------


def test_a_double_tap_or_reload_of_the_form_shows_the_same_receipt(
    client: TestClient, node: Node, service: IntakeService
) -> None:
    token = csrf_token(client)
    form = {"csrf": token, "description": TEXT, "factory": "Northwind Components", "categories": ["wages"]}
    first = receipt_in(html_page(client.post("/report", data=form), 200))
    again = html_page(client.post("/report", data=form), 200)  # the reload, or the second tap
    assert receipt_in(again) == first
    assert escape(gettext("en", "Your report was received")) in again
    assert stored(service) == (1, 1)
    result, cases = drain_node(node)
    assert (result.cases, len(cases)) == (1, 1)


def test_the_re_shown_receipt_is_never_readable_on_disk(client: TestClient, node: Node) -> None:
    token = csrf_token(client)
    first = receipt_in(client.post("/report", data={"csrf": token, "description": TEXT}).text)
    assert receipt_in(client.post("/report", data={"csrf": token, "description": TEXT}).text) == first
    data = raw_bytes(node.home)
    for secret in (first, first.replace("-", ""), token, TEXT):
        for encoding in ("utf-8", "utf-16-le"):
            assert secret.encode(encoding) not in data, f"{secret!r} readable on disk"


def test_the_same_form_sent_with_other_text_keeps_that_text_and_stores_nothing_twice(
    client: TestClient, service: IntakeService
) -> None:
    token = csrf_token(client)
    client.post("/report", data={"csrf": token, "description": TEXT})
    changed = client.post("/report", data={"csrf": token, "description": OTHER, "factory": "Fabrikam"})
    html = html_page(changed, 422)
    assert escape(OTHER) in html and "Fabrikam" in html, "what the worker wrote comes back"
    assert 'id="receipt"' not in html
    assert stored(service) == (1, 1)
    fresh = token_in(html)
    assert fresh != token
    sent = client.post("/report", data={"csrf": fresh, "description": OTHER})
    html_page(sent, 200)
    assert stored(service) == (2, 2), "sent again on purpose, it is a report of its own"


def test_two_submits_of_one_form_at_the_same_moment_make_one_report(
    client: TestClient, node: Node, service: IntakeService
) -> None:
    token = csrf_token(client)
    form = {"csrf": token, "description": TEXT}
    ready = threading.Barrier(4)
    pages: list[httpx.Response] = []

    def tap() -> None:
        ready.wait()
        pages.append(client.post("/report", data=form))

    threads = [threading.Thread(target=tap) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(pages) == 4
    assert len({receipt_in(html_page(p, 200)) for p in pages}) == 1
    assert stored(service) == (1, 1)
    assert drain_node(node)[0].cases == 1


def test_a_reload_of_the_followup_form_adds_once(client: TestClient, node: Node, service: IntakeService) -> None:
    receipt = client.post("/api/v1/reports", json={"description": TEXT}).json()["receipt"]
    token = followup_form(client, receipt)
    form = {"csrf": token, "receipt": receipt, "text": MORE}
    for _ in range(2):
        added = html_page(client.post("/status/add", data=form), 200)
        assert escape(gettext("en", "Thank you. Your addition was received.")) in added
    assert stored(service) == (2, 1)
    changed = client.post("/status/add", data={**form, "text": OTHER})
    assert escape(OTHER) in html_page(changed, 422)
    assert stored(service) == (2, 1)
    result, _cases = drain_node(node)
    assert (result.cases, result.followups) == (1, 1)


# -- 1. nothing doubled: the JSON API -----------------------------------------------------------


def post_report(client: TestClient, body: dict[str, Any], key: str | None = KEY, **headers: str) -> httpx.Response:
    extra = {"Idempotency-Key": key} if key is not None else {}
    response: httpx.Response = client.post("/api/v1/reports", json=body, headers={**extra, **headers})
    return response


def test_an_idempotency_key_gives_the_same_receipt(client: TestClient, node: Node, service: IntakeService) -> None:
    first = post_report(client, {"description": TEXT, "consent": 1})
    assert first.status_code == 201, first.text
    # the same body written differently (key order, spacing) is the same request
    raw = json.dumps({"consent": 1, "description": TEXT}, indent=2).encode()
    again = client.post(
        "/api/v1/reports", content=raw, headers={"content-type": "application/json", "Idempotency-Key": KEY}
    )
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert stored(service) == (1, 1)
    assert drain_node(node)[0].cases == 1


def test_an_idempotency_key_with_another_body_is_refused_clearly(client: TestClient, service: IntakeService) -> None:
    assert post_report(client, {"description": TEXT}).status_code == 201
    error = json_error(post_report(client, {"description": OTHER}, **ZH), 422, "idempotency_key_reused")
    assert error["message"] == gettext("zh_Hans", IdempotencyConflict.message)
    assert stored(service) == (1, 1)


def test_without_a_key_two_posts_are_two_reports(client: TestClient, service: IntakeService) -> None:
    a = post_report(client, {"description": TEXT}, key=None).json()["receipt"]
    b = post_report(client, {"description": TEXT}, key=None).json()["receipt"]
    assert a != b and stored(service) == (2, 2)


@pytest.mark.parametrize("key", ["short", "x" * 256, "has space in it 12345", "ключ-идемпотентности-1234"])
def test_an_unusable_idempotency_key_is_a_clear_400(client: TestClient, service: IntakeService, key: str) -> None:
    response = client.post(
        "/api/v1/reports",
        content=json.dumps({"description": TEXT}).encode(),
        headers={"content-type": "application/json", "Idempotency-Key": key.encode()},
    )
    error = json_error(response, 400, "bad_idempotency_key")
    assert error["message"] == gettext("en", BadIdempotencyKey.message)
    assert stored(service) == (0, 0)


def test_concurrent_posts_with_one_key_make_one_report(client: TestClient, service: IntakeService) -> None:
    ready = threading.Barrier(4)
    answers: list[httpx.Response] = []

    def send() -> None:
        ready.wait()
        answers.append(post_report(client, {"description": TEXT}))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["receipt"] for a in answers}) == 1
    assert stored(service) == (1, 1)


def test_followups_take_an_idempotency_key(client: TestClient, node: Node, service: IntakeService) -> None:
    receipt = post_report(client, {"description": TEXT}).json()["receipt"]
    body = {"receipt": receipt, "text": MORE}
    for _ in range(3):  # the same key as the report: keys of different endpoints never meet
        response = client.post("/api/v1/followups", json=body, headers={"Idempotency-Key": KEY})
        assert response.status_code == 202, response.text
    assert stored(service) == (2, 1)
    other = client.post("/api/v1/followups", json={**body, "text": OTHER}, headers={"Idempotency-Key": KEY})
    json_error(other, 422, "idempotency_key_reused")
    result, _ = drain_node(node)
    assert (result.cases, result.followups) == (1, 1)


def test_a_key_is_forgotten_after_a_day(client: TestClient, service: IntakeService) -> None:
    fixed = clock.FixedClock(datetime.now(UTC))
    with clock.use(fixed):
        first = post_report(client, {"description": TEXT}).json()["receipt"]
        fixed.advance(timedelta(hours=23))
        assert post_report(client, {"description": TEXT}).json()["receipt"] == first
        fixed.advance(timedelta(hours=1, seconds=1))
        later = post_report(client, {"description": TEXT}).json()["receipt"]
    assert later != first
    assert stored(service) == (2, 2)
    rows = service.inbox._conn.execute("SELECT count(*) FROM seen_messages").fetchone()[0]
    assert rows == 1, "the expired key was replaced, not kept beside the new one"


def test_a_send_the_inbox_refused_can_be_sent_again_with_the_same_token(
    client: TestClient, service: IntakeService
) -> None:
    """A 503 stores nothing, not even the token: the retry is the first send that counts."""
    big = TEXT * 100  # needs new pages in the inbox
    conn = service.inbox._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    token = csrf_token(client)
    conn.execute(f"PRAGMA max_page_count = {pages}")  # what a full disk looks like to SQLite
    try:
        html_page(client.post("/report", data={"csrf": token, "description": big}), 503)
        json_error(post_report(client, {"description": big}), 503, "unavailable")
        assert stored(service) == (0, 0)
    finally:
        conn.execute("PRAGMA max_page_count = 1073741823")
    first = receipt_in(html_page(client.post("/report", data={"csrf": token, "description": big}), 200))
    assert receipt_in(client.post("/report", data={"csrf": token, "description": big}).text) == first
    api = post_report(client, {"description": big})
    assert api.status_code == 201
    assert post_report(client, {"description": big}).json() == api.json()
    assert stored(service) == (2, 2)


# -- 2. clear errors, never a 500 --------------------------------------------------------------------


@pytest.fixture
def live(node: Node, service: IntakeService) -> Iterator[int]:
    """The intake app served by uvicorn on a loopback port."""
    from intake.demo.servers import start_server

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = int(sock.getsockname()[1])
    server, thread = start_server(create_intake_app(node.settings, service), sock)
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def wait_for(caplog: pytest.LogCaptureFixture, text: str, seconds: float = 10.0) -> None:
    deadline = clock.monotonic() + seconds
    while not any(text in r.getMessage() for r in caplog.records):
        assert clock.monotonic() < deadline, f"no log line with {text!r}"
        threading.Event().wait(0.05)


@pytest.mark.parametrize(
    ("path", "ctype", "half"),
    [
        ("/report", "application/x-www-form-urlencoded", b"csrf=x&description=The+canteen+deduc"),
        ("/api/v1/reports", "application/json", b'{"description": "The canteen deduc'),
        ("/status/add", "application/x-www-form-urlencoded", b"csrf=x&receipt=2468-1357-97"),
    ],
)
def test_a_client_that_goes_away_mid_request_is_no_500(
    live: int, service: IntakeService, caplog: pytest.LogCaptureFixture, path: str, ctype: str, half: bytes
) -> None:
    caplog.set_level(logging.INFO, logger="intake")
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {ctype}\r\nContent-Length: {len(half) * 4}\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", live), timeout=5) as s:
        s.sendall(head + half)
        threading.Event().wait(0.2)  # the handler is waiting for the rest of the body
    wait_for(caplog, f"POST {path} ")
    lines = [r.getMessage() for r in caplog.records]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], lines
    assert not [line for line in lines if "status=500" in line], lines
    assert stored(service) == (0, 0)
    # and the server still serves the next worker
    assert httpx.get(f"http://127.0.0.1:{live}/healthz", timeout=5).status_code == 200


SIGNATURE_REFUSED = "This request's signature is not valid. Nothing was saved."
SECRET_REFUSED = "The SMS gateway's secret is wrong. Nothing was saved."


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[TestClient]:
    gw = make_node(
        tmp_path / "gw", twilio_auth_token="synthetic-token", public_url="https://intake.example.org",
        smssync_secret="synthetic-gateway-secret",
    )  # fmt: skip
    with TestClient(create_intake_app(gw.settings)) as c:
        yield c


@pytest.mark.parametrize("path", ["/twilio/sms", "/twilio/voice", "/twilio/voice/recorded"])
@pytest.mark.parametrize("signature", [None, "forged"])
def test_a_refused_twilio_request_says_what_is_refused(gateway: TestClient, path: str, signature: str | None) -> None:
    params = {"From": "+15550002222", "Body": "hello", "MessageSid": "SM" + "1" * 32, "CallSid": "CA" + "1" * 32}
    if signature == "forged":
        signature = RequestValidator("not-the-token").compute_signature("https://intake.example.org" + path, params)
    headers = {"X-Twilio-Signature": signature} if signature else {}
    error = json_error(gateway.post(path, data=params, headers=headers), 403, "forbidden")
    assert error["message"] == gettext("en", SIGNATURE_REFUSED)
    assert "went wrong on our side" not in error["message"]


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_sms_gateway_says_the_secret_is_wrong(gateway: TestClient, method: str) -> None:
    params = {"secret": "wrong", "from": "+15550002222", "message": "hello", "message_id": "m-1"}
    if method == "GET":
        response = gateway.get("/smssync", params={"task": "send", "secret": "wrong"})
    else:
        response = gateway.post("/smssync", data=params)
    error = json_error(response, 403, "forbidden")
    assert error["message"] == gettext("en", SECRET_REFUSED)


RATE_LIMITED: dict[str, Callable[[TestClient], httpx.Response]] = {
    "api-report": lambda c: c.post("/api/v1/reports", json={"description": TEXT}),
    "api-status": lambda c: c.post("/api/v1/status", json={"receipt": "2468-1357-9753-8642"}),
    "api-followup": lambda c: c.post("/api/v1/followups", json={"receipt": "2468-1357-9753-8642", "text": MORE}),
    "form-report": lambda c: c.post("/report", data={"csrf": csrf_token(c), "description": TEXT}),
    "form-status": lambda c: c.post("/status", data={"csrf": csrf_token(c, "/status"), "receipt": "2468-1357"}),
    "form-followup": lambda c: c.post(
        "/status/add", data={"csrf": csrf_token(c, "/status"), "receipt": "2468-1357-9753-8642", "text": MORE}
    ),
}


@pytest.mark.parametrize("route", list(RATE_LIMITED))
def test_a_429_says_when_to_try_again(node: Node, service: IntakeService, route: str) -> None:
    fixed = clock.FixedClock(datetime.now(UTC))
    with clock.use(fixed), client_for(node, service, rate_limit_per_minute=2) as c:
        send = RATE_LIMITED[route]
        assert send(c).status_code < 429
        fixed.advance(20)
        assert send(c).status_code < 429
        fixed.advance(5)
        refused = send(c)
        assert refused.status_code == 429, refused.text[:300]
        assert refused.headers["retry-after"] == "35", "the first try leaves the window 35 s from now"
        if route.startswith("api"):
            assert json_error(refused, 429, "rate_limited")["message"] == gettext("en", RateLimited.message)
        else:
            assert escape(gettext("en", RateLimited.message)) in html_page(refused, 429)


# -- 2. the OpenAPI document says what a client must send --------------------------------------------


@pytest.fixture
def openapi(client: TestClient) -> dict[str, Any]:
    return dict(client.get("/openapi.json").json())


def body_of(openapi: dict[str, Any], path: str) -> dict[str, Any]:
    return dict(openapi["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"])


def test_openapi_declares_that_the_words_cannot_be_empty(openapi: dict[str, Any]) -> None:
    for path, name in (("/api/v1/reports", "description"), ("/api/v1/followups", "text")):
        prop = body_of(openapi, path)["properties"][name]
        assert prop["minLength"] == 1
        pattern = re.compile(prop["pattern"])
        assert pattern.search(TEXT) and pattern.search("组长") and not pattern.search(" \n\t ")


TYPED = ["2468-1357-9753-8642", "2468 1357 9753 8642", "๒๔๖๘ ๑๓๕๗ ๙๗๕๓ ๘๖๔๒", "٢٤٦٨-١٣٥٧-٩٧٥٣-٨٦٤٢"]
TYPED += ["२४६८१३५७९७५३८६४२", "২৪৬৮-১৩৫৭-৯৭৫৩-৮৬৪২", "۲۴۶۸ ۱۳۵۷ ۹۷۵۳ ۸۶۴۲", "２４６８－１３５７－９７５３－８６４２"]


def test_openapi_declares_the_receipt_format(openapi: dict[str, Any]) -> None:
    for path in ("/api/v1/status", "/api/v1/followups"):
        prop = body_of(openapi, path)["properties"]["receipt"]
        assert prop["type"] == "string" and prop["maxLength"] == 64 and prop["description"]
        pattern = re.compile(prop["pattern"])
        for typed in TYPED:
            assert pattern.fullmatch(typed), typed
        for bad in ("", "abcd-efgh", "2468-1357-9753-864x", "2468;1357"):
            assert not pattern.fullmatch(bad), bad
    out = openapi["components"]["schemas"]["ReceiptOut"]["properties"]["receipt"]
    assert re.fullmatch(out["pattern"], "2468-1357-9753-8642") and out["description"]
    assert not re.fullmatch(out["pattern"], "2468 1357")
    for _ in range(50):  # what the server hands out fits what it declares, and is read back as typed
        code = format_receipt(new_receipt())
        assert re.fullmatch(out["pattern"], code) and re.fullmatch(pattern, code)


def test_openapi_declares_the_idempotency_key_and_retry_after(openapi: dict[str, Any]) -> None:
    for path in ("/api/v1/reports", "/api/v1/followups"):
        post = openapi["paths"][path]["post"]
        (param,) = [p for p in post["parameters"] if p["name"] == "Idempotency-Key"]
        assert param["in"] == "header" and not param["required"]
        assert (param["schema"]["minLength"], param["schema"]["maxLength"]) == (16, 255)
        assert re.fullmatch(param["schema"]["pattern"], KEY)
        assert "422" in post["responses"]
    for path in ("/api/v1/reports", "/api/v1/status", "/api/v1/followups"):
        assert "Retry-After" in openapi["paths"][path]["post"]["responses"]["429"]["headers"]


# -- 3. the form's wording ---------------------------------------------------------------------------


def test_the_form_does_not_forbid_the_name_it_asks_for(client: TestClient) -> None:
    html = html_page(client.get("/report"), 200)
    assert "Do not write your own name" not in html
    hint = re.search(r'<input id="name"[^>]*aria-describedby="([^"]+)"', html)
    assert hint, "the name field is explained"
    explained = re.search(rf'id="{hint.group(1)}">([^<]+)<', html)
    assert explained and "caseworker" in explained.group(1)
    story_hint = re.search(r'id="description-hint">([^<]+)<', html)
    assert story_hint and "below" in story_hint.group(1), "the story's hint points to the name field"
