"""Headers on every response, one strict cookie, no external assets, CSRF, honeypot, rate limits."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from fastapi.testclient import TestClient
from markupsafe import escape

from channels.web.security import Csrf, RateLimiter
from intake.errors import FormExpired, InvalidInput, RateLimited
from intake.services import IntakeService
from tests.channels.web import JSON, ZH, Web, client_for, gettext, html_page, json_error, post_form, stored, web_app
from tests.conftest import Node, csrf_token, receipt_in

TEXT = "Our overtime is paid at the normal rate and the canteen deducts twice for one meal."
FACTORY = "Fabrikam Electronics"
CODE = "2468-1357-9753-8644"  # a well-formed code (its check digit matches) that nobody holds


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Web]:
    """One node for the many requests below (node set-up is the slow part)."""
    with web_app(tmp_path_factory.mktemp("security") / "node") as web:
        yield web


@pytest.fixture
def web(shared: Web) -> Iterator[Web]:
    """The shared app, checked to hold exactly as much after the test as before it."""
    shared.client.cookies.clear()
    before = stored(shared.service)
    yield shared
    assert stored(shared.service) == before, "a refused request stored something"


# -- headers on every response ----------------------------------------------------------------------


def check_headers(response: httpx.Response) -> None:
    csp = response.headers.get("content-security-policy", "")
    directives = {d.strip().split(" ", 1)[0]: d.strip() for d in csp.split(";") if d.strip()}
    assert directives.get("default-src") == "default-src 'none'", csp
    assert directives.get("frame-ancestors") == "frame-ancestors 'none'", csp
    assert "script-src" not in directives or directives["script-src"] == "script-src 'none'", csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp and "*" not in csp, csp
    assert response.headers.get("referrer-policy") == "no-referrer"
    assert response.headers.get("cache-control") == "no-store"
    assert response.headers.get("x-content-type-options") == "nosniff"
    assert "access-control-allow-origin" not in response.headers
    for cookie in response.headers.get_list("set-cookie"):
        assert cookie.startswith("csrf="), cookie


def big_stream() -> Iterator[bytes]:
    for _ in range(100):
        yield b"x" * 1024


Request = Callable[[TestClient, Node, IntakeService], httpx.Response]

REQUESTS: dict[str, Request] = {
    "landing": lambda c, n, s: c.get("/"),
    "report-form": lambda c, n, s: c.get("/report"),
    "status-form": lambda c, n, s: c.get("/status", params={"lang": "zh_Hans"}),
    "receipt-page": lambda c, n, s: post_form(c, "/report", {"description": TEXT}),
    "status-page": lambda c, n, s: post_form(c, "/status", {"receipt": CODE}),
    "added-page": lambda c, n, s: post_form(c, "/status/add", {"receipt": CODE, "text": TEXT}),
    "403-form": lambda c, n, s: c.post("/report", data={"description": TEXT}),
    "400-form": lambda c, n, s: post_form(c, "/report", {"description": ""}),
    "api-201": lambda c, n, s: c.post("/api/v1/reports", json={"description": TEXT}),
    "api-status": lambda c, n, s: c.post("/api/v1/status", json={"receipt": CODE}),
    "api-202": lambda c, n, s: c.post("/api/v1/followups", json={"receipt": CODE, "text": TEXT}),
    "api-400": lambda c, n, s: c.post("/api/v1/reports", content=b"{", headers=JSON),
    "404-page": lambda c, n, s: c.get("/no-such-page"),
    "404-api": lambda c, n, s: c.get("/api/v1/no-such-thing"),
    "405": lambda c, n, s: c.get("/api/v1/reports"),
    "413-declared": lambda c, n, s: c.post("/api/v1/reports", content=b"x" * 70_000, headers=JSON),
    "413-streamed": lambda c, n, s: c.post("/api/v1/reports", content=big_stream(), headers=JSON),
    "413-form": lambda c, n, s: c.post("/report", content=b"description=" + b"x" * 70_000),
    "415": lambda c, n, s: c.post("/api/v1/reports", content=b"{}", headers={"content-type": "text/plain"}),
    "429": lambda c, n, s: [
        limited.post("/api/v1/reports", json={"description": TEXT})
        for limited in [client_for(n, s, rate_limit_per_minute=1)]
        for _ in range(2)
    ][-1],
    "static-css": lambda c, n, s: c.get("/static/style.css"),
    "static-404": lambda c, n, s: c.get("/static/nothing.js"),
    "healthz": lambda c, n, s: c.get("/healthz"),
    "openapi": lambda c, n, s: c.get("/openapi.json"),
    "options": lambda c, n, s: c.options(
        "/api/v1/reports", headers={"origin": "https://evil.example", "access-control-request-method": "POST"}
    ),
}
EXPECTED_STATUS = {"403-form": 403, "400-form": 400, "api-201": 201, "api-202": 202, "api-400": 400, "404-page": 404}
EXPECTED_STATUS |= {"404-api": 404, "405": 405, "413-declared": 413, "413-streamed": 413, "413-form": 413}
EXPECTED_STATUS |= {"415": 415, "429": 429, "static-404": 404, "options": 405}


@pytest.mark.parametrize("name", list(REQUESTS))
def test_every_response_carries_the_security_headers(shared: Web, name: str) -> None:
    response = REQUESTS[name](shared.client, shared.node, shared.service)
    assert response.status_code == EXPECTED_STATUS.get(name, 200), response.text[:300]
    check_headers(response)
    assert "Traceback" not in response.text


def test_the_csrf_cookie_is_secure_behind_https(node: Node, service: IntakeService) -> None:
    with client_for(node, service, public_url="https://intake.example.org") as c:
        (cookie,) = c.get("/report").headers.get_list("set-cookie")
    attributes = {a.strip().split("=")[0].lower() for a in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite", "path"} <= attributes
    assert "samesite=strict" in cookie.lower()


def test_a_fresh_visitor_gets_exactly_one_cookie_over_a_whole_flow(node: Node, service: IntakeService) -> None:
    with client_for(node, service) as c:
        pages = [c.get("/"), c.get("/report")]
        pages.append(c.post("/report", data={"csrf": csrf_token(c), "description": TEXT}))
        pages.append(post_form(c, "/status", {"receipt": receipt_in(pages[-1].text)}))
        pages.append(c.post("/api/v1/reports", json={"description": TEXT}))
    cookies = [cookie for page in pages for cookie in page.headers.get_list("set-cookie")]
    assert len(cookies) == 1 and cookies[0].startswith("csrf=")


# -- no external assets ---------------------------------------------------------------------------------

PAGES: dict[str, Request] = {
    name: REQUESTS[name]
    for name in ("landing", "report-form", "status-form", "receipt-page", "status-page", "added-page", "403-form")
} | {
    "404-page": REQUESTS["404-page"],
    "413-form": REQUESTS["413-form"],
    "zh-landing": lambda c, n, s: c.get("/", headers=ZH),
    "zh-report": lambda c, n, s: c.get("/report", headers=ZH),
    "zh-receipt": lambda c, n, s: post_form(c, "/report", {"description": TEXT, "lang": "zh_Hans"}),
}


@pytest.mark.parametrize("name", list(PAGES))
def test_pages_load_nothing_from_elsewhere(shared: Web, name: str) -> None:
    html = PAGES[name](shared.client, shared.node, shared.service).text
    assert html.lstrip().startswith("<!doctype html>")
    assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]", html, re.IGNORECASE)
    for url in re.findall(r'(?:href|src|action|formaction|srcset|poster|data)="([^"]*)"', html):
        assert url.startswith(("/", "?", "#")) and not url.startswith("//"), url
    assert "<script" not in html.lower()
    assert "<iframe" not in html.lower()
    assert " style=" not in html.lower()  # CSP has no 'unsafe-inline' for styles
    assert "<style" not in html.lower()


def test_the_stylesheet_pulls_in_nothing(client: TestClient) -> None:
    css = client.get("/static/style.css").text
    assert "@import" not in css
    for url in re.findall(r"url\(([^)]*)\)", css):
        assert not re.match(r"['\"]?(?:https?:)?//", url), url


# -- CSRF ---------------------------------------------------------------------------------------------


def form_for(path: str) -> tuple[dict[str, str], list[str]]:
    """What a worker typed into the form at ``path``, and what must come back on the page."""
    if path == "/report":
        return {"description": TEXT, "factory": FACTORY, "consent": "1"}, [TEXT, FACTORY]
    if path == "/status":
        return {"receipt": CODE}, [f'value="{CODE}"']
    return {"receipt": CODE, "text": TEXT}, [TEXT, f'value="{CODE}"']


def token_variant(variant: str, client: TestClient, service: IntakeService, path: str) -> str | None:
    page = "/status" if path.startswith("/status") else "/report"
    good = csrf_token(client, page)  # also gives the client its cookie
    cookie = client.cookies["csrf"]
    if variant == "missing":
        return None
    if variant == "wrong":
        return "1700000000." + "0" * 64
    if variant == "garbage":
        return "not a token at all"
    if variant == "non-ascii":  # hmac.compare_digest raises on non-ASCII str: must be a 403, not a 500
        ts, nonce, mac = good.split(".")
        return f"{ts}.{nonce}.{'ü' * len(mac)}"
    if variant == "other-cookie":
        with TestClient(client.app, base_url="http://testserver") as other:
            return csrf_token(other, page)
    if variant == "expired":
        then = time.time() - Csrf.MAX_AGE - 60
        return Csrf(service.csrf_key, clock=lambda: then).token(cookie)
    if variant == "other-key":
        return Csrf(b"k" * 32).token(cookie)
    if variant == "no-cookie":
        client.cookies.clear()
        return good
    raise AssertionError(variant)


@pytest.mark.parametrize("path", ["/report", "/status", "/status/add"])
@pytest.mark.parametrize(
    "variant", ["missing", "wrong", "garbage", "non-ascii", "other-cookie", "expired", "other-key", "no-cookie"]
)
def test_csrf_failures_give_the_form_back_and_store_nothing(web: Web, path: str, variant: str) -> None:
    client = web.client
    data, kept = form_for(path)
    token = token_variant(variant, client, web.service, path)
    response = client.post(path, data={**data, **({"csrf": token} if token is not None else {})})
    html = html_page(response, 403)
    assert escape(gettext("en", FormExpired.message)) in html
    for text in kept:
        assert text in html
    assert 'name="csrf" value="' in html  # with a fresh token, so sending again works


def test_a_token_minted_now_with_the_node_key_is_accepted(client: TestClient, service: IntakeService) -> None:
    """The control for the expired case above: the same minting, only the clock differs."""
    csrf_token(client)
    token = Csrf(service.csrf_key).token(client.cookies["csrf"])
    response = client.post("/report", data={"csrf": token, "description": TEXT})
    html_page(response, 200)
    assert stored(service) == (1, 1)


def test_csrf_tokens_are_bound_to_cookie_key_and_time() -> None:
    now = [1_000_000.0]
    csrf = Csrf(b"a" * 32, clock=lambda: now[0])
    token = csrf.token("cookie-1")
    assert csrf.valid("cookie-1", token)
    assert not csrf.valid("cookie-2", token)
    assert not csrf.valid(None, token)
    assert not csrf.valid("cookie-1", None)
    assert not csrf.valid("cookie-1", "")
    assert not Csrf(b"b" * 32, clock=lambda: now[0]).valid("cookie-1", token)
    ts, _, mac = token.partition(".")
    assert not csrf.valid("cookie-1", f"{int(ts) + 1}.{mac}")  # the time is signed
    assert not csrf.valid("cookie-1", token + "0")
    assert not csrf.valid("cookie-1", "x" * 300)
    now[0] += Csrf.MAX_AGE
    assert csrf.valid("cookie-1", token)  # a worker who wrote slowly for hours is fine
    now[0] += 1
    assert not csrf.valid("cookie-1", token)
    assert Csrf.new_cookie() != Csrf.new_cookie()


# -- honeypot -------------------------------------------------------------------------------------------


def test_a_filled_honeypot_stores_nothing_and_gives_the_form_back(web: Web) -> None:
    response = post_form(
        web.client, "/report", {"description": TEXT, "factory": FACTORY, "website": "http://spam.example"}
    )
    html = html_page(response, 400)
    assert TEXT in html and FACTORY in html
    assert escape(gettext("en", InvalidInput.message)) in html
    assert 'id="receipt"' not in html


# -- rate limit -----------------------------------------------------------------------------------------


def test_the_fourth_post_in_a_minute_is_refused(node: Node, service: IntakeService) -> None:
    with client_for(node, service, rate_limit_per_minute=3) as limited:
        token = csrf_token(limited)  # GETs are not counted
        assert limited.post("/report", data={"csrf": token, "description": TEXT}).status_code == 200
        assert limited.post("/api/v1/reports", json={"description": TEXT}).status_code == 201
        assert limited.post("/api/v1/status", json={"receipt": CODE}).status_code == 200
        before = stored(service)
        error = json_error(limited.post("/api/v1/reports", json={"description": TEXT}, headers=ZH), 429, "rate_limited")
        assert error["message"] == gettext("zh_Hans", RateLimited.message)
        page = html_page(limited.post("/report", data={"csrf": token, "description": TEXT}), 429)
        assert escape(gettext("en", RateLimited.message)) in page
        assert escape(TEXT) in page, "the form comes back with what the worker wrote"
        assert limited.get("/report").status_code == 200  # reading the form still works
        assert stored(service) == before == (2, 2)


def test_the_limit_is_off_at_zero(client: TestClient, service: IntakeService) -> None:
    for _ in range(15):
        assert client.post("/api/v1/status", json={"receipt": CODE}).status_code == 200
    assert client.app.state.limiter._hits == {}  # type: ignore[attr-defined]


def test_the_rate_window_slides() -> None:
    now = [5_000.0]
    limiter = RateLimiter(3, clock=lambda: now[0])
    a, b = "198.51.100.7", "2001:db8::42"

    def at(t: float, client: str = a) -> bool:
        now[0] = 5_000.0 + t
        try:
            limiter.check(client)
        except RateLimited:
            return False
        return True

    assert [at(0), at(10), at(20)] == [True, True, True]
    assert not at(30)
    assert at(30, b)  # another client has its own window
    assert not at(59.9)
    assert at(60)  # the hit at 0 has left the window; a refused try did not count
    assert not at(60)
    assert at(70)
    assert not at(71)
    assert at(200) and at(200) and at(200) and not at(200)


def test_the_limiter_never_keeps_an_address() -> None:
    now = [0.0]
    limiter = RateLimiter(5, clock=lambda: now[0])
    addresses = ["203.0.113.77", "198.51.100.201", "2001:db8:85a3::8a2e:370:7334"]
    for address in addresses:
        limiter.check(address)
    keys = list(limiter._hits)
    assert len(keys) == 3
    assert all(isinstance(k, bytes) and len(k) == 16 for k in keys)
    dump = repr(vars(limiter)).encode() + b"".join(keys)
    for address in addresses:
        assert address.encode() not in dump
        assert address not in repr(vars(limiter))
    # A second process (a restart) tells the same address apart with a new key: nothing links them.
    other = RateLimiter(5, clock=lambda: now[0])
    other.check(addresses[0])
    assert not set(other._hits) & set(keys)
    # Idle entries are swept away, so the table does not grow with every visitor.
    now[0] = 120.0
    limiter.check("192.0.2.1")
    assert len(limiter._hits) == 1


def test_the_limiter_is_off_at_zero() -> None:
    limiter = RateLimiter(0)
    for _ in range(100):
        limiter.check("203.0.113.5")
    assert limiter._hits == {}


# -- the JSON API cannot be posted cross-site -------------------------------------------------------------


@pytest.mark.parametrize(
    "ctype",
    ["application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain", None, "application/jsonx"],
)
@pytest.mark.parametrize("path", ["/api/v1/reports", "/api/v1/status", "/api/v1/answers"])
def test_the_api_takes_only_json(web: Web, ctype: str | None, path: str) -> None:
    """Only JSON, except multipart with files on /reports and /followups (issue 16; channels/web/api.py
    says why that is no cross-site risk): a JSON body sent as multipart there is unreadable (400)."""
    headers = {"content-type": ctype} if ctype else {}
    response = web.client.post(path, content=b'{"description": "x"}', headers=headers)
    if path == "/api/v1/reports" and ctype and ctype.startswith("multipart/"):
        json_error(response, 400, "malformed")
    else:
        json_error(response, 415, "unsupported_media_type")


# -- an unexpected failure says nothing about itself ---------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v1/reports", "/report"])
def test_an_unexpected_error_is_a_plain_translated_500(web: Web, monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    client = web.client

    def explode(*_args: object) -> None:
        raise RuntimeError(f"cannot store {TEXT}")

    monkeypatch.setattr("channels.web.api.accept_report", explode)
    monkeypatch.setattr("channels.web.pages.accept_report", explode)
    if path.startswith("/api"):
        response = client.post(path, json={"description": TEXT}, headers=ZH)
        error = json_error(response, 500, "internal")
        assert error["message"] == gettext("zh_Hans", "Something went wrong on our side. Please try again later.")
    else:
        response = post_form(client, path, {"description": TEXT})
        html_page(response, 500)
    check_headers(response)
    assert TEXT not in response.text and "RuntimeError" not in response.text
