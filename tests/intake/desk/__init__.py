"""Tests of the caseworkers' desk: the app (unlock, cases, workflow, replies), case work, the audit log.

Shared helpers for these modules live here. Everything runs against real SQLCipher stores of a
throwaway node; the data is synthetic.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
from fastapi.testclient import TestClient

from intake.audit import AuditLog
from intake.domain import Channel, ReceiptCode, Report
from intake.node import open_cases
from intake.services import IntakeService, accept_report
from intake.store.cases import CasesStore
from tests.conftest import Node

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CASE_LINK = re.compile(r'<td><a href="/cases/(\d+)">')


def report(node: Node, description: str, **fields: object) -> ReceiptCode:
    """A worker's report through the one way in, sealed into the node's inbox."""
    service = IntakeService.open(node.settings)
    try:
        fields.setdefault("channel", Channel.WEB)
        return accept_report(service, Report(description=description, **fields))  # type: ignore[arg-type]
    finally:
        service.close()


@contextmanager
def cases_store(node: Node) -> Iterator[CasesStore]:
    """A second connection to cases.db, to check what the desk really stored."""
    store = open_cases(node.settings, node.keys)
    try:
        yield store
    finally:
        store.close()


def audit_rows(node: Node) -> list[tuple[object, ...]]:
    with cases_store(node) as store:
        return [tuple(r) for r in store._conn.execute("SELECT * FROM audit ORDER BY id").fetchall()]


def verify(node: Node):  # type: ignore[no-untyped-def]
    with cases_store(node) as store:
        return AuditLog(store, node.keys).verify()


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def login(
    client: TestClient, node: Node, user: str | None = None, passphrase: str | None = None, **extra: str
) -> httpx.Response:
    """Unlock as a browser does: the unlock page first (for its form token), then the form."""
    data = {"user": user or node.user, "passphrase": passphrase or node.passphrase, **extra}
    return client.post("/login", data={"csrf": csrf_of(client.get("/login").text), **data}, follow_redirects=False)


def listed(html: str) -> list[int]:
    """Case ids in the case list, in the order shown."""
    return [int(i) for i in CASE_LINK.findall(html)]
