"""Backup and restore of a node: one file, openable on a new machine with a passphrase alone.

Layout of a backup file::

    intake-backup/1\\n                  magic
    {"node_id": ..., ...}\\n           header: one JSON line (sizes of the next two parts)
    keyring.json                      in clear: public keys and the passphrase-wrapped master
    sealed payload                    crypto.seal_item(archive) to the node's X25519 key
    MAC (32 bytes)                    HMAC-SHA256 under keys.key("intake/v1/backup") over all above
    checksum (32 bytes)               SHA-256 over all above: damage shows without a passphrase

The archive inside the sealed payload holds a manifest, a consistent copy of ``cases.db`` (still
SQLCipher-encrypted with the node's cases key), ``intake.key``, and when present a copy of
``inbox.db`` and ``settings.toml``. The copies are made with SQLite's online backup API into a
temporary SQLCipher database in the node folder (0700), keyed like the original, so a running
intake or desk may keep writing and no plaintext page ever touches the disk. Each copy is read
whole (``PRAGMA quick_check``) before it goes in: a damaged store makes no backup (StoreDamaged),
so it never replaces an older good one.

Why the keyring is in clear: the sealed payload opens only with the node's X25519 private key,
which is derived from the master, which is in the keyring wrapped under each user's passphrase.
The keyring is what ``keyring.json`` already holds on disk (see docs/threat-model.md#operations):
a backup is as strong as the weakest passphrase in it. The MAC (keyed from the master) makes any
change to the file visible after unlocking; the sealed box alone could be re-made by anyone who
knows the public key.

Restoring (:func:`restore_backup`) checks the checksum, unlocks the keyring with a passphrase,
checks the MAC, opens the payload, writes the files into a staging folder inside the new node
folder, opens ``cases.db`` with the cases key, verifies the audit chain and reads every page of
each store (``quick_check``), and only then moves the files into place. On any failure nothing is
left behind.

Scheduled and unattended backups (intake/backup_schedule.py) use the same format: an unattended one
says ``"mac": "agent"`` and ``"scope": "intake"`` in its header, is MACed under :func:`agent_key`
and holds no ``cases.db``; restoring it gives a node folder without one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlcipher3

from crypto import CannotOpen, Keyring, KeyringError, NodeKeys, open_item, seal_item
from crypto.files import write_private_file
from intake import audit, clock
from intake.backup_record import record_backup
from intake.errors import (
    BackupDamaged,
    BackupError,
    IntakeError,
    RecoveryRefused,
    RestoreRefused,
    StoreDamaged,
    StoreError,
    keyring_errors,
)
from intake.node import IntakeKeys
from intake.settings import Settings
from intake.store import cases as cases_store
from intake.store.db import Migration, check_store, open_store
from intake.store.schema import CASES_MIGRATIONS, INBOX_MIGRATIONS

MAGIC = b"intake-backup/1\n"
ARCHIVE_MAGIC = b"intake-backup-archive/1\n"
BACKUP_LABEL = "intake/v1/backup"
# Unattended backups (intake/backup_schedule.py) are MACed under this key instead: derived from the
# master too, written once to backup-agent.key so a timer can make backups without a passphrase.
AGENT_LABEL = "intake/v1/backup-agent"
TAG_BYTES = 32
MAX_HEADER = 4096
NODE_FILES = ("keyring.json", "intake.key", "cases.db", "inbox.db", "settings.toml")


@dataclass(frozen=True)
class BackupContents:
    """What a backup holds: whose node, when it was made, its cases, their audit chain, its files."""

    node_id: str
    created_at: str
    cases: int
    audit: audit.VerifyResult
    files: tuple[str, ...]


@dataclass(frozen=True)
class BackupInfo(BackupContents):
    size: int  # of the backup file, in bytes


@dataclass(frozen=True)
class RestoreResult(BackupContents):
    home: Path


@dataclass(frozen=True)
class ParsedBackup:
    header: dict[str, Any]
    keyring: bytes
    sealed: bytes
    body: bytes = field(repr=False)  # everything the MAC covers
    mac: bytes = field(repr=False)


# -- making a backup -------------------------------------------------------------------------------------
def backup_key(keys: NodeKeys) -> bytes:
    return keys.key(BACKUP_LABEL)


def agent_key(keys: NodeKeys) -> bytes:
    """The MAC key of unattended backups: opens nothing, so it may sit on the machine that makes them."""
    return keys.key(AGENT_LABEL)


def mac_key_for(header: dict[str, Any], keys: NodeKeys) -> bytes:
    """The key a backup with this header was MACed under (``"mac": "agent"``: an unattended one)."""
    return agent_key(keys) if header.get("mac") == "agent" else backup_key(keys)


@contextmanager
def snapshot_db(path: Path, key: bytes, migrations: Sequence[Migration], work_dir: Path) -> Iterator[Path]:
    """A consistent, still encrypted copy of the store at ``path``: a temporary file, gone afterwards.

    The online backup API copies the store as of one read transaction (other connections may keep
    writing) into a temporary SQLCipher file in ``work_dir`` (the node folder, 0700), keyed with the
    same key; SQLCipher refuses to back up into an unencrypted target, so the copy is never in clear
    on disk.
    """
    src = open_store(path, key, migrations)
    fd, name = tempfile.mkstemp(prefix=".backup-", suffix=".db", dir=work_dir)  # 0600
    os.close(fd)
    tmp = Path(name)
    try:
        try:
            target = sqlcipher3.connect(str(tmp), isolation_level=None)
            try:
                target.execute("PRAGMA cipher_log_level = NONE")
                target.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
                target.execute("PRAGMA cipher_memory_security = ON")
                target.execute("PRAGMA temp_store = MEMORY")
                src.backup(target)
            finally:
                target.close()
        except sqlcipher3.Error as exc:
            if type(exc) is sqlcipher3.DatabaseError:  # not Operational (disk full, locked): a page that fails to read
                raise StoreDamaged(path, [str(exc)]) from None
            raise StoreError(f"{path}: cannot copy for the backup ({exc})") from None
        finally:
            src.close()
        yield tmp
    finally:
        for leftover in (tmp, *(tmp.with_name(tmp.name + s) for s in ("-journal", "-wal", "-shm"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()


def _pack(files: list[tuple[str, bytes]]) -> bytes:
    parts = [ARCHIVE_MAGIC]
    for name, data in files:
        raw = name.encode("utf-8")
        parts += [struct.pack(">H", len(raw)), raw, struct.pack(">Q", len(data)), data]
    return b"".join(parts)


def _unpack(archive: bytes) -> dict[str, bytes]:
    if not archive.startswith(ARCHIVE_MAGIC):
        raise BackupDamaged("the backup's content is not an intake archive")
    view, pos, files = memoryview(archive), len(ARCHIVE_MAGIC), {}
    try:
        while pos < len(archive):
            (name_len,) = struct.unpack_from(">H", archive, pos)
            pos += 2
            name = bytes(view[pos : pos + name_len]).decode("utf-8")
            pos += name_len
            (size,) = struct.unpack_from(">Q", archive, pos)
            pos += 8
            if pos + size > len(archive) or name in files:
                raise ValueError
            files[name] = bytes(view[pos : pos + size])
            pos += size
    except (struct.error, UnicodeDecodeError, ValueError):
        raise BackupDamaged("the backup's content is malformed") from None
    return files


def make_backup(settings: Settings, keys: NodeKeys) -> tuple[bytes, BackupInfo]:
    """The backup of the node at ``settings.home`` as bytes, and what it holds."""
    home = settings.home
    keyring = settings.keyring_path.read_bytes()
    ring = Keyring.load(settings.keyring_path)
    if ring.node_id != keys.node_id:
        raise BackupError("the keyring does not belong to the unlocked node")
    with snapshot_db(settings.cases_path, keys.cases_db_key, CASES_MIGRATIONS, home) as copy:
        _check_copy(copy, keys.cases_db_key, settings.cases_path)
        count, chain = _count_and_verify(copy, keys)  # the copy opens with the cases key; its chain
        cases_db = copy.read_bytes()
    files: list[tuple[str, bytes]] = [("cases.db", cases_db), ("intake.key", settings.intake_key_path.read_bytes())]
    if settings.inbox_path.is_file():
        inbox_key = IntakeKeys.load(settings.intake_key_path).inbox_db.reveal()
        with snapshot_db(settings.inbox_path, inbox_key, INBOX_MIGRATIONS, home) as copy:
            _check_copy(copy, inbox_key, settings.inbox_path)
            files.append(("inbox.db", copy.read_bytes()))
    if settings.settings_path.is_file():
        files.append(("settings.toml", settings.settings_path.read_bytes()))
    created = clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")
    manifest = {
        "node_id": keys.node_id,
        "created_at": created,
        "files": [n for n, _ in files],
        "cases": count,
        "audit": {"entries": chain.entries, "head": chain.head.hex()},
    }
    archive = _pack([("manifest.json", json.dumps(manifest).encode()), *files])
    sealed = seal_item(archive, to=ring.public_key)
    header = {"node_id": keys.node_id, "created_at": created, "keyring": len(keyring), "sealed": len(sealed)}
    body = MAGIC + json.dumps(header, separators=(",", ":")).encode() + b"\n" + keyring + sealed
    mac = hmac.new(backup_key(keys), body, hashlib.sha256).digest()
    data = body + mac + hashlib.sha256(body + mac).digest()
    names = tuple(["keyring.json", *(n for n, _ in files)])
    return data, BackupInfo(keys.node_id, created, count, chain, names, size=len(data))


def _check_copy(copy: Path, key: bytes, source: Path) -> None:
    """Every page of the copy, read once (quick_check): a damaged store makes no backup, so a
    damaged copy never replaces an older good backup at the same path (issue 14)."""
    problems = check_store(copy, key)
    if problems:
        raise StoreDamaged(source, problems)


def _count_and_verify(path: Path, keys: NodeKeys) -> tuple[int, audit.VerifyResult]:
    store = cases_store.CasesStore(path, keys.cases_db_key)
    try:
        return store.count(), audit.AuditLog(store, keys).verify()
    finally:
        store.close()


def check_destination(dest: Path) -> None:
    """A backup may replace an older backup, never anything else (a typo must not eat cases.db)."""
    if dest.exists() or dest.is_symlink():
        ok = dest.is_file() and not dest.is_symlink()
        if ok:
            with dest.open("rb") as fh:
                ok = fh.read(len(MAGIC)) == MAGIC
        if not ok:
            raise BackupError(f"{dest} exists and is not an intake backup; refusing to overwrite it")


def write_backup(settings: Settings, keys: NodeKeys, dest: Path) -> BackupInfo:
    """Write the backup to ``dest`` atomically, mode 0600. Replaces only an older backup."""
    dest = Path(dest)
    check_destination(dest)
    data, info = make_backup(settings, keys)
    write_private_file(dest, data)
    record_backup(settings.home, info.created_at)  # for `intake doctor` (intake/backup_record.py)
    return info


# -- reading and restoring -----------------------------------------------------------------------------
def parse_backup(data: bytes) -> ParsedBackup:
    """Split a backup file into its parts; checks everything that needs no passphrase."""
    if not data.startswith(MAGIC):
        raise BackupDamaged("not an intake backup (wrong magic)")
    if len(data) < len(MAGIC) + 2 * TAG_BYTES + 2:
        raise BackupDamaged("the backup is truncated or damaged")
    body_mac, checksum = data[:-TAG_BYTES], data[-TAG_BYTES:]
    if not hmac.compare_digest(hashlib.sha256(body_mac).digest(), checksum):
        raise BackupDamaged("the backup is truncated or damaged (checksum mismatch)")
    body, mac = body_mac[:-TAG_BYTES], body_mac[-TAG_BYTES:]
    end = body.find(b"\n", len(MAGIC), len(MAGIC) + MAX_HEADER)
    if end < 0:
        raise BackupDamaged("the backup's header is malformed")
    try:
        header = json.loads(body[len(MAGIC) : end])
        n_ring, n_sealed = int(header["keyring"]), int(header["sealed"])
        str(header["node_id"])
    except (ValueError, KeyError, TypeError):
        raise BackupDamaged("the backup's header is malformed") from None
    start = end + 1
    if not isinstance(header, dict) or n_ring <= 0 or n_sealed <= 0 or start + n_ring + n_sealed != len(body):
        raise BackupDamaged("the backup's header does not match its size")
    return ParsedBackup(header, body[start : start + n_ring], body[start + n_ring :], body, mac)


def check_target(home: Path) -> None:
    """Refuse a folder that holds (part of) a node already."""
    found = [n for n in NODE_FILES if (home / n).exists()]
    if found:
        refused = RestoreRefused(f"{home} already holds a node ({', '.join(found)}); restore into a new folder")
        refused.files = tuple(found)
        raise refused


def restore_backup(data: bytes, home: Path, *, user: str | None, passphrase: str) -> RestoreResult:
    """Restore a backup into ``home`` (new or without a node). Raises before writing anything lasting.

    ``crypto.WrongPassphrase`` for a wrong user or passphrase; :class:`BackupDamaged` for a file that
    is not a backup, truncated, damaged or altered; :class:`RestoreRefused` when ``home`` holds a node.
    A broken audit chain does not stop the restore (the data must not be held hostage by it): the
    result says so and the caller reports it.
    """
    return _restore(data, home, lambda ring: ring.unlock(user or ring.default_user(), passphrase))


def restore_with_master(
    data: bytes, home: Path, master: bytes, *, user: str | None, new_passphrase: str, profile: str
) -> RestoreResult:
    """:func:`restore_backup` with the master secret from a recovery kit instead of a passphrase
    (``intake keys recover``, crypto/escrow.py): the same checks, and before anything is moved into
    place, ``user`` (default: the keyring's first) gets ``new_passphrase`` (added as a coordinator if
    the backup has no such user). :class:`RecoveryRefused` when the master is not this backup's node's.
    """
    chosen: list[str] = []

    def keys_of(ring: Keyring) -> NodeKeys:
        chosen.append(user or ring.default_user())
        try:
            return ring.keys_from_master(master, chosen[0])
        except KeyringError:
            raise RecoveryRefused("the recovery kit belongs to another node than this backup") from None

    def new_user(ring: Keyring, keys: NodeKeys) -> None:
        with keyring_errors():
            ring.set_passphrase(keys, chosen[0], new_passphrase, profile=profile)

    return _restore(data, home, keys_of, before_moving=new_user)


def _restore(
    data: bytes,
    home: Path,
    keys_of: Callable[[Keyring], NodeKeys],
    *,
    before_moving: Callable[[Keyring, NodeKeys], None] | None = None,
) -> RestoreResult:
    home = Path(home).expanduser()
    parsed = parse_backup(data)
    check_target(home)
    created_home = not home.exists()
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    staging = Path(tempfile.mkdtemp(prefix=".restore-", dir=home))
    moved: list[Path] = []
    try:
        keyring_tmp = staging / "keyring.json"
        write_private_file(keyring_tmp, parsed.keyring)
        try:
            ring = Keyring.load(keyring_tmp)
        except KeyringError:
            raise BackupDamaged("the backup's keyring is damaged") from None
        if ring.node_id != parsed.header["node_id"]:
            raise BackupDamaged("the backup was altered (node id)")
        try:
            keys = keys_of(ring)
        except KeyringError:  # the public keys do not match the master (WrongPassphrase passes through)
            raise BackupDamaged("the backup's keyring was altered") from None
        expected = hmac.new(mac_key_for(parsed.header, keys), parsed.body, hashlib.sha256).digest()
        if not hmac.compare_digest(expected, parsed.mac):
            raise BackupDamaged("the backup was altered after it was made")
        try:
            files = _unpack(open_item(parsed.sealed, keys.identity))
        except CannotOpen:
            raise BackupDamaged("the backup's sealed content cannot be opened") from None
        manifest = _manifest(files, keys.node_id)
        for name in manifest["files"]:
            write_private_file(staging / name, files[name])
        try:
            stores = [("cases.db", keys.cases_db_key)] if "cases.db" in manifest["files"] else []
            if "inbox.db" in files:
                stores.append(("inbox.db", IntakeKeys.load(staging / "intake.key").inbox_db.reveal()))
            # Every page read once, first: a restored node is known to be sound, not assumed, and
            # counting or verifying a damaged store would fail halfway with SQLite's own error.
            for name, key in stores:
                if problems := check_store(staging / name, key):
                    raise BackupDamaged(f"{name} in the backup is damaged ({problems[0]})")
            count, chain = 0, audit.VerifyResult(ok=True, entries=0, first_bad=None, reason="")
            if "cases.db" in manifest["files"]:  # an unattended backup holds the intake's part only
                count, chain = _count_and_verify(staging / "cases.db", keys)
            if "inbox.db" in files:
                open_store(staging / "inbox.db", stores[-1][1], INBOX_MIGRATIONS).close()
        except BackupDamaged:
            raise
        except IntakeError as exc:
            raise BackupDamaged(f"a store in the backup does not open ({exc.detail or exc.code})") from None
        if before_moving is not None:  # on the staged keyring: nothing is in place yet
            before_moving(ring, keys)
        os.chmod(home, 0o700)
        # keyring.json last: until it is in place the folder does not count as a node
        for name in [*manifest["files"], "keyring.json"]:
            os.link(staging / name, home / name)  # never replaces a file that appeared meanwhile
            moved.append(home / name)
        _fsync_dir(home)
    except BaseException:
        for path in moved:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        shutil.rmtree(staging, ignore_errors=True)
        if created_home:
            with contextlib.suppress(OSError):
                home.rmdir()
        raise
    shutil.rmtree(staging, ignore_errors=True)
    with contextlib.suppress(OSError):  # the restored state is that backup (intake/backup_record.py)
        record_backup(home, str(manifest["created_at"]))
    names = tuple(["keyring.json", *manifest["files"]])
    return RestoreResult(keys.node_id, str(manifest["created_at"]), count, chain, names, home=home)


def _manifest(files: dict[str, bytes], node_id: str) -> dict[str, Any]:
    try:
        manifest = json.loads(files["manifest.json"])
        names = manifest["files"]
        ok = (
            manifest["node_id"] == node_id
            and isinstance(names, list)
            and ("cases.db" in names or manifest.get("scope") == "intake")
            and "intake.key" in names
            and all(n in NODE_FILES and n != "keyring.json" and n in files for n in names)
            and len(set(names)) == len(names)
        )
    except (KeyError, ValueError, TypeError):
        ok = False
    if not ok:
        raise BackupDamaged("the backup's manifest is malformed")
    return dict(manifest)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
