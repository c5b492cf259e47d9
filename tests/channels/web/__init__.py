"""Tests of the worker-facing web channel: pages, JSON API, protections, bad input, privacy.

Small helpers shared by these modules live here. Everything runs against the real app and real
SQLCipher stores of a throwaway node; the data is synthetic.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

import i18n
from intake.domain import Case
from intake.node import open_cases
from intake.services import IntakeService
from tests.conftest import Node, csrf_token, make_node

JSON = {"content-type": "application/json"}
ZH = {"accept-language": "zh-CN,zh;q=0.9"}
RECEIPT_SHAPE = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{4}$")


def stored(service: IntakeService) -> tuple[int, int]:
    """(sealed items, status-board rows): both must stay put when a request is refused."""
    board = service.inbox._conn.execute("SELECT count(*) FROM board").fetchone()[0]
    return service.inbox.count(), int(board)


def gettext(locale: str, msgid: str) -> str:
    """Whatever the worker catalog holds for ``msgid`` right now (translators work concurrently)."""
    return i18n.translations(locale).gettext(msgid)


def post_form(client: TestClient, path: str, data: dict[str, Any], **kwargs: Any) -> httpx.Response:
    """POST a form the way a browser without JavaScript does, with a fresh CSRF token."""
    token_page = "/status" if path.startswith("/status") else "/report"
    lang = data.get("lang")
    token = csrf_token(client, token_page, **({"lang": lang} if lang else {}))
    return client.post(path, data={"csrf": token, **data}, follow_redirects=False, **kwargs)


def json_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Check the documented error shape and return its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) <= {"code", "message", "fields"}, error
    assert {"code", "message"} <= set(error), error
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"]
    assert "Traceback" not in response.text
    return dict(error)


def html_page(response: httpx.Response, status: int) -> str:
    assert response.status_code == status, response.text[:500]
    assert response.headers["content-type"].startswith("text/html")
    assert "Traceback" not in response.text
    return response.text


def html_lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "page has no html lang"
    return match.group(1)


def client_for(node: Node, service: IntakeService, **settings: Any) -> TestClient:
    """Another app on the same node and service, with some settings changed (e.g. the rate limit)."""
    from channels.server import create_intake_app

    changed = dataclasses.replace(node.settings, **settings)
    return TestClient(create_intake_app(changed, service), base_url="http://testserver")


@dataclass
class Web:
    """A node with its intake service and app, shared by tests that only compare before and after."""

    node: Node
    service: IntakeService
    client: TestClient


@contextmanager
def web_app(home: Path) -> Iterator[Web]:
    from channels.server import create_intake_app

    node = make_node(home)
    service = IntakeService.open(node.settings)
    try:
        with TestClient(create_intake_app(node.settings, service), base_url="http://testserver") as client:
            yield Web(node, service, client)
    finally:
        service.close()


@contextmanager
def cases_of(node: Node) -> Iterator[Any]:
    """The node's cases store, opened with its keys (as the desk would after unlocking)."""
    cases = open_cases(node.settings, node.keys)
    try:
        yield cases
    finally:
        cases.close()


def full_case(node: Node, case_id: int) -> Case:
    with cases_of(node) as cases:
        return cases.get_case(case_id)  # type: ignore[no-any-return]
