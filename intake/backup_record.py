"""When the node was last backed up: ``last-backup`` in the node folder, for ``intake doctor``.

``intake backup`` (intake/backup.py ``write_backup``) writes it after each backup it completes:
one JSON line with the backup's time and nothing else (no path, no size, no case count: a seized
node folder must not say where its backups are kept or how big they are). It is not a secret and
needs no passphrase, so ``intake doctor --no-unlock`` reads it too. A node restored from a backup
gets the backup's time (the restored state is exactly that backup).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from crypto.files import write_private_file

RECORD_NAME = "last-backup"


def record_path(home: Path) -> Path:
    return Path(home) / RECORD_NAME


def record_backup(home: Path, created_at: str) -> None:
    """Note that a backup of the node at ``home`` was made at ``created_at`` (ISO 8601, UTC)."""
    write_private_file(record_path(home), json.dumps({"version": 1, "created_at": created_at}).encode())


def last_backup(home: Path) -> datetime | None:
    """The time of the node's last backup; None when there is none or the record is unreadable."""
    try:
        raw = json.loads(record_path(home).read_bytes())
        when = datetime.fromisoformat(str(raw["created_at"]).replace("Z", "+00:00"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=UTC)
