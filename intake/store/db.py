"""Opening a SQLCipher store: raw key, pragmas, migrations, and errors that name the file.

- The key is a raw 256-bit key (``PRAGMA key = "x'..'"``), so SQLCipher's own PBKDF2 over a
  passphrase is never the weak link; our keys come from Argon2id or from a random key file.
- ``temp_store = MEMORY``: sorts and temporary tables never spill readable pages to /tmp.
- ``secure_delete = ON``: deleted rows (drained items, shredded contacts) are overwritten.
- WAL for concurrent readers; ``synchronous = FULL`` where an acknowledged write must survive
  power loss (the inbox).
- Opening reads the schema only, in constant time: a wrong key, a file that is not a store and a
  truncated one fail there. Reading every page (``check_store``, ``Store.check``) is its own step:
  ``intake check``, ``intake backup`` and the desk's background check after an unlock (issue 14).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar, Literal, TypeAlias

import sqlcipher3

from intake.errors import StoreError

Connection: TypeAlias = Any  # sqlcipher3.Connection; the module ships no type information
DatabaseError = sqlcipher3.DatabaseError
OperationalError = sqlcipher3.OperationalError
IntegrityError = sqlcipher3.IntegrityError

Migration = Sequence[str]


def open_store(
    path: Path,
    key: bytes,
    migrations: Sequence[Migration],
    *,
    synchronous: Literal["FULL", "NORMAL"] = "FULL",
    create: bool = False,
    upto: int | None = None,
) -> Connection:
    """Open (or with ``create``, make) the store at ``path`` and bring its schema up to date.

    ``upto`` stops at an earlier schema version (used by the migration tests).
    """
    path = Path(path)
    if len(key) != 32:
        raise StoreError(f"{path}: store keys are 32 bytes")
    if not create and not path.is_file():
        raise StoreError(f"{path}: no such store; run 'intake init' first")
    if not create and path.stat().st_size == 0:
        # SQLite would treat an emptied (truncated to nothing) store as a new one and silently
        # migrate it: every item in it would be gone without a word.
        raise StoreError(f"{path}: the store file is empty (truncated or damaged)")
    _private(path, create=create)
    conn = _connect(path, key)
    try:
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, migrations, upto=upto)
        # No integrity check here: it reads and decrypts every page (seconds per 100,000 cases) and
        # every login and command would wait for it. It is its own step: check_store (issue 14).
    except sqlcipher3.Error as exc:
        conn.close()
        raise StoreError(f"{path}: cannot open: wrong key, not an intake store, or damaged ({exc})") from None
    except StoreError as exc:  # e.g. a schema newer than this release: close, and name the file
        conn.close()
        raise StoreError(f"{path}: {exc.detail}") from None
    return conn


def _connect(path: Path, key: bytes) -> Connection:
    """A keyed connection whose first read succeeded; nothing written, nothing migrated.

    Reading the schema is the first access that needs the key: a wrong key, a file that is not a
    database and a truncated header all fail here (and a file cut short of the size its header
    records fails as SQLITE_CORRUPT, without reading the rest). Constant time, whatever the size.
    """
    try:
        conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
    except sqlcipher3.Error as exc:
        raise StoreError(f"{path}: cannot open ({exc})") from None
    try:
        # SQLCipher's own log writes "ERROR CORE ..." lines to stderr on a wrong key; our error says it once.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_memory_security = ON")
        conn.execute("PRAGMA temp_store = MEMORY")  # integrity_check sorts too: never to /tmp
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except sqlcipher3.Error as exc:
        conn.close()
        raise StoreError(f"{path}: cannot open: wrong key, not an intake store, or damaged ({exc})") from None
    return conn


def _private(path: Path, *, create: bool) -> None:
    """Make the store file 0600 before SQLite opens it: SQLite gives its -wal and -shm files the
    main file's mode, so those are 0600 too. The folder is 0700 already; this is defence in depth
    for a folder copied, shared or restored with looser modes (docs/threat-model.md#seizure)."""
    try:
        if create and not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        elif path.stat().st_mode & 0o077:
            os.chmod(path, 0o600)
            for side in ("-wal", "-shm"):
                with contextlib.suppress(FileNotFoundError):
                    os.chmod(f"{path}{side}", 0o600)
    except FileExistsError:
        pass  # another process made it a moment ago, with the same mode
    except OSError as exc:
        raise StoreError(f"{path}: cannot make the store private ({exc.strerror})") from None


@contextmanager
def transaction(conn: Connection) -> Iterator[Connection]:
    """A write transaction: BEGIN IMMEDIATE, COMMIT on success, ROLLBACK on any exception.

    The one place the project opens a write transaction on a store (callers hold the store's lock).
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        with contextlib.suppress(sqlcipher3.Error):  # SQLite may have rolled back already (disk full)
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def schema_version(conn: Connection) -> int:
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT max(version) FROM schema_version").fetchone()
    return int(row[0] or 0)


def migrate(conn: Connection, migrations: Sequence[Migration], *, upto: int | None = None) -> int:
    """Apply numbered migrations (1-based, in order), each in its own transaction."""
    current = schema_version(conn)
    target = len(migrations) if upto is None else upto
    if current > len(migrations):
        raise StoreError(f"store schema version {current} is newer than this release knows ({len(migrations)})")
    for number in range(current + 1, target + 1):
        with transaction(conn):
            for statement in migrations[number - 1]:
                conn.execute(statement)
            conn.execute("INSERT INTO schema_version (version) VALUES (?)", (number,))
    return target


# -- integrity: its own step, never on the path of an open (issue 14) ---------------------------------
CHECK_LIMIT = 20  # problems reported per store: the first ones say what is wrong and where
PROGRESS_STEPS = 1_000  # SQLite calls the progress handler inside integrity checks too (3.44+)


def check_integrity(conn: Connection, *, full: bool = False) -> list[str]:
    """What ``PRAGMA quick_check`` (with ``full``: ``integrity_check``) finds wrong; [] when sound.

    Reads and decrypts every page (SQLCipher checks each page's HMAC as it reads it), so it takes
    seconds per 100,000 cases. ``integrity_check`` also checks that every index matches its table.
    A page that fails its HMAC may make SQLite give up with an error instead of a list: that error
    is the one problem then.
    """
    pragma = "integrity_check" if full else "quick_check"
    try:
        rows = conn.execute(f"PRAGMA {pragma}({CHECK_LIMIT})").fetchall()
    except sqlcipher3.Error as exc:
        return [str(exc) or type(exc).__name__]
    if [tuple(r) for r in rows] == [("ok",)]:
        return []
    lines = [line.strip() for row in rows for line in str(row[0]).splitlines()]
    problems = [line for line in lines if line and not line.startswith("*** in database")]
    return problems[:CHECK_LIMIT] or [f"{pragma} gave no answer"]


def check_store(path: Path, key: bytes, *, full: bool = False, stop: Callable[[], bool] | None = None) -> list[str]:
    """:func:`check_integrity` of the store at ``path`` on a connection of its own, read only.

    Its own connection: in WAL mode a check of a big store holds no lock that writers wait for, and
    whoever uses the store meanwhile (the desk, a drain) is not queued behind it. Raises
    :class:`StoreError` (naming the file) when the store does not open at all, or when ``stop``
    (asked every few thousand steps of the check) said to stop.
    """
    path = Path(path)
    if not path.is_file():
        raise StoreError(f"{path}: no such store; run 'intake init' first")
    if path.stat().st_size == 0:
        raise StoreError(f"{path}: the store file is empty (truncated or damaged)")
    conn = _connect(path, key)
    try:
        conn.execute("PRAGMA query_only = ON")
        if stop is not None:
            conn.set_progress_handler(lambda: 1 if stop() else 0, PROGRESS_STEPS)
        problems = check_integrity(conn, full=full)
    finally:
        conn.close()
    if stop is not None and stop():
        raise StoreError(f"{path}: the check was stopped (the store was closed)")
    return problems


class Store:
    """One SQLCipher store: one connection, and the lock every use of it takes.

    Each store (cases.db, inbox.db, the partner's inbox.db and partner.db) names its migrations;
    opening brings the schema up to date, ``close`` waits for whoever holds the lock.
    """

    MIGRATIONS: ClassVar[Sequence[Migration]] = ()

    def __init__(self, path: Path, key: bytes, *, create: bool = False) -> None:
        self.path = Path(path)
        self._conn: Connection = open_store(self.path, key, self.MIGRATIONS, synchronous="FULL", create=create)
        self._lock = threading.Lock()
        self._key = key  # for check(): the connection holds it anyway, and so do the caller's keys
        self._closing = threading.Event()

    def close(self) -> None:
        self._closing.set()  # first: a check() under way stops within moments (a desk lock)
        with self._lock:
            self._conn.close()

    @property
    def closed(self) -> bool:
        return self._closing.is_set()

    def check(self, *, full: bool = False) -> list[str]:
        """:func:`check_store` of this store's file: [] when sound, else what is wrong.

        On a second, read-only connection, so a check (seconds to minutes on a big store) never
        holds this store's lock: the desk and drains go on meanwhile. Closing the store stops it
        (StoreError): a locked desk keeps no key in a check that runs on for a minute.
        """
        return check_store(self.path, self._key, full=full, stop=self._closing.is_set)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The store's connection in one write transaction, under the store's lock."""
        with self._lock, transaction(self._conn) as conn:
            yield conn

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """The store's connection for reads, under the store's lock (no transaction is begun)."""
        with self._lock:
            yield self._conn
