"""``intake drain`` / ``intake cases show`` / ``intake cases attachment`` with evidence files (issue 16):
a real process, a real node, bytes on standard output only, never to a terminal, every read audited."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

from intake.audit import AuditLog
from intake.domain import Channel, Report
from intake.evidence import Evidence
from intake.node import open_cases
from intake.services import IntakeService, accept_media, accept_report
from tests.conftest import PASSPHRASE, Node, make_node
from tests.intake.cli.test_cli import base_env

JPEG = b"\xff\xd8" + b"synthetic-pixels" * 500 + b"\xff\xd9"
PDF = b"%PDF-1.4 synthetic pay slip\n%%EOF"


def run(node: Node, *args: str, stdout: int | None = subprocess.PIPE) -> subprocess.CompletedProcess[bytes]:
    env = base_env({"INTAKE_PASSPHRASE": PASSPHRASE})
    return subprocess.run(
        [sys.executable, "-m", "intake.cli", "--home", str(node.home), *args],
        stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, env=env, timeout=60, check=False,
    )  # fmt: skip


def node_with_files(tmp_path: Path, **settings: object) -> Node:
    node = make_node(tmp_path / "node", **settings)
    service = IntakeService.open(node.settings)
    try:
        accept_report(service, Report(channel=Channel.WEB, description="synthetic with files"),
                      files=[Evidence("image/jpeg", JPEG), Evidence("application/pdf", PDF, warning="metadata",
                                                                   original=b"%PDF original")])  # fmt: skip
        accept_media(service, "MM" + "d4" * 16, b"k" * 32, None, "too_big")  # never linked: waits
    finally:
        service.close()
    return node


def test_drain_show_and_attachment_through_the_command(tmp_path: Path) -> None:
    node = node_with_files(tmp_path, keep_originals=1)
    drained = run(node, "drain")
    assert drained.returncode == 0, drained.stderr
    assert b"New cases: 1." in drained.stdout and b"Evidence files: 2." in drained.stdout
    shown = run(node, "cases", "show", "1", "--json")
    assert shown.returncode == 0, shown.stderr
    listed = json.loads(shown.stdout)["attachments"]
    assert [(a["n"], a["type"], a["bytes"], a["sha256"]) for a in listed] == [
        (1, "image/jpeg", len(JPEG), hashlib.sha256(JPEG).hexdigest()),
        (2, "application/pdf", len(PDF), hashlib.sha256(PDF).hexdigest()),
    ]
    assert [(a["source"], a["warning"], a["missing"], a["original_kept"]) for a in listed] == [
        ("worker", None, None, False), ("worker", "metadata", None, True),
    ]  # fmt: skip
    plain = run(node, "cases", "show", "1")
    assert plain.returncode == 0 and b"Evidence files" in plain.stdout
    assert hashlib.sha256(JPEG).hexdigest().encode() in plain.stdout and b"synthetic-pixels" not in plain.stdout
    got = run(node, "cases", "attachment", "1", "1")
    assert got.returncode == 0 and got.stdout == JPEG, got.stderr
    assert run(node, "cases", "attachment", "1", "2").stdout == PDF
    assert run(node, "cases", "attachment", "1", "2", "--original").stdout == b"%PDF original"
    cases = open_cases(node.settings, node.keys)
    try:
        entries = AuditLog(cases, node.keys).entries()
        reads = sorted(
            (e.id, e.action, e.case_id, e.detail["n"], e.detail["original"]) for e in entries if e.action == "file_view"
        )
    finally:
        cases.close()
    assert [r[1:] for r in reads] == [("file_view", 1, 1, False), ("file_view", 1, 2, False), ("file_view", 1, 2, True)]


def test_attachment_refuses_a_terminal_and_what_does_not_exist(tmp_path: Path) -> None:
    node = node_with_files(tmp_path)
    assert run(node, "drain").returncode == 0
    leader, follower = os.openpty()
    try:
        tty = run(node, "cases", "attachment", "1", "1", stdout=follower)
    finally:
        os.close(follower)
        os.close(leader)
    assert tty.returncode == 1 and b"pipe it into a program" in tty.stderr and b"Traceback" not in tty.stderr
    for args, said in (
        (("9", "1"), b"There is no case 9."),
        (("1", "7"), b"Case 1 has no file 7."),
        (("1", "1", "--original"), b"No original was kept of file 1 of case 1."),
    ):
        out = run(node, "cases", "attachment", *args)
        assert out.returncode == 1 and said in out.stderr and out.stdout == b"", (args, out.stderr)
        assert b"Traceback" not in out.stderr
    cases = open_cases(node.settings, node.keys)
    try:
        assert [e for e in AuditLog(cases, node.keys).entries() if e.action == "file_view"] == []
    finally:
        cases.close()
