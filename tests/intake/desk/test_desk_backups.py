"""The desk's scheduled backups (issue 17): an unlocked desk with ``backup_dir`` set writes full
backups there (as ``intake backup --to FOLDER --keep N``), restorable with the passphrase, rotated
as the clock moves; a folder that is not there shows a banner on every page and breaks nothing.
Real SQLCipher, a real restore into a fresh folder; the clock is a FixedClock (intake.clock.use)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from intake import backup, clock
from intake.backup_schedule import generations
from intake.desk.app import create_desk_app
from intake.desk.backups import DeskBackups
from intake.desk.http import COOKIE
from intake.desk.sessions import Session
from intake.settings import Settings
from intake.store.cases import CasesStore
from tests.conftest import PASSPHRASE, Node, make_node
from tests.intake.desk import login, report

BANNER = "The last backup to"


@pytest.fixture
def day() -> Iterator[clock.FixedClock]:
    fixed = clock.FixedClock(clock.now().replace(hour=9, minute=0, second=0, microsecond=0))
    with clock.use(fixed):
        yield fixed


@contextmanager
def unlocked(node: Node) -> Iterator[tuple[Any, TestClient, Session]]:
    app = create_desk_app(node.settings)
    with TestClient(app, base_url="http://127.0.0.1:8001") as http:
        assert login(http, node).status_code == 303
        session = app.state.sessions.get(http.cookies.get(COOKIE))
        assert session is not None
        yield app, http, session


def settled(backups: DeskBackups) -> None:
    """Wait for the backup thread the desk last started (a bound, not a timing under test)."""
    if backups.thread is not None:
        backups.thread.join(120)
        assert not backups.thread.is_alive(), "the backup never ended"


def factories_in(path: Path, node: Node, home: Path) -> list[str]:
    """Restore ``path`` with the passphrase into ``home`` (new) and list its cases' factories."""
    result = backup.restore_backup(path.read_bytes(), home, user=None, passphrase=PASSPHRASE)
    assert result.cases >= 0
    store = CasesStore(Settings.load(home, env={}).cases_path, node.keys.cases_db_key)
    try:
        return sorted(c.factory for c in store.list_cases())
    finally:
        store.close()


def test_an_unlocked_desk_backs_up_and_rotates(tmp_path: Path, day: clock.FixedClock) -> None:
    usb = tmp_path / "usb"
    usb.mkdir()
    node = make_node(tmp_path / "node", backup_dir=str(usb), backup_keep=2)
    report(node, "The canteen food made twenty of us sick.", factory="Glimmerwick Day1")
    with unlocked(node) as (app, http, session):
        backups: DeskBackups = app.state.backups
        settled(backups)  # the unlock's backup: none was there
        first = generations(usb, node.keys.node_id)
        assert len(first) == 1 and backups.problem is None
        assert factories_in(first[0].path, node, tmp_path / "restored-1") == ["Glimmerwick Day1"]

        day.advance(timedelta(hours=2))  # the sweeper's hourly look: not due yet (24 hours)
        assert backups.kick(session) is not None
        settled(backups)
        assert len(generations(usb, node.keys.node_id)) == 1

        report(node, "Our wages were paid late again.", factory="Glimmerwick Day2")
        assert login(http, node).status_code == 303  # drains the new report
        session = app.state.sessions.get(http.cookies.get(COOKIE))
        settled(backups)
        day.advance(timedelta(hours=23))
        assert backups.kick(session) is not None
        settled(backups)
        second = generations(usb, node.keys.node_id)
        assert len(second) == 2 and second[1].path == first[0].path

        day.advance(timedelta(hours=25))
        assert backups.kick(session) is not None
        settled(backups)
        kept = generations(usb, node.keys.node_id)
        assert [g.path for g in kept[1:]] == [second[0].path]  # rotated to backup_keep: the oldest went
        assert not first[0].path.exists()
        for n, gen in enumerate(kept):
            restored = factories_in(gen.path, node, tmp_path / f"restored-{n + 2}")
            assert restored == ["Glimmerwick Day1", "Glimmerwick Day2"]
        assert BANNER not in http.get("/cases").text


def test_a_missing_backup_folder_shows_a_banner_and_breaks_nothing(
    tmp_path: Path, day: clock.FixedClock, caplog: pytest.LogCaptureFixture
) -> None:
    usb = tmp_path / "usb-not-mounted"
    node = make_node(tmp_path / "node", backup_dir=str(usb))
    caplog.set_level(logging.INFO, logger="intake")
    with unlocked(node) as (app, http, session):
        backups: DeskBackups = app.state.backups
        settled(backups)
        assert backups.problem == "missing"
        for path in ("/cases", "/factories", "/dashboard"):
            page = http.get(path)
            assert page.status_code == 200, path
            assert BANNER in page.text and str(usb) in page.text and "USB stick" in page.text, path
        assert not usb.exists()  # nothing was made in its place
        assert all(str(usb) not in r.getMessage() and "usb" not in r.getMessage() for r in caplog.records)
        assert any("scheduled backup failed (missing)" in r.getMessage() for r in caplog.records)

        usb.mkdir()  # the stick is plugged in: the next look (an hour later) backs up, the banner goes
        day.advance(timedelta(hours=1))
        assert backups.kick(session) is not None
        settled(backups)
        assert backups.problem is None and len(generations(usb, node.keys.node_id)) == 1
        assert BANNER not in http.get("/cases").text


def test_no_backup_dir_no_backups(tmp_path: Path, node: Node) -> None:
    with unlocked(node) as (app, _http, session):
        assert app.state.backups.kick(session, unlock=True) is None
        assert app.state.backups.thread is None


def test_backup_settings_are_checked(tmp_path: Path) -> None:
    from intake.errors import SettingsError

    for bad in ({"backup_keep": 0}, {"backup_every_hours": 0}, {"backup_dir": "relative/dir"}):
        with pytest.raises(SettingsError):
            Settings.load(tmp_path / "n", env={}, **bad)
    with pytest.raises(SettingsError, match="outside the node folder"):
        Settings.load(tmp_path / "n", env={}, backup_dir=str(tmp_path / "n" / "backups"))
