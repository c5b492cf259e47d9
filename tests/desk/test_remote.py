"""A desk on another host drains the intake through the pull API; items stay sealed in transit."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from channels.web import create_intake_app
from channels.web.desk_api import new_token
from intake.domain import Channel, Report
from intake.node import open_cases
from intake.remote import RemoteInbox, RemoteUnavailable
from intake.services import IntakeService, accept_report, drain
from tests.conftest import Node, make_node

WORDS = "The supervisor keeps our bank cards and takes half of each wage."


@pytest.fixture
def intake(tmp_path: Path) -> Iterator[tuple[Node, IntakeService, TestClient]]:
    node = make_node(tmp_path / "node")
    service = IntakeService.open(node.settings)
    with TestClient(create_intake_app(node.settings, service)) as client:
        yield node, service, client
    service.close()


def test_a_paired_desk_drains_and_only_then_the_intake_deletes(intake) -> None:
    node, service, client = intake
    for i in range(3):
        accept_report(service, Report(channel=Channel.WEB, description=f"{WORDS} ({i})"))
    token = new_token(service.inbox)
    raw = client.get("/desk/v1/items", headers={"Authorization": f"Bearer {token}"})
    assert raw.status_code == 200 and len(raw.json()["items"]) == 3
    assert "bank cards" not in raw.text, "sealed in transit"
    remote = RemoteInbox("http://testserver", token, client=client)
    cases = open_cases(node.settings, node.keys)
    try:
        result = drain(remote, cases, node.keys)
        assert result.cases == 3
        assert sorted(c.description for c in cases.list_cases()) == [f"{WORDS} ({i})" for i in range(3)]
    finally:
        cases.close()
    assert service.inbox.count() == 0


def test_a_lost_ack_duplicates_nothing(intake, monkeypatch: pytest.MonkeyPatch) -> None:
    node, service, client = intake
    accept_report(service, Report(channel=Channel.WEB, description=WORDS))
    remote = RemoteInbox("http://testserver", new_token(service.inbox), client=client)
    cases = open_cases(node.settings, node.keys)
    try:

        def lost(ids: list[str]) -> None:
            raise RemoteUnavailable("link down")

        monkeypatch.setattr(remote, "delete", lost)
        with pytest.raises(RemoteUnavailable):
            drain(remote, cases, node.keys)
        assert service.inbox.count() == 1, "not acknowledged, so still at the intake"
        monkeypatch.undo()
        again = drain(remote, cases, node.keys)
        assert again.already == 1 and again.cases == 0
        assert cases.count() == 1
    finally:
        cases.close()
    assert service.inbox.count() == 0


@pytest.mark.parametrize("header", [None, "Bearer ", "Bearer dsk_wrong", "Basic abc"])
def test_without_a_valid_token_nothing_leaves(intake, header: str | None) -> None:
    _node, service, client = intake
    accept_report(service, Report(channel=Channel.WEB, description=WORDS))
    new_token(service.inbox)
    headers = {"Authorization": header} if header else {}
    assert client.get("/desk/v1/items", headers=headers).status_code == 401
    assert client.post("/desk/v1/items/ack", json={"ids": ["x"]}, headers=headers).status_code == 401
    assert service.inbox.count() == 1
    with pytest.raises(RemoteUnavailable):
        RemoteInbox("http://testserver", "dsk_wrong", client=client).items()


def test_bad_requests_get_400(intake) -> None:
    _node, service, client = intake
    auth = {"Authorization": f"Bearer {new_token(service.inbox)}"}
    assert client.get("/desk/v1/items", params={"after": "x"}, headers=auth).status_code == 400
    assert client.post("/desk/v1/items/ack", content=b"not json", headers=auth).status_code == 400
    assert client.post("/desk/v1/items/ack", json={"nope": 1}, headers=auth).status_code == 400


def test_unreachable_intake_is_a_clear_error(tmp_path: Path) -> None:
    from tests.conftest import free_port

    with pytest.raises(RemoteUnavailable):
        RemoteInbox(f"http://127.0.0.1:{free_port()}", "dsk_x").items()


def test_intake_desk_pair_prints_a_token_once(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    out = subprocess.run(
        [sys.executable, "-m", "intake.cli", "--home", str(node.home), "desk", "pair"],
        capture_output=True, text=True, env={**env, "COLUMNS": "200"}, stdin=subprocess.DEVNULL, timeout=60, check=False,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    token = next(line for line in out.stdout.splitlines() if line.startswith("dsk_"))
    service = IntakeService.open(node.settings)
    try:
        assert token not in (service.inbox.get_meta("desk_tokens") or ""), "only the hash is kept"
        with TestClient(create_intake_app(node.settings, service)) as client:
            assert client.get("/desk/v1/items", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    finally:
        service.close()


def test_intake_desk_unpair_revokes_every_token(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", "--home", str(node.home), "desk", *args],
            capture_output=True, text=True, env={**env, "COLUMNS": "200"}, stdin=subprocess.DEVNULL, timeout=60,
            check=False,
        )  # fmt: skip

    tokens = [next(x for x in run("pair").stdout.splitlines() if x.startswith("dsk_")) for _ in range(2)]
    out = run("unpair")
    assert out.returncode == 0 and "Revoked 2 desk tokens" in out.stdout, out.stderr
    service = IntakeService.open(node.settings)
    try:
        with TestClient(create_intake_app(node.settings, service)) as client:
            for token in tokens:
                assert client.get("/desk/v1/items", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    finally:
        service.close()
