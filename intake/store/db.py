"""Opening a SQLCipher store: raw key, pragmas, migrations, and errors that name the file.

- The key is a raw 256-bit key (``PRAGMA key = "x'..'"``), so SQLCipher's own PBKDF2 over a
  passphrase is never the weak link; our keys come from Argon2id or from a random key file.
- ``temp_store = MEMORY``: sorts and temporary tables never spill readable pages to /tmp.
- ``secure_delete = ON``: deleted rows (drained items, shredded contacts) are overwritten.
- WAL for concurrent readers; ``synchronous = FULL`` where an acknowledged write must survive
  power loss (the inbox).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator, Sequence
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
    try:
        conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
    except sqlcipher3.Error as exc:
        raise StoreError(f"{path}: cannot open ({exc})") from None
    try:
        # SQLCipher's own log writes "ERROR CORE ..." lines to stderr on a wrong key; our error says it once.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
        conn.execute("PRAGMA cipher_memory_security = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        # Reading the schema is the first access that needs the key: a wrong key, a file that is
        # not a database and a truncated header all fail here.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute("PRAGMA foreign_keys = ON")
        migrate(conn, migrations, upto=upto)
        quick = conn.execute("PRAGMA quick_check").fetchone()
        if quick is None or quick[0] != "ok":
            raise DatabaseError("quick_check failed")
    except sqlcipher3.Error as exc:
        conn.close()
        raise StoreError(f"{path}: cannot open: wrong key, not an intake store, or damaged ({exc})") from None
    except StoreError as exc:  # e.g. a schema newer than this release: close, and name the file
        conn.close()
        raise StoreError(f"{path}: {exc.detail}") from None
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

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """The store's connection in one write transaction, under the store's lock."""
        with self._lock, transaction(self._conn) as conn:
            yield conn
