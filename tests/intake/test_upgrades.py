"""Upgrades (issue 17, item 7): every node an earlier release made (tests/fixtures/releases/) opens
with this release's code. Each fixture is copied first; opening runs the migrations; the reports
waiting in its inbox drain; every case reads; the audit chain verifies; its backup restores. And the
changelog has a section for the version being built."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

import pytest

from crypto import Keyring
from intake import backup
from intake.audit import AuditLog
from intake.drain import drain
from intake.node import open_cases, open_inbox
from intake.settings import Settings
from intake.store.db import schema_version
from intake.store.schema import CASES_MIGRATIONS, INBOX_MIGRATIONS
from tests.conftest import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
RELEASES = ROOT / "tests" / "fixtures" / "releases"
FIXTURES = sorted(p.name for p in RELEASES.iterdir() if (p / "expected.json").is_file())


def test_there_are_fixtures_of_earlier_releases() -> None:
    assert FIXTURES, "no fixture nodes under tests/fixtures/releases (scripts/make_release_fixture.py)"
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    assert any(name.split("-")[0] == version or name < version for name in FIXTURES)


@pytest.fixture(params=FIXTURES)
def release(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, dict[str, object]]:
    source = RELEASES / request.param
    copy = tmp_path / "copy"
    shutil.copytree(source, copy)
    for path in copy.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)  # a git checkout may widen modes
    return copy, json.loads((source / "expected.json").read_text("utf-8"))


def test_a_node_of_an_earlier_release_opens_migrates_and_drains(release: tuple[Path, dict[str, object]]) -> None:
    folder, expected = release
    settings = Settings.load(folder / "node", env={})
    ring = Keyring.load(settings.keyring_path)
    assert ring.node_id == expected["node_id"]
    keys = ring.unlock(str(expected["user"]), PASSPHRASE)
    old = expected["schema"]
    assert isinstance(old, dict)
    inbox, cases = open_inbox(settings), open_cases(settings, keys)  # migrations run here
    try:
        assert schema_version(cases._conn) == len(CASES_MIGRATIONS) >= old["cases.db"]
        assert schema_version(inbox._conn) == len(INBOX_MIGRATIONS) >= old["inbox.db"]
        assert inbox.count() == expected["pending"]
        result = drain(inbox, cases, keys)
        assert inbox.count() == 0, result
        listed = cases.list_cases()
        factories = sorted(c.factory for c in listed)
        drained = expected["cases"]
        assert isinstance(drained, list)
        assert len(listed) == len(drained) + int(str(expected["pending"]))
        assert set(drained) <= set(factories)
        for case in listed:  # each case reads whole, with its words
            assert cases.get_case(case.id).description
        chain = AuditLog(cases, keys).verify()
        assert chain.ok, chain
    finally:
        inbox.close()
        cases.close()


def test_the_backup_of_an_earlier_release_restores(release: tuple[Path, dict[str, object]], tmp_path: Path) -> None:
    folder, expected = release
    restored = backup.restore_backup(
        (folder / "backup.ibk").read_bytes(), tmp_path / "restored", user=None, passphrase=PASSPHRASE
    )
    assert restored.node_id == expected["node_id"]
    assert restored.cases == expected["backup_cases"]
    assert restored.audit.ok
    settings = Settings.load(restored.home, env={})
    keys = Keyring.load(settings.keyring_path).unlock(str(expected["user"]), PASSPHRASE)
    cases = open_cases(settings, keys)  # and the restored stores migrate too
    try:
        assert sorted(c.factory for c in cases.list_cases()) == expected["cases"]
    finally:
        cases.close()


def test_the_changelog_has_a_section_for_this_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    changelog = (ROOT / "CHANGELOG.md").read_text("utf-8")
    assert re.search(r"^## \[Unreleased\]", changelog, re.M)
    assert re.search(rf"^## \[{re.escape(version)}\]( - \d{{4}}-\d{{2}}-\d{{2}})?$", changelog, re.M), version


def test_intake_version_prints_the_version_of_pyproject() -> None:
    from tests.intake.cli.test_cli import intake

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    result = intake("--version")
    assert result.code == 0 and result.out.strip() == f"intake {version}", result
