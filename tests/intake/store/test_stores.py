"""SQLCipher stores: migrations, pragmas, clear errors naming the file, refusing writes, raw bytes."""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest
import sqlcipher3

from intake.domain import BoardStatus, Channel, FollowUp, ReceiptHash, Report
from intake.drain import drain
from intake.errors import IntakeError, StoreError, StoreUnavailable
from intake.node import open_cases, open_inbox
from intake.receipts import format_receipt
from intake.services import IntakeService, accept_followup, accept_report
from intake.settings import Settings
from intake.store.cases import CasesStore
from intake.store.db import Connection, open_store, schema_version
from intake.store.inbox import Inbox
from intake.store.schema import CASES_MIGRATIONS, INBOX_MIGRATIONS
from tests.conftest import Node, make_node

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
SQLITE_MAGIC = b"SQLite format 3\x00"
H1 = ReceiptHash(b"\x01" * 32)
H2 = ReceiptHash(b"\x02" * 32)


def _schema(conn: Connection) -> list[tuple[str, str, str]]:
    return sorted(conn.execute("SELECT type, name, sql FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall())


def _versions(conn: Connection) -> list[int]:
    return [int(r[0]) for r in conn.execute("SELECT version FROM schema_version ORDER BY version").fetchall()]


# init_node fsyncs every file it makes; tests here get a copy of one node made per module.
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Node:
    return make_node(tmp_path_factory.mktemp("template") / "node")


@pytest.fixture
def node(template: Node, tmp_path: Path) -> Node:
    home = tmp_path / "node"
    shutil.copytree(template.home, home)
    return Node(Settings.load(home, env={}, rate_limit_per_minute=0), template.keys)


@pytest.fixture
def inbox(tmp_path: Path) -> Iterator[Inbox]:
    store = Inbox(tmp_path / "inbox.db", KEY, create=True)
    yield store
    store.close()


# -- migrations ------------------------------------------------------------------------------------
def test_inbox_from_empty(tmp_path: Path) -> None:
    store = Inbox(tmp_path / "inbox.db", KEY, create=True)
    try:
        assert schema_version(store._conn) == len(INBOX_MIGRATIONS) >= 2
        assert _versions(store._conn) == list(range(1, len(INBOX_MIGRATIONS) + 1))
        assert store.count() == 0
    finally:
        store.close()


def test_cases_from_empty(tmp_path: Path) -> None:
    store = CasesStore(tmp_path / "cases.db", KEY, create=True)
    try:
        assert schema_version(store._conn) == len(CASES_MIGRATIONS) >= 2
        assert _versions(store._conn) == list(range(1, len(CASES_MIGRATIONS) + 1))
        assert store.count() == 0
    finally:
        store.close()


def test_reopening_does_not_migrate_again(tmp_path: Path) -> None:
    Inbox(tmp_path / "inbox.db", KEY, create=True).close()
    store = Inbox(tmp_path / "inbox.db", KEY)
    try:
        assert _versions(store._conn) == list(range(1, len(INBOX_MIGRATIONS) + 1))
    finally:
        store.close()


def _inbox_rows(conn: Connection, version: int) -> None:
    """Rows that are valid at schema ``version`` of the inbox."""
    if version >= 1:
        conn.execute("INSERT INTO items (id, blob) VALUES ('item-a', x'0102'), ('item-b', x'0304')")
    if version >= 2:
        conn.execute(
            "INSERT INTO board (receipt_hash, status, updated_at) VALUES (?, 'in_progress', 1700000000)", (bytes(H1),)
        )
        conn.execute(
            "INSERT INTO board_messages (receipt_hash, created_at, body) VALUES (?, 1700000001, 'we met the manager')",
            (bytes(H1),),
        )


def _check_inbox_rows(store: Inbox, version: int) -> None:
    if version >= 1:
        assert [(i, b) for _, i, b in store.items()] == [("item-a", b"\x01\x02"), ("item-b", b"\x03\x04")]
    else:
        assert store.count() == 0
    if version >= 2:
        entry = store.board(H1)
        assert entry is not None
        assert entry.status is BoardStatus.IN_PROGRESS
        assert entry.messages == [(1700000001, "we met the manager")]
    # the latest schema works in full after the upgrade
    store.put("item-new", b"\x05", board=H2)
    store.post_message(H2, "reply")
    entry = store.board(H2)
    assert entry is not None
    assert [m for _, m in entry.messages] == ["reply"]


@pytest.mark.parametrize("version", range(len(INBOX_MIGRATIONS)))
def test_inbox_from_every_earlier_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "inbox.db"
    conn = open_store(path, KEY, INBOX_MIGRATIONS, create=True, upto=version)
    assert schema_version(conn) == version
    _inbox_rows(conn, version)
    conn.close()

    store = Inbox(path, KEY)
    try:
        assert schema_version(store._conn) == len(INBOX_MIGRATIONS)
        assert _versions(store._conn) == list(range(1, len(INBOX_MIGRATIONS) + 1))
        _check_inbox_rows(store, version)
        fresh = Inbox(tmp_path / "fresh.db", KEY, create=True)
        try:
            assert _schema(store._conn) == _schema(fresh._conn)
        finally:
            fresh.close()
    finally:
        store.close()


def _cases_rows(conn: Connection, version: int) -> None:
    if version >= 1:
        conn.execute(
            """INSERT INTO cases (id, created_at, channel, locale, factory, categories, description, consent,
                   contact_ok, receipt_hash) VALUES
               (7, '2024-05-01T10:00:00+00:00', 'web', 'zh_Hans', 'Synthetic Plant 3', '["wages"]',
                'synthetic description', 1, 0, ?)""",
            (bytes(H1),),
        )
        conn.execute(
            "INSERT INTO followups (case_id, received_at, channel, locale, text) "
            "VALUES (7, '2024-05-02T10:00:00+00:00', 'sms', 'zh_Hans', 'synthetic follow-up')"
        )
        conn.execute("INSERT INTO drained_items (item_id, case_id) VALUES ('drained-1', 7)")
    if version >= 2:
        conn.execute("UPDATE cases SET severity = 'urgent' WHERE id = 7")


@pytest.mark.parametrize("version", range(len(CASES_MIGRATIONS)))
def test_cases_from_every_earlier_version(tmp_path: Path, version: int) -> None:
    path = tmp_path / "cases.db"
    conn = open_store(path, KEY, CASES_MIGRATIONS, create=True, upto=version)
    assert schema_version(conn) == version
    _cases_rows(conn, version)
    conn.close()

    store = CasesStore(path, KEY)
    try:
        assert schema_version(store._conn) == len(CASES_MIGRATIONS)
        assert _versions(store._conn) == list(range(1, len(CASES_MIGRATIONS) + 1))
        if version >= 1:
            case = store.get_case(7)
            assert case.factory == "Synthetic Plant 3"
            assert case.description == "synthetic description"
            assert case.locale == "zh_Hans"
            assert [c.value for c in case.categories] == ["wages"]
            assert [f.text for f in case.followups] == ["synthetic follow-up"]
            assert store.was_drained("drained-1")
            assert store.receipt_hash(7) == H1
            severity = store._conn.execute("SELECT severity FROM cases WHERE id = 7").fetchone()[0]
            assert severity == ("urgent" if version >= 2 else "normal")
        else:
            assert store.count() == 0
        fresh = CasesStore(tmp_path / "fresh.db", KEY, create=True)
        try:
            assert _schema(store._conn) == _schema(fresh._conn)
        finally:
            fresh.close()
    finally:
        store.close()


def test_store_newer_than_code(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    conn = open_store(path, KEY, INBOX_MIGRATIONS, create=True)
    conn.execute("INSERT INTO schema_version (version) VALUES (99)")
    conn.close()
    with pytest.raises(StoreError, match=re.escape(str(path))) as info:
        Inbox(path, KEY)
    assert "99" in str(info.value)
    assert "newer" in str(info.value)


def test_failed_migration_rolls_back(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    broken = [["CREATE TABLE a (x INTEGER)"], ["CREATE TABLE b (y INTEGER)", "THIS IS NOT SQL"]]
    with pytest.raises(StoreError, match=re.escape(str(path))):
        open_store(path, KEY, broken, create=True)
    conn = open_store(path, KEY, broken[:1])
    try:
        assert schema_version(conn) == 1
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "a" in tables
        assert "b" not in tables  # migration 2 left nothing half-applied
    finally:
        conn.close()


# -- pragmas and encryption ---------------------------------------------------------------------------------
def _pragmas(conn: Connection) -> dict[str, object]:
    names = ["journal_mode", "synchronous", "secure_delete", "foreign_keys", "temp_store"]
    return {n: conn.execute(f"PRAGMA {n}").fetchone()[0] for n in names}


def test_inbox_pragmas(inbox: Inbox) -> None:
    assert _pragmas(inbox._conn) == {
        "journal_mode": "wal",
        "synchronous": 2,
        "secure_delete": 1,
        "foreign_keys": 1,
        "temp_store": 2,
    }


def test_cases_pragmas(tmp_path: Path) -> None:
    store = CasesStore(tmp_path / "cases.db", KEY, create=True)
    try:
        got = _pragmas(store._conn)
        assert got["journal_mode"] == "wal"
        assert got["secure_delete"] == 1
        assert got["foreign_keys"] == 1
        assert got["temp_store"] == 2
        assert got["synchronous"] in (1, 2)
        # foreign keys are enforced, not only switched on
        with pytest.raises(sqlcipher3.IntegrityError):
            store._conn.execute(
                "INSERT INTO followups (case_id, received_at, channel, locale, text) VALUES (999, 't', 'web', 'en', 'x')"
            )
    finally:
        store.close()


def test_files_are_encrypted(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    store = Inbox(path, KEY, create=True)
    store.put("plain-id-marker", b"plain-blob-marker")
    store.close()
    raw = path.read_bytes()
    assert not raw.startswith(SQLITE_MAGIC)
    assert b"plain-id-marker" not in raw
    assert b"plain-blob-marker" not in raw
    assert b"CREATE TABLE" not in raw


# -- errors that name the file ----------------------------------------------------------------------------------
def _assert_store_error(opener: Callable[[], object], path: Path) -> StoreError:
    with pytest.raises(StoreError) as info:
        opener()
    exc = info.value
    assert type(exc) is StoreError
    assert not isinstance(exc, sqlcipher3.Error)
    assert str(path) in str(exc)
    assert str(path) in exc.detail
    return exc


@pytest.mark.parametrize("store_cls", [Inbox, CasesStore])
def test_wrong_key(tmp_path: Path, store_cls: type[Inbox] | type[CasesStore]) -> None:
    path = tmp_path / "store.db"
    store_cls(path, KEY, create=True).close()
    before = path.read_bytes()
    exc = _assert_store_error(lambda: store_cls(path, OTHER_KEY), path)
    assert "wrong key" in str(exc)
    assert path.read_bytes() == before  # nothing written to it
    store_cls(path, KEY).close()  # still opens with the right key


@pytest.mark.parametrize("key", [b"", b"k" * 16, b"k" * 33])
def test_wrong_key_length(tmp_path: Path, key: bytes) -> None:
    path = tmp_path / "inbox.db"
    Inbox(path, KEY, create=True).close()
    _assert_store_error(lambda: Inbox(path, key), path)


@pytest.mark.parametrize(
    "content",
    [
        os.urandom(3 * 4096),
        os.urandom(100),
        b"Minutes of the meeting.\nThis is a text file, not a database.\n" * 50,
        SQLITE_MAGIC + bytes(4096 - len(SQLITE_MAGIC)),
    ],
    ids=["random-pages", "random-short", "text", "plain-sqlite-header"],
)
@pytest.mark.parametrize("store_cls", [Inbox, CasesStore])
def test_not_a_database(tmp_path: Path, content: bytes, store_cls: type[Inbox] | type[CasesStore]) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(content)
    _assert_store_error(lambda: store_cls(path, KEY), path)
    assert path.read_bytes() == content


def test_a_plain_sqlite_database(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    plain = sqlite3.connect(path)
    plain.execute("CREATE TABLE t (x)")
    plain.commit()
    plain.close()
    _assert_store_error(lambda: Inbox(path, KEY), path)


def _filled_inbox(path: Path, n: int = 40) -> None:
    store = Inbox(path, KEY, create=True)
    with store._write() as conn:  # one transaction: fsync once, not per item
        for i in range(n):
            conn.execute("INSERT INTO items (id, blob) VALUES (?, ?)", (f"item-{i}", os.urandom(1500)))
    store.close()
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0


@pytest.mark.parametrize("cut", ["1000", "half", "4096", "one-page-short", "zero"])
def test_truncated_inbox(tmp_path: Path, cut: str) -> None:
    path = tmp_path / "inbox.db"
    _filled_inbox(path)
    size = path.stat().st_size
    assert size > 5 * 4096
    new_size = {"1000": 1000, "half": size // 2, "4096": 4096, "one-page-short": size - 4096, "zero": 0}[cut]
    with path.open("r+b") as fh:
        fh.truncate(new_size)
    _assert_store_error(lambda: Inbox(path, KEY), path)


@pytest.mark.parametrize("cut", ["1000", "half"])
def test_truncated_cases(tmp_path: Path, cut: str) -> None:
    path = tmp_path / "cases.db"
    store = CasesStore(path, KEY, create=True)
    store._conn.execute("PRAGMA synchronous = OFF")  # test set-up speed only
    for i in range(30):
        report = Report(channel=Channel.WEB, description=f"synthetic report {i} " + "x" * 1000)
        store.add_report(f"item-{i}", report, receipt_hash=None, reporter_link=None, contact=None)
    store.close()
    size = path.stat().st_size
    with path.open("r+b") as fh:
        fh.truncate(1000 if cut == "1000" else size // 2)
    _assert_store_error(lambda: CasesStore(path, KEY), path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere" / "inbox.db"
    exc = _assert_store_error(lambda: Inbox(path, KEY), path)
    assert "intake init" in str(exc)
    assert not path.exists()


def test_directory_instead_of_file(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    path.mkdir()
    _assert_store_error(lambda: Inbox(path, KEY), path)


# -- inbox operations -------------------------------------------------------------------------------------
def test_put_items_delete_count(inbox: Inbox) -> None:
    assert inbox.count() == 0
    assert inbox.items() == []
    blobs = {f"id-{i}": os.urandom(10 + i) for i in range(5)}
    for item_id, blob in blobs.items():
        inbox.put(item_id, blob)
    assert inbox.count() == 5
    rows = inbox.items()
    assert [i for _, i, _ in rows] == list(blobs)  # arrival order
    assert {i: b for _, i, b in rows} == blobs
    seqs = [s for s, _, _ in rows]
    assert seqs == sorted(seqs)
    # paging
    first = inbox.items(limit=2)
    rest = inbox.items(limit=10, after_seq=first[-1][0])
    assert [i for _, i, _ in first + rest] == list(blobs)
    inbox.delete(["id-1", "id-3", "not-there"])
    assert inbox.count() == 3
    assert [i for _, i, _ in inbox.items()] == ["id-0", "id-2", "id-4"]
    inbox.delete([])
    assert inbox.count() == 3


def test_items_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "inbox.db"
    store = Inbox(path, KEY, create=True)
    store.put("kept", b"sealed")
    store.close()
    store = Inbox(path, KEY)
    try:
        assert [(i, b) for _, i, b in store.items()] == [("kept", b"sealed")]
    finally:
        store.close()


def test_duplicate_item_id_changes_nothing(inbox: Inbox) -> None:
    inbox.put("same", b"first")
    with pytest.raises(IntakeError):
        inbox.put("same", b"second", board=H1)
    assert [(i, b) for _, i, b in inbox.items()] == [("same", b"first")]
    assert inbox.board(H1) is None  # the board insert rolled back with it


def test_board(inbox: Inbox) -> None:
    assert inbox.board(H1) is None
    inbox.put("a", b"x", board=H1)
    entry = inbox.board(H1)
    assert entry is not None
    assert entry.status is BoardStatus.RECEIVED
    assert entry.messages == []
    assert inbox.board(H2) is None

    inbox.set_status(H1, BoardStatus.IN_PROGRESS)
    inbox.post_message(H1, "We have contacted the factory.")
    inbox.post_message(H1, "我们已联系工厂。")
    entry = inbox.board(H1)
    assert entry is not None
    assert entry.status is BoardStatus.IN_PROGRESS  # posting keeps the status
    assert [m for _, m in entry.messages] == ["We have contacted the factory.", "我们已联系工厂。"]
    assert all(isinstance(t, int) and t > 1_600_000_000 for t, _ in entry.messages)

    # a follow-up item for the same receipt does not reset the status
    inbox.put("b", b"y", board=H1)
    entry = inbox.board(H1)
    assert entry is not None
    assert entry.status is BoardStatus.IN_PROGRESS
    assert inbox.board(H2) is None


def test_board_created_by_message_or_status(inbox: Inbox) -> None:
    inbox.post_message(H1, "hello")
    entry = inbox.board(H1)
    assert entry is not None
    assert entry.status is BoardStatus.IN_REVIEW
    inbox.set_status(H2, BoardStatus.CLOSED)
    entry = inbox.board(H2)
    assert entry is not None
    assert entry.status is BoardStatus.CLOSED
    assert entry.messages == []


# -- refusing writes: never acknowledge and then lose ------------------------------------------------------
def _fill_disk(store: Inbox) -> None:
    pages = store._conn.execute("PRAGMA page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA max_page_count = {pages}")


def test_disk_full_refuses_put(inbox: Inbox) -> None:
    inbox.put("before", b"small", board=H1)
    _fill_disk(inbox)
    with pytest.raises(StoreUnavailable) as info:
        inbox.put("big", os.urandom(200_000), board=H2)
    assert info.value.status == 503
    assert [i for _, i, _ in inbox.items()] == ["before"]
    assert inbox.board(H2) is None
    # the connection is not left inside a broken transaction: once space is back, writes work
    inbox._conn.execute("PRAGMA max_page_count = 1073741823")
    inbox.put("after", os.urandom(200_000))
    assert [i for _, i, _ in inbox.items()] == ["before", "after"]


def test_disk_full_refuses_board_writes(inbox: Inbox) -> None:
    inbox.put("before", b"small", board=H1)
    _fill_disk(inbox)
    with pytest.raises(StoreUnavailable):
        inbox.post_message(H1, "m" * 100_000)
    entry = inbox.board(H1)
    assert entry is not None
    assert entry.messages == []


def test_read_only_refuses_every_write(inbox: Inbox) -> None:
    inbox.put("before", b"small", board=H1)
    inbox._conn.execute("PRAGMA query_only = ON")  # what a read-only mount does (tests run as root)
    with pytest.raises(StoreUnavailable):
        inbox.put("new", b"x")
    with pytest.raises(StoreUnavailable):
        inbox.set_status(H1, BoardStatus.CLOSED)
    with pytest.raises(StoreUnavailable):
        inbox.post_message(H1, "reply")
    with pytest.raises(StoreUnavailable):
        inbox.delete(["before"])
    assert [i for _, i, _ in inbox.items()] == ["before"]
    entry = inbox.board(H1)
    assert entry is not None
    assert entry.status is BoardStatus.RECEIVED


def test_accept_report_on_full_disk_acknowledges_nothing(node: Node, service: IntakeService) -> None:
    _fill_disk(service.inbox)
    report = Report(channel=Channel.WEB, description="synthetic: " + "long words " * 1500)
    with pytest.raises(StoreUnavailable):
        accept_report(service, report)
    assert service.inbox.count() == 0


# -- raw bytes: nothing a worker wrote is readable on disk ------------------------------------------------------
WORDS = ["Quokkafrobnicate", "Zanzibarquux", "Glimmerwick", "Xiomara", "拖欠工资三个月", "宿舍漏水"]
PHONE = "+86 139 1234 5678"
PHONE_DIGITS = ["13912345678", "8613912345678", "139 1234 5678"]


def _needles(receipts: list[str]) -> list[bytes]:
    out: list[bytes] = []
    for word in WORDS:
        out += [word.encode("utf-8"), word.encode("utf-16-le"), word.encode("utf-16-be")]
    for digits in PHONE_DIGITS:
        out += [digits.encode("ascii"), digits.encode("utf-16-le")]
    for code in receipts:
        out += [code.encode("ascii"), format_receipt(code).encode("ascii")]  # type: ignore[arg-type]
    return out


def _scan(home: Path, needles: list[bytes]) -> list[str]:
    files = sorted(p for p in home.iterdir() if p.is_file())
    names = {p.name for p in files}
    assert "inbox.db" in names
    assert "cases.db" in names
    found = []
    for path in files:
        raw = path.read_bytes()
        found += [f"{path.name}: {n!r}" for n in needles if n in raw]
    return found


def test_raw_bytes_hold_no_words_phone_or_receipt(node: Node, service: IntakeService) -> None:
    report = Report(
        channel=Channel.WEB,
        factory="Glimmerwick Electronics No. 2",
        location="Zanzibarquux district",
        description="Quokkafrobnicate: 拖欠工资三个月, 宿舍漏水. Supervisor Xiomara shouted at us.",
        categories=["wages", "dormitory", "harassment"],
        name="Xiomara Testperson",
        phone=PHONE,
        contact_ok=True,
        consent=1,
    )
    receipt = accept_report(service, report)
    accept_followup(service, receipt, FollowUp(channel=Channel.WEB, text="Quokkafrobnicate again, 宿舍漏水"))
    needles = _needles([receipt])

    wal = node.home / "inbox.db-wal"
    assert wal.exists()  # the intake is running: the sealed item sits in the WAL right now
    assert _scan(node.home, needles) == []

    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        result = drain(inbox, cases, node.keys)
        assert (result.cases, result.followups, result.unreadable) == (1, 1, 0)
        # the words really did arrive (so the scan below is not vacuous)
        case = cases.get_case(result.case_ids[0])
        assert "Quokkafrobnicate" in case.description
        assert "Glimmerwick" in case.factory
        assert case.has_contact
        assert [f.text for f in case.followups] == ["Quokkafrobnicate again, 宿舍漏水"]
        assert (node.home / "cases.db-wal").exists()
        assert _scan(node.home, needles) == []  # while both stores are open, WAL files included
    finally:
        inbox.close()
        cases.close()
    service.inbox.close()
    assert _scan(node.home, needles) == []  # after checkpointing into the main files
    service.inbox = open_inbox(node.settings)  # so the fixture can close it


def test_sealed_item_in_inbox_is_not_json(node: Node, service: IntakeService) -> None:
    accept_report(service, Report(channel=Channel.API, description="synthetic words"))
    [(_, _, blob)] = service.inbox.items()
    with pytest.raises((ValueError, UnicodeDecodeError)):
        json.loads(blob)
    assert b"synthetic" not in blob


# -- group commit ---------------------------------------------------------------------------------


def test_concurrent_puts_are_all_stored_and_batched(inbox: Inbox) -> None:
    import threading

    commits = []
    inbox._conn.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)
    barrier = threading.Barrier(16)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(20):
            inbox.put(f"g{n}-{i}", os.urandom(300))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    inbox._conn.set_trace_callback(None)
    assert inbox.count() == 320
    assert len(commits) < 320, "16 writers at once share commits"


def test_a_failing_write_does_not_fail_its_batch_mates(inbox: Inbox) -> None:
    import threading

    inbox.put("dup", b"first")
    gate = threading.Event()
    results: dict[str, object] = {}

    # Hold the writer busy so the next puts queue up and run in one batch.
    def slow(conn: Connection) -> None:
        gate.wait(5)

    blocker = threading.Thread(target=inbox._grouped, args=(slow,))
    blocker.start()

    def put(item_id: str) -> None:
        try:
            inbox.put(item_id, b"x")
            results[item_id] = "ok"
        except StoreUnavailable as exc:
            results[item_id] = exc

    threads = [threading.Thread(target=put, args=(i,)) for i in ("a", "dup", "b")]
    for t in threads:
        t.start()
    gate.set()
    for t in [blocker, *threads]:
        t.join(10)
    assert results["a"] == "ok" and results["b"] == "ok"
    assert isinstance(results["dup"], StoreUnavailable)
    assert {i for _, i, _ in inbox.items()} == {"dup", "a", "b"}
    assert [b for _, i, b in inbox.items() if i == "dup"] == [b"first"]


def test_a_batch_takes_savepoints_only_when_a_write_fails(inbox: Inbox) -> None:
    # A savepoint per job makes SQLite journal every page the job touches (issue 14): a batch
    # whose writes all succeed runs as one plain transaction; one that fails is run again, job by job.
    import threading

    statements: list[str] = []
    inbox._conn.set_trace_callback(statements.append)
    barrier = threading.Barrier(8)

    def worker(n: int) -> None:
        barrier.wait()
        for i in range(10):
            inbox.put(f"s{n}-{i}", os.urandom(300), board=ReceiptHash(os.urandom(32)))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert inbox.count() == 80
    assert statements.count("COMMIT") < 80  # batched
    assert not [s for s in statements if "SAVEPOINT" in s]

    inbox.put("dup", b"first")
    with pytest.raises(StoreUnavailable):
        inbox.put("dup", b"again")
    inbox._conn.set_trace_callback(None)
    assert "SAVEPOINT job" in statements
    assert [b for _, i, b in inbox.items(limit=1000) if i == "dup"] == [b"first"]


def test_closed_inbox_refuses_writes(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n")
    store = open_inbox(node.settings)
    store.put("one", b"x")
    store.close()
    with pytest.raises(StoreUnavailable):
        store.put("two", b"y")


def test_transaction_commits_or_rolls_back_whole(tmp_path: Path) -> None:
    from intake.store.db import transaction

    node = make_node(tmp_path / "n")
    store = open_cases(node.settings, node.keys)
    try:
        with pytest.raises(RuntimeError), store.transaction() as conn:
            conn.execute("INSERT INTO notes (case_id, at, user, text) SELECT 1, 'x', 'u', 't' WHERE 0")
            conn.execute("CREATE TABLE scratch (x)")
            raise RuntimeError("half way")
        assert store._conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'scratch'").fetchone()[0] == 0
        with store.transaction() as conn:
            conn.execute("CREATE TABLE scratch (x)")
        assert store._conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'scratch'").fetchone()[0] == 1
        assert not store._conn.in_transaction
        with pytest.raises(RuntimeError), transaction(store._conn):  # already rolled back inside: no second error
            store._conn.execute("ROLLBACK")
            raise RuntimeError("after a rollback SQLite did itself")
    finally:
        store.close()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT at, user, text FROM notes WHERE case_id = ? ORDER BY id",
        "SELECT at, user, text, sms FROM replies WHERE case_id = ? ORDER BY id",
        "SELECT received_at, channel, text FROM followups WHERE case_id = ? ORDER BY id",
    ],
)
def test_a_case_page_reads_only_its_own_rows(tmp_path: Path, sql: str) -> None:
    """Each per-case read of the case page is an index search, not a scan of every case's rows (a
    scan took 299 ms at 1,000,000 cases)."""
    with closing(CasesStore(tmp_path / "cases.db", KEY, create=True)) as store:
        plan = " ".join(str(row[-1]) for row in store._conn.execute("EXPLAIN QUERY PLAN " + sql, (1,)))
    assert "USING INDEX" in plan or "USING COVERING INDEX" in plan, plan
    assert "SCAN" not in plan and "TEMP B-TREE" not in plan, plan
