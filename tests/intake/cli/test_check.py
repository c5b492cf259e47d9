"""``intake check``, and ``intake backup``/``restore`` refusing damaged stores (issue 14), as an
operator runs them: real processes, real SQLCipher files, one page damaged on disk."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest

from crypto import open_item, seal_item
from intake import backup
from intake.errors import BackupDamaged
from intake.node import open_cases
from tests.conftest import Node, make_node
from tests.intake.cli.test_cli import Result, intake, one_line_error, write_pass
from tests.intake.store.damage import damage_middle_page


def check(node: Node, pass_file: Path, *extra: str) -> Result:
    return intake("--home", node.home, "check", "--passphrase-file", pass_file, *extra)


def test_a_fresh_node_checks_ok(tmp_path: Path) -> None:
    node = make_node(tmp_path / "home")
    pass_file = write_pass(tmp_path / "pass.txt", node.passphrase)
    for extra in ((), ("--full",)):
        result = check(node, pass_file, *extra)
        assert result.code == 0, result
        assert f"{node.settings.cases_path}: ok" in result.out
        assert f"{node.settings.inbox_path}: ok" in result.out
        assert "DAMAGED" not in result.out and result.err.strip() == ""


def test_a_damaged_page_opens_but_check_exits_1_naming_the_file(tmp_path: Path) -> None:
    node = make_node(tmp_path / "home")
    pass_file = write_pass(tmp_path / "pass.txt", node.passphrase)
    cases_db = node.settings.cases_path
    damage_middle_page(cases_db, node.keys.cases_db_key)
    open_cases(node.settings, node.keys).close()  # opening does not read the damaged page
    for extra in ((), ("--full",)):
        result = check(node, pass_file, *extra)
        line = one_line_error(result)
        assert str(cases_db) in line and "restore" in line and "backup" in line
        assert f"{cases_db}: DAMAGED" in result.out
        assert f"{node.settings.inbox_path}: ok" in result.out  # the sound store is said to be sound


def test_check_without_a_node_says_so_before_asking(tmp_path: Path) -> None:
    home = tmp_path / "nothing"
    line = one_line_error(intake("--home", home, "check"))
    assert "intake init" in line and str(home) in line


def test_backup_of_a_damaged_store_writes_nothing(tmp_path: Path) -> None:
    node = make_node(tmp_path / "home")
    pass_file = write_pass(tmp_path / "pass.txt", node.passphrase)
    dest = tmp_path / "node.backup"
    assert intake("--home", node.home, "backup", "--to", dest, "--passphrase-file", pass_file).code == 0
    good = dest.read_bytes()
    damage_middle_page(node.settings.cases_path, node.keys.cases_db_key)
    result = intake("--home", node.home, "backup", "--to", dest, "--passphrase-file", pass_file)
    line = one_line_error(result)
    assert str(node.settings.cases_path) in line and "No backup was written" in line
    assert dest.read_bytes() == good  # the older, good backup is kept
    assert not list(node.home.glob(".backup-*"))  # and no temporary copy is left behind


def _with_cases_db(data: bytes, node: Node, cases_db: bytes) -> bytes:
    """The backup ``data`` with its cases.db swapped for ``cases_db``, sealed and MACed again with
    the node's keys: what an older release, which did not check, would have written."""
    parsed = backup.parse_backup(data)
    files = backup._unpack(open_item(parsed.sealed, node.keys.identity))
    files["cases.db"] = cases_db
    sealed = seal_item(backup._pack(list(files.items())), to=node.keys.identity.public_key)
    header = {**parsed.header, "sealed": len(sealed)}
    body = backup.MAGIC + json.dumps(header, separators=(",", ":")).encode() + b"\n" + parsed.keyring + sealed
    mac = hmac.new(backup.backup_key(node.keys), body, hashlib.sha256).digest()
    return body + mac + hashlib.sha256(body + mac).digest()


def test_restore_refuses_a_backup_of_a_damaged_store(tmp_path: Path) -> None:
    node = make_node(tmp_path / "home")
    data, _info = backup.make_backup(node.settings, node.keys)
    damage_middle_page(node.settings.cases_path, node.keys.cases_db_key)
    forged = tmp_path / "old-release.backup"
    forged.write_bytes(_with_cases_db(data, node, node.settings.cases_path.read_bytes()))
    target = tmp_path / "restored"
    with pytest.raises(BackupDamaged, match=r"cases\.db in the backup is damaged"):
        backup.restore_backup(forged.read_bytes(), target, user=None, passphrase=node.passphrase)
    assert not target.exists()  # nothing written
    pass_file = write_pass(tmp_path / "pass.txt", node.passphrase)
    line = one_line_error(intake("restore", forged, "--home", target, "--passphrase-file", pass_file))
    assert "damaged" in line and "Nothing was written" in line
    assert not target.exists()


def test_check_optimize_merges_the_search_index_of_a_sound_store(tmp_path: Path) -> None:
    from intake.store import maintenance
    from tests.intake.desk.test_maintenance_desk import _drained_case_by_case

    node = make_node(tmp_path / "home")
    pass_file = write_pass(tmp_path / "pass.txt", node.passphrase)
    store = open_cases(node.settings, node.keys)
    try:
        _drained_case_by_case(store)
        with store.reading() as conn:
            before = maintenance.segments(conn)
    finally:
        store.close()
    assert before > 1
    result = check(node, pass_file, "--optimize")
    assert result.code == 0, result
    assert f"Search index: {before} segments merged into 1." in result.out
    store = open_cases(node.settings, node.keys)
    try:
        with store.reading() as conn:
            assert maintenance.segments(conn) == 1
            assert conn.execute("SELECT count(*) FROM cases_fts WHERE cases_fts MATCH 'wages'").fetchone() == (120,)
    finally:
        store.close()
