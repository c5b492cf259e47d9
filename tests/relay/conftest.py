"""Fixtures for the relay: nodes with consented cases, a partner home, the partner inbox on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from intake.domain import Category, Channel, Consent, Report
from intake.node import open_cases
from intake.services import IntakeService, accept_report
from intake.store.cases import CasesStore
from relay.gate import Relay
from relay.partner.home import PartnerHome, init_partner
from tests.conftest import PASSPHRASE, TEST_PROFILE, Node, drain_node, make_node

PHONE = "+86 138 0013 8000"
WORDS = (
    "My name is Li Wei. The supervisor on line 3 takes 300 yuan from every pay packet. "
    "Call me on " + PHONE + " or WeChat liwei_1988. We work from 8:00 to 22:00 every day."
)


@dataclass
class Partner:
    home: PartnerHome
    keys: Any

    @property
    def key_string(self) -> str:
        return self.home.key_string()


def make_partner(path: Path) -> Partner:
    home = init_partner(path, user="analyst", passphrase=PASSPHRASE, profile=TEST_PROFILE)
    return Partner(home, home.unlock("analyst", PASSPHRASE))


def file_case(node: Node, words: str = WORDS, **fields: Any) -> int:
    """One worker's report through the intake, drained into a case; returns its id."""
    fields.setdefault("channel", Channel.WEB)
    fields.setdefault("consent", Consent.ANONYMISED)
    fields.setdefault("factory", "Example Electronics")
    fields.setdefault("categories", [Category.WAGES])
    service = IntakeService.open(node.settings)
    try:
        accept_report(service, Report(description=words, **fields))
    finally:
        service.close()
    _, cases = drain_node(node)
    return max(c.id for c in cases)


@pytest.fixture
def partner(tmp_path: Path) -> Partner:
    return make_partner(tmp_path / "partner")


@pytest.fixture
def store(node: Node) -> Iterator[CasesStore]:
    s = open_cases(node.settings, node.keys)
    yield s
    s.close()


@pytest.fixture
def relay(node: Node, store: CasesStore) -> Relay:
    return Relay(store, node.keys)


def node_key(node: Node) -> str:
    from crypto.envelope import node_key_string
    from intake.node import load_keyring

    return node_key_string(load_keyring(node.settings).verify_key)


@dataclass
class LiveInbox:
    url: str
    server: Any


@pytest.fixture
def live_inbox(partner: Partner) -> Iterator[LiveInbox]:
    """The partner's inbox app served by uvicorn on a loopback port."""
    from intake.demo.servers import start_server
    from relay.partner.app import create_partner_app

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server, thread = start_server(create_partner_app(partner.home), sock)
    try:
        yield LiveInbox(f"http://127.0.0.1:{port}", server)
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


__all__ = ["PASSPHRASE", "make_node"]
