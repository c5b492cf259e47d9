"""Every store file, with its -wal and -shm, is 0600 inside the 0700 node folder (and the partner's)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from intake.domain import Channel, Report
from intake.node import open_cases
from intake.services import IntakeService, accept_report
from tests.conftest import Node, drain_node
from tests.relay.conftest import make_partner


def modes(folder: Path) -> dict[str, int]:
    return {p.name: stat.S_IMODE(p.stat().st_mode) for p in folder.iterdir() if ".db" in p.name}


def test_node_stores_and_their_wal_and_shm_are_private(node: Node) -> None:
    service = IntakeService.open(node.settings)
    try:
        accept_report(service, Report(description="synthetic: overtime unpaid", channel=Channel.WEB))
        drain_node(node)
        cases = open_cases(node.settings, node.keys)  # held open: its -wal and -shm exist now
        try:
            found = modes(node.home)
        finally:
            cases.close()
    finally:
        service.close()
    assert {"inbox.db", "inbox.db-wal", "inbox.db-shm", "cases.db", "cases.db-wal", "cases.db-shm"} <= set(found)
    assert {name: mode for name, mode in found.items() if mode != 0o600} == {}


def test_a_store_left_world_readable_is_made_private_on_open(node: Node) -> None:
    service = IntakeService.open(node.settings)
    service.close()
    os.chmod(node.home / "inbox.db", 0o644)
    service = IntakeService.open(node.settings)
    try:
        assert stat.S_IMODE((node.home / "inbox.db").stat().st_mode) == 0o600
    finally:
        service.close()


def test_partner_stores_are_private(tmp_path: Path) -> None:
    partner = make_partner(tmp_path / "partner")
    inbox = partner.home.open_inbox()
    try:
        found = modes(partner.home.home)
    finally:
        inbox.close()
    assert "inbox.db" in found
    assert {name: mode for name, mode in found.items() if mode != 0o600} == {}
