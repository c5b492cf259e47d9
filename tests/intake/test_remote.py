"""A desk on another host drains the intake through the pull API; items stay sealed in transit."""

from __future__ import annotations

import base64
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from channels.server import create_intake_app
from channels.sms.service import SmsChannel
from intake import questions
from intake.backup import make_backup, restore_backup
from intake.demo.servers import start_server
from intake.desk import app as desk_app
from intake.desk import drain as desk_drain
from intake.domain import BoardStatus, Channel, Report
from intake.drain import drain
from intake.errors import RemoteUnavailable
from intake.node import open_cases, open_inbox
from intake.pull import new_token
from intake.remote import RemoteInbox, push_desk_changes
from intake.services import IntakeService, accept_report
from intake.settings import Settings
from tests.conftest import PASSPHRASE, TEST_PROFILE, USER, Node, free_port, make_node
from tests.intake.desk import csrf_of, listed

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
def test_without_a_valid_token_nothing_leaves_or_arrives(intake, header: str | None) -> None:
    _node, service, client = intake
    receipt = accept_report(service, Report(channel=Channel.WEB, description=WORDS))
    receipt_hash = service.receipts.hash(receipt)
    new_token(service.inbox)
    headers = {"Authorization": header} if header else {}
    assert client.get("/desk/v1/items", headers=headers).status_code == 401
    assert client.post("/desk/v1/items/ack", json={"ids": ["x"]}, headers=headers).status_code == 401
    assert service.inbox.count() == 1
    board = {
        "statuses": [{"receipt_hash": receipt_hash.hex(), "status": "closed"}],
        "messages": [{"id": "forged-reply-000001", "receipt_hash": receipt_hash.hex(), "at": 1, "text": "Forged."}],
    }
    outbox = {"sms": [_sealed_sms(service, "forged-sms-0000001", "Forged.")]}
    for path, body in (("/desk/v1/board", board), ("/desk/v1/outbox", outbox)):
        refused = client.post(path, json=body, headers=headers)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "unauthorized"
    assert _stored(service, receipt_hash) == (BoardStatus.RECEIVED, [], [])
    with pytest.raises(RemoteUnavailable):
        RemoteInbox("http://testserver", "dsk_wrong", client=client).items()


def test_bad_requests_get_400(intake) -> None:
    _node, service, client = intake
    auth = {"Authorization": f"Bearer {new_token(service.inbox)}"}
    assert client.get("/desk/v1/items", params={"after": "x"}, headers=auth).status_code == 400
    assert client.post("/desk/v1/items/ack", content=b"not json", headers=auth).status_code == 400
    assert client.post("/desk/v1/items/ack", json={"nope": 1}, headers=auth).status_code == 400


def test_unreachable_intake_is_a_clear_error(tmp_path: Path) -> None:
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


def test_the_deploy_readme_walk_a_laptop_desk_paired_with_a_served_intake(tmp_path: Path) -> None:
    """deploy/README.md, section 4, step by step with the real ``intake`` command on loopback: the
    server makes the node and a backup, the laptop restores it, the server pairs and serves, a worker
    reports, the laptop drains through the pull API and reads the case; nothing stays at the intake.
    The caseworker's status change, reply and SMS reply on the laptop reach the worker's status page
    and the server's SMS gateway at the next ``intake drain``."""
    server, laptop, backup = tmp_path / "server", tmp_path / "laptop", tmp_path / "usb" / "node.backup"
    backup.parent.mkdir()
    pw = tmp_path / "passphrase.txt"
    pw.write_text(PASSPHRASE + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env.update({"LANGUAGE": "en", "LC_ALL": "C.UTF-8", "COLUMNS": "200"})

    def intake(*args: str | Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "intake.cli", *map(str, args)], capture_output=True, text=True, env=env,
            stdin=subprocess.DEVNULL, timeout=120, check=False,
        )  # fmt: skip

    def ok(proc: subprocess.CompletedProcess[str]) -> str:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout

    # On the server: the node, and at once a backup of it to carry to the laptop.
    ok(intake("--home", server, "init", "--kdf-profile", TEST_PROFILE, "--allow-insecure-kdf", "--passphrase-file", pw))
    with (server / "settings.toml").open("a", encoding="utf-8") as fh:  # an SMS gateway; the backup carries it
        fh.write(f'smssync_secret = "{GATEWAY}"\n')
    ok(intake("--home", server, "backup", "--to", backup, "--passphrase-file", pw))
    # On the laptop: the same node from the backup; the intake's address and token in its settings.
    assert "Restored node" in ok(intake("restore", backup, "--home", laptop, "--passphrase-file", pw))
    token = next(x for x in ok(intake("--home", server, "desk", "pair")).splitlines() if x.startswith("dsk_"))
    port = free_port()
    settings = laptop / "settings.toml"
    with settings.open("a", encoding="utf-8") as fh:
        fh.write(f'desk_remote_url = "http://127.0.0.1:{port}"\ndesk_remote_token = "{token}"\n')
    settings.chmod(0o600)

    served = subprocess.Popen(
        [sys.executable, "-m", "intake.cli", "--home", str(server), "serve", "--port", str(port)],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        for _try in range(300):  # up to a minute; counted, not timed (the suite also runs with the clock moved)
            try:
                if httpx.get(f"{base}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert served.poll() is None, served.stderr.read() if served.stderr else ""
            time.sleep(0.2)
        else:
            pytest.fail("intake serve did not answer /healthz")
        worker = {"description": WORDS, "factory": "Example Works", "contact_ok": True, "phone": PHONE}
        sent = httpx.post(f"{base}/api/v1/reports", json=worker, timeout=10)
        assert sent.status_code == 201, sent.text

        drained = ok(intake("--home", laptop, "drain", "--passphrase-file", pw))
        assert "New cases: 1." in drained, drained
        [case] = json.loads(ok(intake("--home", laptop, "cases", "list", "--json", "--passphrase-file", pw)))
        assert case["description"] == WORDS and case["factory"] == "Example Works"
        assert "New cases: 0." in ok(intake("--home", laptop, "drain", "--passphrase-file", pw))

        # The caseworker answers on the laptop's desk; the next drain takes it to the intake.
        with laptop_desk(Settings.load(laptop, env={})) as desk:
            [case_id] = listed(desk.get("/cases").text)
            desk_form(desk, case_id, "update", status="triaged")
            desk_form(desk, case_id, "reply", text=REPLY, sms="1")
        assert worker_sees(base, sent.json()["receipt"]) == ("received", [])
        pushed = ok(intake("--home", laptop, "drain", "--passphrase-file", pw))
        assert "Sent to the intake: status changes: 1. Replies: 1. SMS replies: 1." in pushed, pushed
        assert worker_sees(base, sent.json()["receipt"]) == ("in_review", [REPLY])
        assert gateway_sends(base) == [(PHONE, REPLY)]
        again = ok(intake("--home", laptop, "drain", "--passphrase-file", pw))
        assert "Sent to the intake: status changes: 0. Replies: 0. SMS replies: 0." in again, again
        assert worker_sees(base, sent.json()["receipt"]) == ("in_review", [REPLY])
        assert gateway_sends(base) == [(PHONE, REPLY)]
    finally:
        served.terminate()
        served.wait(30)
    logged = served.stderr.read() if served.stderr else ""
    assert REPLY not in logged and PHONE not in logged and PHONE[1:] not in logged, "no contents in the logs"
    # Nothing is left at the intake, and the server itself never opened the report.
    service = IntakeService.open(Settings.load(server, env={}))
    try:
        assert service.inbox.count() == 0
    finally:
        service.close()
    assert json.loads(ok(intake("--home", server, "cases", "list", "--json", "--passphrase-file", pw))) == []


def test_the_deploy_readme_describes_the_paired_laptop_backups_and_caddy_as_they_are() -> None:
    """deploy/README.md walks the same steps as the test above, and promises nothing the code lacks."""
    readme = (Path(__file__).resolve().parents[2] / "deploy" / "README.md").read_text("utf-8")
    assert "later release" not in readme, "the remote desk exists: intake desk pair"
    laptop = readme.split("## 4. The desk on a laptop, paired with this intake", 1)[1].split("\n## ", 1)[0]
    for step in ("intake backup --to", "intake restore", "intake desk pair", "desk_remote_url", "desk_remote_token",
                 "chmod 600", "intake desk unpair", "POST /desk/v1/board", "POST /desk/v1/outbox"):  # fmt: skip
        assert step in laptop, step
    assert "Not yet across hosts" not in laptop, "replies made on the laptop reach the intake"
    backups = readme.split("## Backups", 1)[1]
    assert "intake backup --to" in backups and "intake restore" in backups
    assert "Copy the\nfolder" not in backups and "Copy the folder" not in backups
    caddy = readme.split("**Caddy**", 1)[1].split("```caddy", 1)[0]
    assert "cannot rate-limit" in caddy and "rate_limit_per_minute" in caddy


# -- the other way: what a paired laptop's desk does for workers reaches the intake ---------------------
PHONE = "+8613800000042"
REPLY = "我们已经联系了工厂，下周给你答复。"
GATEWAY = "gateway-secret-for-tests"


class Served:
    """The server's intake app under a real uvicorn on one loopback port, stopped and started again."""

    def __init__(self, node: Node, service: IntakeService, port: int) -> None:
        self.node, self.service, self.port = node, service, port
        self.base = f"http://127.0.0.1:{port}"
        self._running: tuple[Any, threading.Thread, socket.socket] | None = None

    def start(self) -> None:
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", self.port))
        server, thread = start_server(create_intake_app(self.node.settings, self.service), sock)
        self._running = (server, thread, sock)

    def stop(self) -> None:
        if self._running is not None:
            server, thread, sock = self._running
            server.should_exit = True
            thread.join(30)
            sock.close()
            self._running = None


def worker_sees(base: str, receipt: str) -> tuple[str, list[str]]:
    """The worker's status page through the server's real JSON API, with their receipt."""
    answer = httpx.post(f"{base}/api/v1/status", json={"receipt": receipt}, timeout=10)
    assert answer.status_code == 200, answer.text
    return answer.json()["status"], [m["text"] for m in answer.json()["messages"]]


def gateway_sends(base: str) -> list[tuple[str, str]]:
    """What the server's SMSSync gateway hands the phone to send, through its real route."""
    answer = httpx.get(f"{base}/smssync", params={"task": "send", "secret": GATEWAY}, timeout=10)
    assert answer.status_code == 200, answer.text
    return [(m["to"], m["message"]) for m in answer.json()["payload"]["messages"]]


def server_outbox(service: IntakeService) -> list[tuple[str, str]]:
    sms = SmsChannel(service)
    return [sms.open_recipient(r, b) for _i, r, b, _a in service.inbox.outbox_due("smssync", 2**62)]


def restored_laptop(server: Node, home: Path, url: str, token: str) -> Settings:
    """A laptop node restored from the server's backup, paired by its settings (deploy/README.md, 4)."""
    data, _info = make_backup(server.settings, server.keys)
    restore_backup(data, home, user=None, passphrase=PASSPHRASE)
    return Settings.load(
        home, env={}, rate_limit_per_minute=0, desk_remote_url=url, desk_remote_token=token, smssync_secret=GATEWAY
    )


@pytest.fixture
def paired(tmp_path: Path) -> Iterator[tuple[Served, Settings]]:
    server = make_node(tmp_path / "server", smssync_secret=GATEWAY)
    service = IntakeService.open(server.settings)
    served = Served(server, service, free_port())
    laptop = restored_laptop(server, tmp_path / "laptop", served.base, new_token(service.inbox))
    served.start()
    try:
        yield served, laptop
    finally:
        served.stop()
        service.close()


@contextmanager
def laptop_desk(laptop: Settings) -> Iterator[TestClient]:
    """The laptop's desk, unlocked (unlocking drains the intake through the pull API)."""
    with TestClient(desk_app.create_desk_app(laptop), base_url="http://127.0.0.1:8001") as client:
        form = {"csrf": csrf_of(client.get("/login").text), "user": USER, "passphrase": PASSPHRASE}
        assert client.post("/login", data=form, follow_redirects=False).status_code == 303
        yield client


def desk_form(client: TestClient, case_id: int, action: str, **fields: str) -> str:
    page = client.get(f"/cases/{case_id}").text
    version = re.search(r'name="version" value="(\d+)"', page)
    data = {"csrf": csrf_of(page), "version": version.group(1) if version else "0", **fields}
    answer = client.post(f"/cases/{case_id}/{action}", data=data)
    assert answer.status_code == 200, answer.text[:300]
    return answer.text


def laptop_owes(laptop: Settings) -> tuple[int, int]:
    """(board changes, SMS) still queued on the laptop for the intake."""
    inbox = open_inbox(laptop)
    try:
        return len(inbox.unpushed_board()), len(inbox.unpushed_outbox())
    finally:
        inbox.close()


def test_replies_status_changes_and_sms_made_on_a_paired_laptop_reach_the_intake(
    paired: tuple[Served, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    served, laptop = paired
    receipt = accept_report(
        served.service, Report(channel=Channel.WEB, description=WORDS, contact_ok=True, phone=PHONE, locale="zh_Hans")
    )
    with laptop_desk(laptop) as desk:
        [case_id] = listed(desk.get("/cases").text)
        desk_form(desk, case_id, "update", status="triaged")
        assert 'name="sms"' in desk.get(f"/cases/{case_id}").text, "the worker agreed to SMS"
        desk_form(desk, case_id, "reply", text=REPLY, sms="1")
        # Written on the laptop first (offline-first), and owed to the intake until the next drain.
        assert laptop_owes(laptop) == (2, 1)
        assert worker_sees(served.base, receipt) == ("received", [])
        monkeypatch.setattr(desk_drain, "DRAIN_EVERY", -1.0)  # the periodic drain, due now
        assert desk.get("/cases").status_code == 200
        assert laptop_owes(laptop) == (0, 0), "pushed, and the SMS deleted here once the intake held it"
        assert worker_sees(served.base, receipt) == ("in_review", [REPLY])
        assert server_outbox(served.service) == [(PHONE, REPLY)]
        assert gateway_sends(served.base) == [(PHONE, REPLY)]
        # Closing the case on the laptop closes it on the worker's page; drains after that repeat nothing.
        desk_form(desk, case_id, "update", status="investigating")
        desk_form(desk, case_id, "update", status="resolved")
        for _again in range(2):
            assert desk.get("/cases").status_code == 200
        assert worker_sees(served.base, receipt) == ("closed", [REPLY])
        # Resolving asks the worker, who agreed to SMS, whether it happened (issue 15), once.
        asked = questions.sms_text("confirm", "case", "zh_Hans")
        assert server_outbox(served.service) == [(PHONE, REPLY), (PHONE, asked)]
    inbox = open_inbox(laptop)
    try:  # the laptop's own copy of the board is what it pushed
        entry = inbox.board(served.service.receipts.hash(receipt))
        assert entry is not None and entry.status is BoardStatus.CLOSED and [m for _t, m in entry.messages] == [REPLY]
    finally:
        inbox.close()


def test_replies_written_offline_wait_on_the_laptop_and_arrive_once(
    paired: tuple[Served, Settings], monkeypatch: pytest.MonkeyPatch
) -> None:
    served, laptop = paired
    receipt = accept_report(
        served.service, Report(channel=Channel.WEB, description=WORDS, contact_ok=True, phone=PHONE)
    )
    monkeypatch.setattr(desk_drain, "DRAIN_EVERY", -1.0)  # every case list drains (and pushes)
    with laptop_desk(laptop) as desk:
        [case_id] = listed(desk.get("/cases").text)
        served.stop()  # the link is down
        desk_form(desk, case_id, "update", status="triaged")
        assert "queued as SMS" in desk_form(desk, case_id, "reply", text="First, while offline.", sms="1")
        desk_form(desk, case_id, "reply", text="Second, still offline.")
        for _try in range(2):  # drains fail quietly; nothing is lost or half-sent
            assert desk.get("/cases").status_code == 200
            assert laptop_owes(laptop) == (3, 1)
        served.start()  # back
        assert desk.get("/cases").status_code == 200
        assert laptop_owes(laptop) == (0, 0)
        desk_form(desk, case_id, "reply", text="Third, online.")
        for _again in range(3):
            assert desk.get("/cases").status_code == 200
    assert worker_sees(served.base, receipt) == (
        "in_review", ["First, while offline.", "Second, still offline.", "Third, online."]
    )  # fmt: skip
    assert server_outbox(served.service) == [(PHONE, "First, while offline.")]
    assert laptop_owes(laptop) == (0, 0)


def _sealed_sms(service: IntakeService, uid: str, text: str) -> dict[str, str]:
    recipient, body = SmsChannel(service).seal_recipient(PHONE, text)
    b64 = base64.b64encode
    return {"id": uid, "provider": "smssync", "recipient": b64(recipient).decode(), "body": b64(body).decode()}


def _stored(service: IntakeService, receipt_hash: bytes) -> tuple[Any, ...]:
    entry = service.inbox.board(receipt_hash)  # type: ignore[arg-type]
    return (entry and entry.status, entry and entry.messages, server_outbox(service))


def test_a_retried_push_stores_nothing_twice(intake) -> None:
    _node, service, client = intake
    receipt = accept_report(service, Report(channel=Channel.WEB, description=WORDS))
    receipt_hash = service.receipts.hash(receipt).hex()
    auth = {"Authorization": f"Bearer {new_token(service.inbox)}"}
    board = {
        "statuses": [{"receipt_hash": receipt_hash, "status": "in_progress"}],
        "messages": [{"id": "reply-0001-abcdefgh", "receipt_hash": receipt_hash, "at": 1, "text": REPLY}],
    }
    outbox = {"sms": [_sealed_sms(service, "sms-0001-abcdefghij", REPLY)]}
    answers = [client.post("/desk/v1/board", json=board, headers=auth) for _ in range(3)]
    assert [a.json() for a in answers] == [{"stored": 2}, {"stored": 0}, {"stored": 0}]
    for _ in range(2):
        answer = client.post("/desk/v1/outbox", json=outbox, headers=auth)
        assert answer.json() == {"taken": ["sms-0001-abcdefghij"]}
    status, messages, queued = _stored(service, service.receipts.hash(receipt))
    assert status is BoardStatus.IN_PROGRESS and [m for _t, m in messages] == [REPLY]
    assert queued == [(PHONE, REPLY)]
    # The gateway sent it and its row is gone; a push retried after that still sends nothing again.
    service.inbox.outbox_done([i for i, *_ in service.inbox.outbox_due("smssync", 2**62)])
    assert client.post("/desk/v1/outbox", json=outbox, headers=auth).status_code == 200
    assert server_outbox(service) == []


def test_a_push_whose_answer_was_lost_is_sent_again_and_counted_once(intake, tmp_path: Path) -> None:
    node, service, client = intake
    receipt = accept_report(service, Report(channel=Channel.WEB, description=WORDS))
    receipt_hash = service.receipts.hash(receipt)
    token = new_token(service.inbox)
    laptop = restored_laptop(node, tmp_path / "laptop", "http://testserver", token)
    remote = RemoteInbox("http://testserver", token, client=client)
    inbox = open_inbox(laptop)
    try:  # what the laptop's desk writes (intake/desk/cases.py), marked for the intake
        inbox.set_status(receipt_hash, BoardStatus.IN_REVIEW, push=True)
        inbox.post_message(receipt_hash, REPLY, push=True)
        inbox.queue("smssync", *SmsChannel(service).seal_recipient(PHONE, REPLY), push=True)
        [(_rev, _h, _v, uid, at)] = [row for row in inbox.unpushed_board() if row[3] is not None]
        [(_id, sms_uid, *_rest)] = inbox.unpushed_outbox()
    finally:
        inbox.close()
    # The push reached the intake, but its answer never came back: the laptop still owes it all.
    message = {"id": uid, "receipt_hash": receipt_hash.hex(), "at": at, "text": REPLY}
    remote.push("/desk/v1/board", {"statuses": [], "messages": [message]})
    remote.push("/desk/v1/outbox", {"sms": [_sealed_sms(service, sms_uid, REPLY)]})
    assert laptop_owes(laptop) == (2, 1)
    pushed = push_desk_changes(laptop, remote)
    assert (pushed.statuses, pushed.replies, pushed.sms) == (1, 1, 1)
    assert laptop_owes(laptop) == (0, 0)
    status, messages, queued = _stored(service, receipt_hash)
    assert status is BoardStatus.IN_REVIEW and [m for _t, m in messages] == [REPLY]
    assert len(queued) == 1, "the SMS sealed twice is still one SMS: deduped by its id"
    again = push_desk_changes(laptop, remote)
    assert (again.statuses, again.replies, again.sms) == (0, 0, 0)


def test_malformed_pushes_get_a_clear_4xx_and_store_nothing(intake) -> None:
    _node, service, client = intake
    receipt_hash = service.receipts.hash(accept_report(service, Report(channel=Channel.WEB, description=WORDS)))
    auth = {"Authorization": f"Bearer {new_token(service.inbox)}"}
    h = receipt_hash.hex()
    status = {"receipt_hash": h, "status": "closed"}
    reply = {"id": "reply-0001-abcdefgh", "receipt_hash": h, "at": 1, "text": "Fine."}
    sms = _sealed_sms(service, "sms-0001-abcdefghij", "Fine.")
    other_key = {**sms, "recipient": base64.b64encode(b"\0" * 60).decode()}  # not sealed with this intake's key
    board_bad: list[Any] = [
        b"not json", b"\xff\xfe", b"[]", b"null", b"{}{}", b"[" * 5000 + b"]" * 5000,
        {"statuses": "closed"}, {"statuses": [status], "evil": 1}, {"statuses": [{**status, "status": "hacked"}]},
        {"statuses": [{**status, "receipt_hash": "zz" * 32}]}, {"statuses": [{**status, "receipt_hash": h[:-2]}]},
        {"statuses": [status] * 101}, {"messages": [{**reply, "text": ""}]}, {"messages": [{**reply, "text": "x" * 2001}]},
        {"messages": [{**reply, "id": "short"}]}, {"messages": [{**reply, "id": "../../etc/passwd-0001"}]},
        {"messages": [{**reply, "at": -1}]}, {"messages": [{**reply, "at": "1"}]}, {"messages": [{**reply, "at": 1.5}]},
        {"messages": [{k: v for k, v in reply.items() if k != "text"}]}, {"messages": [{**reply, "text": 5}]},
    ]  # fmt: skip
    outbox_bad: list[Any] = [
        {}, {"sms": sms}, {"sms": [{**sms, "provider": "email"}]}, {"sms": [{**sms, "recipient": "!!!!"}]},
        {"sms": [{**sms, "body": "QUJD"}]}, {"sms": [other_key]}, {"sms": [sms] * 101}, {"sms": [{**sms, "extra": 1}]},
    ]  # fmt: skip
    for path, bodies in (("/desk/v1/board", board_bad), ("/desk/v1/outbox", outbox_bad)):
        for body in bodies:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            answer = client.post(path, content=raw, headers={**auth, "Content-Type": "application/json"})
            assert answer.status_code == 400, (path, raw[:80], answer.status_code)
            assert answer.json()["error"]["code"] in ("invalid_input", "malformed"), answer.text
            assert "Fine." not in answer.text and h not in answer.text, "nothing echoed back"
        text = client.post(path, content=b"{}", headers={**auth, "Content-Type": "text/plain"})
        assert text.status_code == 415
        huge = client.post(path, content=b" " * 70_000, headers={**auth, "Content-Type": "application/json"})
        assert huge.status_code == 413
    assert _stored(service, receipt_hash) == (BoardStatus.RECEIVED, [], [])
    # The same entries, well formed, are taken.
    assert (
        client.post("/desk/v1/board", json={"statuses": [status], "messages": [reply]}, headers=auth).status_code == 200
    )
    assert client.post("/desk/v1/outbox", json={"sms": [sms]}, headers=auth).status_code == 200
    assert _stored(service, receipt_hash) == (BoardStatus.CLOSED, [(1, "Fine.")], [(PHONE, "Fine.")])


def test_a_push_has_its_own_size_cap_under_a_generous_request_limit(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node", max_request_bytes=4 * 1024 * 1024)
    service = IntakeService.open(node.settings)
    try:
        with TestClient(create_intake_app(node.settings, service)) as client:
            auth = {"Authorization": f"Bearer {new_token(service.inbox)}", "Content-Type": "application/json"}
            body = json.dumps({"statuses": [], "messages": [], "pad": "x" * 300_000}).encode()
            for path in ("/desk/v1/board", "/desk/v1/outbox"):
                assert client.post(path, content=body, headers=auth).status_code == 413
    finally:
        service.close()
