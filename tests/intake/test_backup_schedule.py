"""Scheduled backups (issue 17, item 6): generations in a folder rotated to N, nothing foreign ever
deleted, a failed backup deletes nothing, and a real restore from each kept generation gives the
cases (or, unattended, the waiting reports) of that generation's time. Real SQLCipher, synthetic
reports; the clock moves a day between generations (intake.clock.use with a FixedClock)."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest

from intake import backup, backup_record, clock
from intake import backup_schedule as schedule
from intake.domain import Channel, Report
from intake.errors import BackupDamaged, BackupError, NodeError, StoreDamaged
from intake.node import open_inbox
from intake.services import IntakeService, accept_report
from intake.settings import Settings
from intake.store.cases import CasesStore
from tests.conftest import PASSPHRASE, Node, drain_node, make_node


def submit(node: Node, n: int, tag: str) -> None:
    service = IntakeService.open(node.settings)
    try:
        for i in range(n):
            accept_report(
                service,
                Report(channel=Channel.WEB, factory=f"Glimmerwick {tag}-{i}", description=f"Overtime {tag}-{i}"),
            )
    finally:
        service.close()


def cases_of(home: Path, node: Node) -> list[tuple[int, str]]:
    store = CasesStore(Settings.load(home, env={}).cases_path, node.keys.cases_db_key)
    try:
        return sorted((c.id, c.factory) for c in store.list_cases())
    finally:
        store.close()


def restore(path: Path, home: Path) -> backup.RestoreResult:
    return backup.restore_backup(path.read_bytes(), home, user=None, passphrase=PASSPHRASE)


@pytest.fixture
def day() -> clock.FixedClock:
    return clock.FixedClock(clock.now().replace(hour=2, minute=0, second=0, microsecond=0))


def foreign_files(folder: Path, other: Node, day: clock.FixedClock) -> dict[str, bytes]:
    """Files in the backup folder this node's rotation must never touch."""
    (folder / "notes.txt").write_text("not a backup")
    (folder / "intake-backup-20000101T000000Z.ibk").write_bytes(b"named like one, but no magic")
    (folder / "intake-backup-19990101T000000Z.ibk.bak").write_bytes(backup.MAGIC + b"{}")
    with clock.use(clock.FixedClock(day.at - timedelta(days=400))):  # older than all of ours
        schedule.write_generation(other.settings, folder, keep=1, keys=other.keys)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_rotation_keeps_exactly_n_and_each_kept_generation_restores(tmp_path: Path, day: clock.FixedClock) -> None:
    node, other = make_node(tmp_path / "node"), make_node(tmp_path / "other")
    folder = tmp_path / "usb"
    folder.mkdir()
    foreign = foreign_files(folder, other, day)
    (folder / "intake-backup-20010101T000000Z.ibk").symlink_to(folder / "notes.txt")
    expected: dict[Path, list[tuple[int, str]]] = {}
    with clock.use(day):
        for generation in range(5):
            submit(node, 1 + generation % 2, f"g{generation}")
            drain_node(node)
            result = schedule.write_generation(node.settings, folder, keep=3, keys=node.keys)
            expected[result.path] = cases_of(node.home, node)
            assert len(result.kept) == min(generation + 1, 3)
            assert len(result.deleted) == (1 if generation >= 3 else 0)
            day.advance(timedelta(days=1))
    kept = schedule.generations(folder, node.keys.node_id)
    assert [g.path for g in kept] == list(result.kept)
    assert len(kept) == 3
    assert [g.path for g in kept] == sorted(expected, key=lambda p: p.name, reverse=True)[:3]
    assert all(name in {p.name for p in folder.iterdir()} for name in foreign)
    assert all((folder / name).read_bytes() == data for name, data in foreign.items())
    assert (folder / "intake-backup-20010101T000000Z.ibk").is_symlink()
    sizes = set()
    for n, gen in enumerate(kept):
        restored = restore(gen.path, tmp_path / f"restored-{n}")
        assert restored.audit.ok
        assert cases_of(restored.home, node) == expected[gen.path]
        sizes.add(len(expected[gen.path]))
    assert len(sizes) == 3  # three different states, each restored as it was


def test_a_failed_backup_deletes_no_older_one(tmp_path: Path, day: clock.FixedClock) -> None:
    node = make_node(tmp_path / "node")
    folder = tmp_path / "usb"
    folder.mkdir()
    with clock.use(day):
        for generation in range(2):
            submit(node, 3, f"g{generation}")
            schedule.write_generation(node.settings, folder, keep=2, keys=node.keys)
            day.advance(timedelta(days=1))
        before = {p.name: p.read_bytes() for p in folder.iterdir()}
        # Damage a page in the middle of inbox.db: its copy fails the page check, no backup is made.
        size = node.settings.inbox_path.stat().st_size
        assert size >= 3 * 4096
        with node.settings.inbox_path.open("r+b") as fh:
            fh.seek(size // 2)
            fh.write(os.urandom(64))
        with pytest.raises(StoreDamaged):
            schedule.write_generation(node.settings, folder, keep=1, keys=node.keys)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_a_missing_folder_or_bad_keep_is_refused_before_anything(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    with pytest.raises(BackupError, match="mounted"):
        schedule.write_generation(node.settings, tmp_path / "not-mounted", keep=2, keys=node.keys)
    with pytest.raises(BackupError, match="--keep"):
        schedule.write_generation(node.settings, tmp_path, keep=0, keys=node.keys)
    with pytest.raises(BackupError, match="node folder"):
        schedule.write_generation(node.settings, node.home, keep=2, keys=node.keys)
    assert not (tmp_path / "not-mounted").exists()
    assert backup_record.last_backup(node.home) is None


# -- unattended: no passphrase, the intake's part only ----------------------------------------------------
def pending(home: Path) -> int:
    inbox = open_inbox(Settings.load(home, env={}))
    try:
        return inbox.count()
    finally:
        inbox.close()


def test_unattended_generations_restore_the_waiting_reports_of_their_time(
    tmp_path: Path, day: clock.FixedClock
) -> None:
    node = make_node(tmp_path / "node")
    folder = tmp_path / "backups"
    folder.mkdir()
    schedule.enable_unattended(node.settings, node.keys)
    assert (node.home / schedule.AGENT_FILE).stat().st_mode & 0o777 == 0o600
    mac_key = schedule.load_agent_key(node.settings)
    waiting: dict[Path, int] = {}
    with clock.use(day):
        for generation in range(4):
            submit(node, generation + 1, f"u{generation}")
            result = schedule.write_generation(node.settings, folder, keep=2, mac_key=mac_key)
            assert result.unattended and "cases.db" not in result.info.files
            waiting[result.path] = pending(node.home)
            day.advance(timedelta(hours=6))
    kept = schedule.generations(folder, node.keys.node_id)
    assert len(kept) == 2
    for n, gen in enumerate(kept):
        restored = restore(gen.path, tmp_path / f"restored-{n}")
        assert not (restored.home / "cases.db").exists()
        assert pending(restored.home) == waiting[gen.path]
        # The waiting reports open with the node's keys: drained into a new case store there.
        settings = Settings.load(restored.home, env={})
        CasesStore(settings.cases_path, node.keys.cases_db_key, create=True).close()
        _, cases = drain_node(Node(settings, node.keys))
        assert len(cases) == waiting[gen.path]


def test_an_unattended_backup_on_a_node_with_cases_is_not_its_last_backup(tmp_path: Path) -> None:
    """intake doctor must not count a backup without cases.db as the node's backup where cases live."""
    node = make_node(tmp_path / "node")
    schedule.enable_unattended(node.settings, node.keys)
    schedule.write_generation(node.settings, tmp_path, keep=None, mac_key=schedule.load_agent_key(node.settings))
    assert backup_record.last_backup(node.home) is None
    schedule.write_generation(node.settings, tmp_path, keep=None, keys=node.keys)
    assert backup_record.last_backup(node.home) is not None


def test_an_unattended_backup_under_another_key_is_refused(tmp_path: Path) -> None:
    node, other = make_node(tmp_path / "node"), make_node(tmp_path / "other")
    forged = schedule.write_generation(node.settings, tmp_path, keep=None, mac_key=backup.agent_key(other.keys))
    with pytest.raises(BackupDamaged, match="altered"):
        restore(forged.path, tmp_path / "restored")
    assert not (tmp_path / "restored").exists()
    # Marked unattended in the header the MAC covers: it cannot pass as a full backup either.
    data = forged.path.read_bytes().replace(b',"mac":"agent"', b',"mac":"full!"', 1)
    assert b'"mac":"full!"' in data
    with pytest.raises(BackupDamaged):
        backup.restore_backup(data, tmp_path / "restored", user=None, passphrase=PASSPHRASE)


def test_without_the_agent_key_an_unattended_backup_is_refused(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    with pytest.raises(NodeError, match="enable-unattended"):
        schedule.load_agent_key(node.settings)
    assert backup.agent_key(node.keys) != backup.backup_key(node.keys)


# -- the CLI, as a timer runs it (real processes) -----------------------------------------------------------
def test_cli_rotates_in_a_folder_and_runs_unattended_after_enabling(tmp_path: Path) -> None:
    from tests.intake.cli.test_cli import intake, one_line_error

    node = make_node(tmp_path / "node")
    folder = tmp_path / "usb"
    folder.mkdir()
    env = {"INTAKE_PASSPHRASE": PASSPHRASE}
    for run in range(3):
        result = intake("--home", node.home, "backup", "--to", folder, "--keep", "2", env=env)
        assert result.code == 0, result
        assert "Backup written to" in result.out
        assert ("Deleted 1 older backup." in result.out) == (run == 2)
    assert len(schedule.generations(folder, node.keys.node_id)) == 2  # same second: -2, -3 names
    no_key = intake("--home", node.home, "backup", "--unattended", "--to", folder, "--keep", "2")
    assert "enable-unattended" in one_line_error(no_key)
    missing = intake("--home", node.home, "backup", "--to", tmp_path / "stick", "--keep", "2", env=env)
    assert "mounted" in one_line_error(missing)
    assert "--to" in one_line_error(intake("--home", node.home, "backup", env=env))
    enabled = intake("--home", node.home, "backup", "--enable-unattended", env=env)
    assert enabled.code == 0 and "backup-agent.key" in enabled.out, enabled
    result = intake("--home", node.home, "backup", "--unattended", "--to", folder, "--keep", "2")  # no passphrase
    assert result.code == 0, result
    assert "Unattended backup written to" in result.out
    assert len(schedule.generations(folder, node.keys.node_id)) == 2
    single = intake("--home", node.home, "backup", "--unattended", "--to", tmp_path / "one.ibk")
    assert single.code == 0, single
    assert restore(tmp_path / "one.ibk", tmp_path / "restored").files[0] == "keyring.json"
