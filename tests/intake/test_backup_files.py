"""Evidence files travel with a backup (issue 16): sealed in inbox.db, or drained into cases.db.

A node with one file still sealed in its inbox and one already drained into cases.db is backed up,
restored into a fresh folder and drained there: both files come back byte for byte.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from intake import backup
from intake.domain import Channel, Report
from intake.drain import drain
from intake.evidence import Evidence
from intake.node import open_cases, open_inbox, unlock
from intake.services import IntakeService, accept_report
from intake.settings import Settings
from tests.conftest import PASSPHRASE, drain_node, make_node

MARK = b"BACKUP-FILE-MARKER-5be7"
DRAINED = b"\xff\xd8" + MARK + b"drained" * 3000 + b"\xff\xd9"
WAITING = b"%PDF-1.4 " + MARK + b"waiting" * 20000 + b"\n%%EOF"


def _files(cases, case_id: int) -> list[tuple[int, bytes, str]]:  # type: ignore[no-untyped-def]
    out = []
    for info in cases.attachments(case_id):
        found = cases.attachment(case_id, info.n)
        out.append((info.n, found[1], info.sha256))
    return out


def test_a_restored_node_has_the_drained_file_and_drains_the_waiting_one(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    service = IntakeService.open(node.settings)
    try:
        accept_report(service, Report(channel=Channel.WEB, description="synthetic drained"),
                      files=[Evidence("image/jpeg", DRAINED)])  # fmt: skip
        assert drain_node(node)[0].files == 1
        accept_report(service, Report(channel=Channel.WEB, description="synthetic waiting"),
                      files=[Evidence("application/pdf", WAITING)])  # fmt: skip
    finally:
        service.close()
    data, info = backup.make_backup(node.settings, node.keys)
    assert {"cases.db", "inbox.db"} <= set(info.files)
    assert MARK not in data
    home = tmp_path / "restored"
    backup.restore_backup(data, home, user=None, passphrase=PASSPHRASE)
    settings = Settings.load(home, env={})
    keys = unlock(settings, None, PASSPHRASE)
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        result = drain(inbox, cases, keys)
        assert (result.cases, result.files, result.unreadable) == (1, 1, 0)
        ids = {c.description: c.id for c in cases.list_cases()}
        assert _files(cases, ids["synthetic drained"]) == [(1, DRAINED, hashlib.sha256(DRAINED).hexdigest())]
        assert _files(cases, ids["synthetic waiting"]) == [(1, WAITING, hashlib.sha256(WAITING).hexdigest())]
    finally:
        inbox.close()
        cases.close()
    assert MARK not in b"".join(p.read_bytes() for p in home.rglob("*") if p.is_file())
