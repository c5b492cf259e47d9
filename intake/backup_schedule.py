"""Scheduled backups: generations in a folder (or on a USB stick), rotated; and unattended ones.

**Generations.** ``intake backup --to FOLDER --keep N`` writes a new backup file named by its time,
``intake-backup-20250101T020000Z.ibk`` (``-2``, ``-3``... when that second is taken), through a
temporary file and a rename, reads it back (checksum), and only then deletes the oldest generations
of *this node* beyond ``N``. A file counts as a generation only when its name matches that pattern,
it is a regular file (no symlink), it starts with the backup magic and its header names this node:
nothing else in the folder is ever touched. A backup that fails (a damaged store, a full stick)
raises before any deletion, so the older generations stay.

**Unattended backups** (``--unattended``, for a systemd timer). A full backup needs the master:
the cases-store key to copy ``cases.db``, the audit key to verify its chain, the backup key for
the MAC. A timer has no passphrase, and storing one (or the master) beside the node would undo
what the passphrase protects. So an unattended backup holds what the machine can back up without
a passphrase, which on an intake server is everything it has: ``keyring.json`` (as any backup),
``intake.key``, a consistent copy of ``inbox.db`` (its key is in ``intake.key``), and
``settings.toml``; never ``cases.db``. The payload is sealed to the node's public key, as for a
full backup; the MAC is under a key derived from the master for this purpose alone
(:data:`intake.backup.AGENT_LABEL`), written once by ``intake backup --enable-unattended`` (which
asks for a passphrase) to ``backup-agent.key`` (0600). That key opens nothing: a thief of the
machine could forge a backup of the intake's own state (which they hold anyway), a thief of the
backup medium cannot. Restoring needs a passphrase, as for any backup. Trade-offs:
docs/threat-model.md#scheduled-backups.

``last-backup`` (intake/backup_record.py, for ``intake doctor``) is written by an unattended backup
only on a node without ``cases.db``: where cases live, only a full backup counts.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import os
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from crypto import Keyring, NodeKeys, seal_item
from crypto.files import write_private_file
from intake import audit, clock
from intake.backup import (
    MAGIC,
    MAX_HEADER,
    BackupInfo,
    _check_copy,
    _pack,
    agent_key,
    make_backup,
    parse_backup,
    snapshot_db,
)
from intake.backup_record import record_backup
from intake.errors import BackupError
from intake.node import IntakeKeys, read_key_file, write_key_file
from intake.settings import Settings
from intake.store.schema import INBOX_MIGRATIONS

GENERATION = re.compile(r"^intake-backup-(\d{8}T\d{6}Z)(?:-(\d{1,4}))?\.ibk$")
AGENT_FILE = "backup-agent.key"
AGENT_VERSION = 1
MAX_KEEP = 1000


@dataclass(frozen=True)
class Generation:
    path: Path
    stamp: str  # YYYYMMDDTHHMMSSZ, from the name
    seq: int  # 1 for the first backup of that second

    @property
    def order(self) -> tuple[str, int]:
        return (self.stamp, self.seq)


@dataclass(frozen=True)
class ScheduledBackup:
    path: Path
    info: BackupInfo
    unattended: bool
    kept: tuple[Path, ...]  # every generation of this node left in the folder, newest first
    deleted: tuple[Path, ...]


# -- the agent key: what a timer holds instead of a passphrase --------------------------------------------
def agent_path(settings: Settings) -> Path:
    return settings.home / AGENT_FILE


def enable_unattended(settings: Settings, keys: NodeKeys) -> Path:
    """Write ``backup-agent.key`` (0600) from the unlocked node's master; returns its path."""
    path = agent_path(settings)
    write_key_file(path, AGENT_VERSION, {"mac": agent_key(keys)})
    return path


def load_agent_key(settings: Settings) -> bytes:
    """The agent key; :class:`intake.errors.NodeError` (naming the command) when it is missing."""
    keys = read_key_file(
        agent_path(settings), AGENT_VERSION, ("mac",), what="backup agent key", init="intake backup --enable-unattended"
    )
    return keys["mac"]


# -- an unattended backup ---------------------------------------------------------------------------------
def make_unattended_backup(settings: Settings, mac_key: bytes) -> tuple[bytes, BackupInfo]:
    """A backup of the intake's part of the node (no ``cases.db``), made without any passphrase."""
    home = settings.home
    keyring = settings.keyring_path.read_bytes()
    ring = Keyring.load(settings.keyring_path)
    files: list[tuple[str, bytes]] = [("intake.key", settings.intake_key_path.read_bytes())]
    if settings.inbox_path.is_file():
        inbox_key = IntakeKeys.load(settings.intake_key_path).inbox_db.reveal()
        with snapshot_db(settings.inbox_path, inbox_key, INBOX_MIGRATIONS, home) as copy:
            _check_copy(copy, inbox_key, settings.inbox_path)
            files.append(("inbox.db", copy.read_bytes()))
    if settings.settings_path.is_file():
        files.append(("settings.toml", settings.settings_path.read_bytes()))
    created = clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")
    names = [n for n, _ in files]
    manifest = {"node_id": ring.node_id, "created_at": created, "files": names, "cases": 0, "scope": "intake"}
    archive = _pack([("manifest.json", json.dumps(manifest).encode()), *files])
    sealed = seal_item(archive, to=ring.public_key)
    header = {
        "node_id": ring.node_id,
        "created_at": created,
        "keyring": len(keyring),
        "sealed": len(sealed),
        "mac": "agent",
        "scope": "intake",
    }
    body = MAGIC + json.dumps(header, separators=(",", ":")).encode() + b"\n" + keyring + sealed
    mac = hmac.new(mac_key, body, hashlib.sha256).digest()
    data = body + mac + hashlib.sha256(body + mac).digest()
    empty = audit.VerifyResult(ok=True, entries=0, first_bad=None, reason="no case store in this backup")
    info = BackupInfo(ring.node_id, created, 0, empty, ("keyring.json", *names), size=len(data))
    return data, info


# -- generations in a folder ------------------------------------------------------------------------------
def node_of(path: Path) -> str | None:
    """The node id in a backup file's header; None for anything that is not an intake backup."""
    try:
        if path.is_symlink() or not path.is_file():
            return None
        with path.open("rb") as fh:
            head = fh.read(len(MAGIC) + MAX_HEADER)
    except OSError:
        return None
    if not head.startswith(MAGIC):
        return None
    end = head.find(b"\n", len(MAGIC))
    try:
        header = json.loads(head[len(MAGIC) : end]) if end > 0 else None
        return str(header["node_id"]) if isinstance(header, dict) else None
    except (ValueError, KeyError, TypeError):
        return None


def generations(folder: Path, node_id: str) -> list[Generation]:
    """This node's backups in ``folder`` made by :func:`write_generation`, newest first."""
    found = []
    for entry in Path(folder).iterdir():
        match = GENERATION.match(entry.name)
        if match and node_of(entry) == node_id:
            found.append(Generation(entry, match.group(1), int(match.group(2) or 1)))
    return sorted(found, key=lambda g: g.order, reverse=True)


def generation_name(at: datetime, seq: int = 1) -> str:
    stamp = at.strftime("%Y%m%dT%H%M%SZ")
    return f"intake-backup-{stamp}.ibk" if seq == 1 else f"intake-backup-{stamp}-{seq}.ibk"


def check_folder(folder: Path, keep: int | None) -> None:
    """Refuse a destination that is not an existing folder (a USB stick not mounted) or a bad ``keep``."""
    if keep is not None and not 1 <= keep <= MAX_KEEP:
        raise BackupError(f"--keep must be between 1 and {MAX_KEEP}")
    if not Path(folder).is_dir():
        raise BackupError(f"{folder} is not a folder (is the USB stick mounted?)")


def write_generation(
    settings: Settings,
    folder: Path,
    *,
    keep: int | None,
    keys: NodeKeys | None = None,
    mac_key: bytes | None = None,
) -> ScheduledBackup:
    """A new backup in ``folder``, then the oldest of this node's generations beyond ``keep`` deleted.

    With ``keys``: a full backup (as ``intake backup --to FILE``). With ``mac_key`` (from
    :func:`load_agent_key`): an unattended one. Any failure raises before anything is deleted.
    """
    folder = Path(folder)
    check_folder(folder, keep)
    if folder.resolve() == settings.home.resolve():
        raise BackupError(f"{folder} is the node folder; keep backups elsewhere")
    if keys is not None:
        data, info = make_backup(settings, keys)
    elif mac_key is not None:
        data, info = make_unattended_backup(settings, mac_key)
    else:
        raise BackupError("a backup needs the unlocked node or its agent key")
    path = _write_new(folder, data, info.created_at)
    if keys is not None or not settings.cases_path.exists():
        record_backup(settings.home, info.created_at)  # for `intake doctor` (see the module docstring)
    gens = generations(folder, info.node_id)
    others = [g for g in gens if g.path != path]
    doomed = others[keep - 1 :] if keep is not None else []
    deleted = []
    for gen in doomed:
        with contextlib.suppress(OSError):  # gone already, or a read-only stick: kept, not fatal
            gen.path.unlink()
            deleted.append(gen.path)
    _fsync_dir(folder)
    kept = tuple([path, *(g.path for g in others if g.path not in deleted)])
    return ScheduledBackup(path, info, keys is None, kept, tuple(deleted))


def _write_new(folder: Path, data: bytes, created_at: str) -> Path:
    """Write ``data`` under a fresh generation name, read it back, and return its path."""
    at = datetime.fromisoformat(created_at.replace("Z", "+00:00"))
    seq = 1
    while (folder / generation_name(at, seq)).exists() or (folder / generation_name(at, seq)).is_symlink():
        seq += 1
    path = folder / generation_name(at, seq)
    try:
        write_private_file(path, data)
    except OSError as exc:
        raise BackupError(f"cannot write {path}: {exc.strerror}") from None
    try:
        ok = path.read_bytes() == data
        parse_backup(data)
    except (OSError, BackupError):
        ok = False
    if not ok:
        with contextlib.suppress(OSError):
            path.unlink()
        raise BackupError(f"{path} did not read back as written; nothing was deleted")
    return path


def write_unattended_file(settings: Settings, dest: Path, mac_key: bytes) -> BackupInfo:
    """An unattended backup to one file (replaces only an older backup, as ``intake backup``)."""
    from intake.backup import check_destination

    check_destination(dest)
    data, info = make_unattended_backup(settings, mac_key)
    write_private_file(dest, data)
    if not settings.cases_path.exists():
        record_backup(settings.home, info.created_at)
    return info


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # some USB filesystems cannot fsync a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
