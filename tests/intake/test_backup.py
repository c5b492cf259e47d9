"""``intake backup`` and ``intake restore`` as an operator runs them (real processes, real SQLCipher,
synthetic reports): the raid of Scenario 6, where only the backup file and a passphrase are left."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest

from intake import backup
from intake.audit import AuditLog
from intake.domain import Category, Channel, Consent, FollowUp, Report
from intake.errors import BackupDamaged
from intake.node import open_cases
from intake.services import IntakeService, accept_followup, accept_report
from tests.conftest import PASSPHRASE, Node, drain_node, make_node
from tests.intake.cli.test_cli import Result, intake, one_line_error

WORDS = ["Quokkafrobnicate", "Glimmerwick", "Zanzibarquux", "Xiomara", "拖欠工资三个月", "宿舍漏水"]
PHONE = "+86 139 1234 5678"
PHONE_DIGITS = ["13912345678", "8613912345678", "139 1234 5678"]
ENV = {"INTAKE_PASSPHRASE": PASSPHRASE}


def report(**fields: object) -> Report:
    return Report(**{"channel": Channel.WEB, **fields})  # type: ignore[arg-type]


def submit(node: Node) -> list[str]:
    service = IntakeService.open(node.settings)
    try:
        zh = accept_report(
            service,
            report(locale="zh_Hans", factory="Glimmerwick 电子厂", location="Zanzibarquux",
                   categories=[Category.WAGES], description="拖欠工资三个月, 宿舍漏水. Quokkafrobnicate.",
                   name="Xiomara Testperson", phone=PHONE, contact_ok=True, consent=Consent.ANONYMISED),
        )  # fmt: skip
        en = accept_report(
            service, report(channel=Channel.API, factory="Glimmerwick Cables", description="Quokkafrobnicate overtime")
        )
        accept_followup(service, zh, FollowUp(channel=Channel.WEB, text="宿舍漏水 again, Quokkafrobnicate"))
    finally:
        service.close()
    return [zh, en]


def needles(receipts: list[str]) -> list[bytes]:
    out: list[bytes] = []
    for word in WORDS:
        out += [word.encode("utf-8"), word.encode("utf-16-le"), word.encode("utf-16-be")]
    for digits in PHONE_DIGITS:
        out += [digits.encode("ascii"), digits.encode("utf-16-le")]
    for code in receipts:
        out += [code.encode("ascii"), code.replace("-", "").encode("ascii")]
    return out


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder with its content (to show that nothing changed)."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def cases_json(home: Path) -> list[dict[str, object]]:
    result = intake("--home", home, "cases", "list", "--json", env=ENV)
    assert result.code == 0, result
    return list(json.loads(result.out))


def case_json(home: Path, case_id: int) -> dict[str, object]:
    result = intake("--home", home, "cases", "show", str(case_id), "--json", env=ENV)
    assert result.code == 0, result
    return dict(json.loads(result.out))


@dataclass
class Backed:
    node: Node
    file: Path
    receipts: list[str]
    made: Result


@pytest.fixture(scope="module")
def backed(tmp_path_factory: pytest.TempPathFactory) -> Backed:
    """A node with drained reports, audit entries, one report still waiting in the inbox, and its backup
    made by the CLI. Read-only for the tests."""
    base = tmp_path_factory.mktemp("backup")
    node = make_node(base / "office")
    receipts = submit(node)
    _result, cases = drain_node(node)
    assert len(cases) == 2
    store = open_cases(node.settings, node.keys)
    try:
        log = AuditLog(store, node.keys)
        for c in cases:
            log.record(user="admin", action="case.view", case_id=c.id)
            log.record(user="admin", action="case.status", case_id=c.id, detail={"from": "new", "to": "triaged"})
    finally:
        store.close()
    service = IntakeService.open(node.settings)
    try:  # arrives after the drain: must survive the raid in the backed-up inbox
        receipts.append(accept_report(service, report(description="Zanzibarquux late report, Quokkafrobnicate")))
    finally:
        service.close()
    file = base / "elsewhere" / "office.intake-backup"
    file.parent.mkdir()
    made = intake("--home", node.home, "backup", "--to", file, env=ENV)
    assert made.code == 0, made
    return Backed(node, file, receipts, made)


# -- making it ------------------------------------------------------------------------------------------
def test_backup_says_what_it_wrote(backed: Backed) -> None:
    assert f"Backup written to {backed.file}: 2 cases" in backed.made.out
    assert "Audit log intact: 4 entries." in backed.made.out
    assert stat.S_IMODE(backed.file.stat().st_mode) == 0o600
    assert backed.file.read_bytes().startswith(b"intake-backup/1\n")


def test_backup_leaves_no_temporary_copy_in_the_node_folder(backed: Backed) -> None:
    names = {p.name for p in backed.node.home.iterdir()}
    assert not [n for n in names if n.startswith(".")], names


def test_backup_holds_no_words_phone_or_receipt(backed: Backed) -> None:
    raw = backed.file.read_bytes()
    assert len(raw) > 10_000  # the stores really are in there
    found = [n for n in needles(backed.receipts) if n in raw]
    assert found == []


def test_backup_refuses_to_overwrite_a_file_that_is_not_a_backup(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    before = snapshot(node.home)
    line = one_line_error(intake("--home", node.home, "backup", "--to", node.settings.cases_path, env=ENV))
    assert "not an intake backup" in line
    line = one_line_error(intake("--home", node.home, "backup", "--to", node.home, env=ENV))
    assert "not an intake backup" in line
    assert snapshot(node.home) == before


def test_backup_replaces_an_older_backup(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    target = tmp_path / "b"
    assert intake("--home", node.home, "backup", "--to", target, env=ENV).code == 0
    first = target.read_bytes()
    assert intake("--home", node.home, "backup", "--to", target, env=ENV).code == 0
    assert target.read_bytes() != first  # a fresh sealed box each time


def test_backup_needs_the_passphrase(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    line = one_line_error(
        intake("--home", node.home, "backup", "--to", tmp_path / "b", env={"INTAKE_PASSPHRASE": "nope-nope-nope"})
    )
    assert "Wrong user or passphrase" in line
    assert not (tmp_path / "b").exists()


# -- restoring it ---------------------------------------------------------------------------------------
def test_round_trip_on_a_new_machine(backed: Backed, tmp_path: Path) -> None:
    new = tmp_path / "new-laptop" / "node"
    result = intake("restore", backed.file, "--home", new, env=ENV)
    assert result.code == 0, result
    assert f"into {new}: 2 cases" in result.out
    assert "Audit log intact: 4 entries." in result.out

    assert cases_json(new) == cases_json(backed.node.home)
    for case in cases_json(new):
        assert case_json(new, int(case["id"])) == case_json(backed.node.home, int(case["id"]))  # type: ignore[call-overload]
    assert any("Quokkafrobnicate" in str(c["description"]) for c in cases_json(new))

    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    names = sorted(p.name for p in new.iterdir())
    # last-backup: the restored state is that backup (intake/backup_record.py, for `intake doctor`)
    assert names == ["cases.db", "inbox.db", "intake.key", "keyring.json", "last-backup"]
    for name in names:
        assert stat.S_IMODE((new / name).stat().st_mode) == 0o600, name

    verify = intake("--home", new, "audit", "verify", env=ENV)
    assert verify.code == 0 and "Audit log intact: 4 entries." in verify.out, verify

    # the report that was still waiting in the inbox at backup time is drained on the new machine
    drained = intake("--home", new, "drain", env=ENV)
    assert "New cases: 1." in drained.out, drained
    assert len(cases_json(new)) == 3


def test_restore_into_an_empty_existing_folder_and_with_the_global_home(backed: Backed, tmp_path: Path) -> None:
    new = tmp_path / "empty"
    new.mkdir(mode=0o755)
    result = intake("--home", new, "restore", backed.file, env=ENV)
    assert result.code == 0, result
    assert stat.S_IMODE(new.stat().st_mode) == 0o700
    assert cases_json(new) == cases_json(backed.node.home)


def test_restore_with_a_passphrase_file(backed: Backed, tmp_path: Path) -> None:
    pfile = tmp_path / "p"
    pfile.write_text(PASSPHRASE + "\n")
    result = intake("restore", backed.file, "--home", tmp_path / "n", "--passphrase-file", pfile, "--user", "admin")
    assert result.code == 0, result


def assert_refused(result: Result, target: Path, *, before: dict[str, bytes] | None = None) -> str:
    line = one_line_error(result)
    assert snapshot(target) == (before or {}), "restore left something behind"
    if before is None:
        assert not target.exists()
    return line


def test_wrong_passphrase_writes_nothing(backed: Backed, tmp_path: Path) -> None:
    target = tmp_path / "n"
    line = assert_refused(
        intake("restore", backed.file, "--home", target, env={"INTAKE_PASSPHRASE": "wrong passphrase"}), target
    )
    assert "Wrong user or passphrase" in line and "Nothing was written" in line
    line = assert_refused(intake("restore", backed.file, "--home", target, "--user", "nobody", env=ENV), target)
    assert "Wrong user or passphrase" in line


def _regions(data: bytes) -> dict[str, int]:
    """Offsets inside each part of a backup file."""
    parsed = backup.parse_backup(data)
    start = len(data) - 2 * 32 - len(parsed.keyring) - len(parsed.sealed)
    return {
        "magic": 3,
        "header": len(backup.MAGIC) + 5,
        "keyring": start + len(parsed.keyring) // 2,
        "sealed-start": start + len(parsed.keyring) + 1,
        "sealed-middle": start + len(parsed.keyring) + len(parsed.sealed) // 2,
        "sealed-end": start + len(parsed.keyring) + len(parsed.sealed) - 1,
        "mac": len(data) - 40,
        "checksum": len(data) - 1,
    }


@pytest.mark.parametrize(
    "region", ["magic", "header", "keyring", "sealed-start", "sealed-middle", "sealed-end", "mac", "checksum"]
)
def test_a_flipped_byte_anywhere_writes_nothing(backed: Backed, tmp_path: Path, region: str) -> None:
    data = bytearray(backed.file.read_bytes())
    data[_regions(bytes(data))[region]] ^= 0x01
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(data))
    target = tmp_path / "n"
    line = assert_refused(intake("restore", bad, "--home", target, env=ENV), target)
    assert "not an intake backup, or it is truncated, damaged or altered" in line


@pytest.mark.parametrize("region", ["header", "keyring", "sealed-middle", "mac"])
def test_a_deliberate_edit_with_a_fixed_checksum_writes_nothing(backed: Backed, tmp_path: Path, region: str) -> None:
    """Someone recomputes the plain checksum after editing: the keyed MAC (or the sealed box, or the
    keyring's own binding) still refuses it, after unlocking."""
    data = bytearray(backed.file.read_bytes()[:-32])
    offset = _regions(bytes(backed.file.read_bytes()))[region]
    if region == "header":  # a different creation date, same length
        text = bytes(data).replace(b'"created_at":"2', b'"created_at":"1', 1)
        assert text != bytes(data)
        data = bytearray(text)
    else:
        data[offset] ^= 0x01
    bad = tmp_path / "bad"
    bad.write_bytes(bytes(data) + hashlib.sha256(bytes(data)).digest())
    target = tmp_path / "n"
    line = assert_refused(intake("restore", bad, "--home", target, env=ENV), target)
    if region == "keyring":  # a changed wrapped master or salt no longer unlocks; a broken field is named
        assert "Wrong user or passphrase" in line or "keyring" in line, line
    else:
        assert "the backup was altered after it was made" in line, line


@pytest.mark.parametrize("keep", [0, 10, 16, 200, 0.5, -1, -33])
def test_a_truncated_file_writes_nothing(backed: Backed, tmp_path: Path, keep: float) -> None:
    data = backed.file.read_bytes()
    n = int(len(data) * keep) if isinstance(keep, float) else (keep if keep >= 0 else len(data) + keep)
    bad = tmp_path / "bad"
    bad.write_bytes(data[:n])
    target = tmp_path / "n"
    line = assert_refused(intake("restore", bad, "--home", target, env=ENV), target)
    assert "Nothing was written" in line


def test_not_a_backup_writes_nothing(backed: Backed, tmp_path: Path) -> None:
    target = tmp_path / "n"
    for other in (backed.node.settings.keyring_path, backed.node.settings.cases_path):
        line = assert_refused(intake("restore", other, "--home", target, env=ENV), target)
        assert "wrong magic" in line
    line = assert_refused(intake("restore", tmp_path / "missing", "--home", target, env=ENV), target)
    assert "Cannot read" in line


def test_restore_into_an_existing_node_is_refused_and_changes_nothing(backed: Backed, tmp_path: Path) -> None:
    other = make_node(tmp_path / "other")
    before = snapshot(other.home)
    line = assert_refused(intake("restore", backed.file, "--home", other.home, env=ENV), other.home, before=before)
    assert "already holds a node" in line
    # the node it was made from, too
    before = snapshot(backed.node.home)
    assert_refused(intake("restore", backed.file, "--home", backed.node.home, env=ENV), backed.node.home, before=before)


def test_a_folder_with_part_of_a_node_is_refused(backed: Backed, tmp_path: Path) -> None:
    target = tmp_path / "n"
    target.mkdir()
    (target / "cases.db").write_bytes(b"something precious")
    before = snapshot(target)
    line = assert_refused(intake("restore", backed.file, "--home", target, env=ENV), target, before=before)
    assert "cases.db" in line


def test_a_backup_of_another_node_does_not_open_with_this_nodes_passphrase(tmp_path: Path) -> None:
    a = make_node(tmp_path / "a")
    b_node = make_node(tmp_path / "b")
    data, _info = backup.make_backup(a.settings, a.keys)
    # b's keyring with a's payload: b's passphrase unlocks the keyring, the MAC refuses the rest
    parsed = backup.parse_backup(data)
    ring_b = b_node.settings.keyring_path.read_bytes()
    header = dict(parsed.header, keyring=len(ring_b), node_id=json.loads(ring_b)["node_id"])
    body = backup.MAGIC + json.dumps(header, separators=(",", ":")).encode() + b"\n" + ring_b + parsed.sealed
    forged = body + parsed.mac
    forged += hashlib.sha256(forged).digest()
    with pytest.raises(BackupDamaged, match="altered"):
        backup.restore_backup(forged, tmp_path / "n", user=None, passphrase=PASSPHRASE)
    assert not (tmp_path / "n").exists()


def test_a_broken_audit_chain_is_restored_but_reported(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    store = open_cases(node.settings, node.keys)
    try:
        log = AuditLog(store, node.keys)
        for i in range(5):
            log.record(user="admin", action="case.view", case_id=i + 1)
        store._conn.execute("UPDATE audit SET user = 'mallory' WHERE id = 3")
    finally:
        store.close()
    file = tmp_path / "b"
    made = intake("--home", node.home, "backup", "--to", file, env=ENV)
    assert made.code == 2 and file.exists(), made  # written all the same: never hold data hostage
    assert "entry 3" in made.err
    restored = intake("restore", file, "--home", tmp_path / "n", env=ENV)
    assert restored.code == 2, restored
    assert "Audit log broken at entry 3: its hash does not match its content." in restored.err
    assert (tmp_path / "n" / "cases.db").exists()
    result = backup.restore_backup(file.read_bytes(), tmp_path / "m", user=None, passphrase=PASSPHRASE)
    assert (result.audit.ok, result.audit.first_bad) == (False, 3)


def test_settings_travel_with_the_backup(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    node.settings.settings_path.write_text('default_locale = "zh_Hans"\n')
    data, info = backup.make_backup(node.settings, node.keys)
    assert "settings.toml" in info.files
    result = backup.restore_backup(data, tmp_path / "n", user=None, passphrase=PASSPHRASE)
    assert (tmp_path / "n" / "settings.toml").read_text() == 'default_locale = "zh_Hans"\n'
    assert result.cases == 0 and result.audit.ok


def test_backup_while_the_intake_writes_is_consistent(tmp_path: Path) -> None:
    """The intake keeps accepting reports (inbox in WAL) during the backup; the copy is one snapshot."""
    node = make_node(tmp_path / "node")
    service = IntakeService.open(node.settings)
    try:
        for i in range(20):
            accept_report(service, report(description=f"report {i}"))
        assert (node.home / "inbox.db-wal").exists()
        data, _info = backup.make_backup(node.settings, node.keys)
        accept_report(service, report(description="after the backup"))
    finally:
        service.close()
    backup.restore_backup(data, tmp_path / "n", user=None, passphrase=PASSPHRASE)
    restored = make_restored(tmp_path / "n")
    _result, cases = drain_node(restored)
    assert sorted(c.description for c in cases) == sorted(f"report {i}" for i in range(20))


def make_restored(home: Path) -> Node:
    from intake.node import unlock
    from intake.settings import Settings

    settings = Settings.load(home, env={})
    return Node(settings, unlock(settings, None, PASSPHRASE))


def test_restore_leaves_no_staging_folder(backed: Backed, tmp_path: Path) -> None:
    target = tmp_path / "n"
    backup.restore_backup(backed.file.read_bytes(), target, user=None, passphrase=PASSPHRASE)
    assert not [p for p in os.listdir(target) if p.startswith(".")]
