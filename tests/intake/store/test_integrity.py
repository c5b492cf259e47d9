"""Integrity as its own step (issue 14): opening reads the schema only; check_integrity, check_store
and Store.check read every page. Real SQLCipher files, one page damaged on disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from intake.errors import StoreError
from intake.node import check_stores, open_cases
from intake.store.cases import CasesStore
from intake.store.db import check_integrity, check_store, schema_version
from intake.store.inbox import Inbox
from intake.store.schema import CASES_MIGRATIONS
from tests.conftest import Node
from tests.intake.store.damage import damage_middle_page, fill

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))


@pytest.fixture
def damaged(tmp_path: Path) -> Path:
    path = tmp_path / "cases.db"
    CasesStore(path, KEY, create=True).close()
    damage_middle_page(path, KEY)
    return path


def test_a_damaged_page_in_the_middle_does_not_stop_the_open(damaged: Path) -> None:
    # Before issue 14 the open ran quick_check and refused this store; now it reads the schema only.
    store = CasesStore(damaged, KEY)  # the open itself is the point (a query may reach the page)
    try:
        assert schema_version(store._conn) == len(CASES_MIGRATIONS)
    finally:
        store.close()


def test_check_finds_the_damaged_page(damaged: Path) -> None:
    problems = check_store(damaged, KEY)
    assert problems, "quick_check must see the damaged page"
    assert all(isinstance(p, str) and p for p in problems)
    assert check_store(damaged, KEY, full=True)


def test_store_check_finds_it_and_the_store_stays_usable(damaged: Path) -> None:
    store = CasesStore(damaged, KEY)
    try:
        assert store.check()
        assert store.check(full=True)
        # the check ran on its own connection: the store's own one still answers
        assert store._conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] > 0
    finally:
        store.close()


def test_a_sound_store_checks_clean(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    store = CasesStore(path, KEY, create=True)
    try:
        fill(store, 30)
        assert store.check() == []
        assert store.check(full=True) == []
        assert check_integrity(store._conn) == []
    finally:
        store.close()
    inbox = Inbox(tmp_path / "inbox.db", KEY, create=True)
    try:
        assert inbox.check() == []
    finally:
        inbox.close()


def test_check_integrity_reports_what_quick_check_says(damaged: Path) -> None:
    store = CasesStore(damaged, KEY)
    try:
        problems = check_integrity(store._conn)
    finally:
        store.close()
    assert problems and not any(p.startswith("*** in database") for p in problems)


def test_check_store_refuses_what_open_refuses(tmp_path: Path, damaged: Path) -> None:
    with pytest.raises(StoreError) as wrong_key:
        check_store(damaged, OTHER_KEY)
    assert str(damaged) in wrong_key.value.detail
    missing = tmp_path / "nowhere.db"
    with pytest.raises(StoreError) as gone:
        check_store(missing, KEY)
    assert str(missing) in gone.value.detail and not missing.exists()
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(StoreError):
        check_store(empty, KEY)
    assert empty.read_bytes() == b""


def test_a_check_stops_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "cases.db"
    store = CasesStore(path, KEY, create=True)
    fill(store, 60)
    store.close()
    asked: list[int] = []

    def stop() -> bool:  # says stop from its second call: only a handler called *inside* the check sees that
        asked.append(1)
        return len(asked) > 1

    with pytest.raises(StoreError, match="stopped"):
        check_store(path, KEY, stop=stop)
    assert len(asked) >= 2


def test_closing_the_store_stops_its_check(tmp_path: Path) -> None:
    store = CasesStore(tmp_path / "cases.db", KEY, create=True)
    store.close()
    assert store.closed
    with pytest.raises(StoreError, match="stopped"):
        store.check()


def test_check_stores_of_a_node(node: Node) -> None:
    found = check_stores(node.settings, node.keys)
    assert found == {node.settings.cases_path: [], node.settings.inbox_path: []}
    damage_middle_page(node.settings.cases_path, node.keys.cases_db_key)
    found = check_stores(node.settings, node.keys, full=True)
    assert found[node.settings.cases_path] and found[node.settings.inbox_path] == []
    open_cases(node.settings, node.keys).close()  # and the node still opens
