"""Backups from the desk (issue 17): full backups into ``backup_dir`` while someone has it unlocked.

An unattended backup (``intake backup --unattended``, a systemd timer) cannot copy ``cases.db``:
that needs the master, which only an unlocked desk holds. So the desk makes the full backup
itself, with exactly ``intake backup --to FOLDER --keep N`` (:func:`intake.backup_schedule.write_generation`):
at each unlock when the newest backup of this node in ``backup_dir`` is older than
``backup_every_hours`` (or there is none), and then checked every :data:`EVERY` seconds by the
desk's sweeper (intake/desk/app.py) while a coordinator's or caseworker's session is unlocked.

Background work like the store check (intake/desk/health.py): a daemon thread at low priority that
never delays a page; one at a time. A failure (a USB stick not mounted, a full disk, a damaged
store) deletes nothing (write_generation raises before any rotation), is logged by kind only (no
path: a folder's name can say whose stick it is), and shows a banner on every desk page until a
backup succeeds (templates/base.html, :func:`banner`). The thread holds the session's keys only
while it runs; it starts nothing after a panic. Trade-offs: docs/threat-model.md#scheduled-backups.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import threading
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from pathlib import Path

from crypto.keyring import Role, public_record
from i18n import d_
from intake import clock
from intake.backup_schedule import generations, write_generation
from intake.desk.sessions import Session
from intake.errors import BackupError, IntakeError, StoreDamaged
from intake.panic import panicked_at
from intake.settings import Settings

log = logging.getLogger("intake.desk")
NICE = 10
EVERY = 3600.0  # seconds between two looks at whether a backup is due


class DeskBackups:
    """One desk's scheduled backups: when it last looked, whether one runs, what failed."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.problem: str | None = None  # the kind of the last failure (see :func:`reason`); None: fine
        self._checked: float | None = None  # clock.monotonic() of the last look
        self._lock = threading.Lock()  # one backup at a time in this desk
        self.thread: threading.Thread | None = None  # the last one started

    def kick(self, session: Session | None, *, unlock: bool = False) -> threading.Thread | None:
        """Start a look (and a backup if one is due) in a daemon thread: at each ``unlock``, and from
        the sweeper at most every :data:`EVERY` seconds. None when off, not yet time, or no
        coordinator's or caseworker's session."""
        if session is None or session.keys.role is Role.VIEWER or self.settings.backup_folder() is None:
            return None
        if not unlock and self._checked is not None and clock.monotonic() - self._checked < EVERY:
            return None
        self._checked = clock.monotonic()
        self.thread = threading.Thread(target=self.run_once, args=(session,), name="desk-backup", daemon=True)
        self.thread.start()
        return self.thread

    def due(self) -> bool:
        """Whether the newest backup of this node in ``backup_dir`` is older than ``backup_every_hours``
        (a folder that is not there is due: trying says what is wrong)."""
        folder = self.settings.backup_folder()
        if folder is None:
            return False
        try:
            record = public_record(self.settings.keyring_path)
            found = generations(folder, str(record["node_id"])) if record else []
        except OSError:
            return True
        if not found:
            return True
        newest = datetime.strptime(found[0].stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        return clock.now() - newest >= timedelta(hours=self.settings.backup_every_hours)

    def run_once(self, session: Session, *, force: bool = False) -> Path | None:
        """A backup if one is due (``force``: whether or not), at low priority, with ``session``'s
        keys; the new file's path, or None (not due, another running, locked, panicked, or failed)."""
        with contextlib.suppress(OSError, AttributeError):  # Linux: this thread only
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        folder = self.settings.backup_folder()
        if folder is None or not self._lock.acquire(blocking=False):
            return None
        try:
            if session.store.closed or panicked_at(self.settings.home) is not None:
                return None
            if not force and not self.due():
                return None
            try:
                made = write_generation(self.settings, folder, keep=self.settings.backup_keep, keys=session.keys)
            except Exception as exc:  # a background thread must never take the desk down
                self.problem = kind(exc, folder)
                log.warning("scheduled backup failed (%s); older backups were kept", self.problem)
                return None
            self.problem = None
            log.info("scheduled backup written; %d kept, %d rotated out", len(made.kept), len(made.deleted))
            return made.path
        finally:
            self._lock.release()

    def banner(self) -> str:
        """What every desk page says while the last backup failed ("" when fine)."""
        if self.problem is None:
            return ""
        return d_(
            "The last backup to {folder} failed: {reason}. Older backups were kept; the desk tries again "
            "within the hour."
        ).format(folder=self.settings.backup_dir, reason=reason(self.problem))


def kind(exc: BaseException, folder: Path) -> str:
    """A failure as one word, safe to log: no path, no message that could quote anything."""
    if not folder.is_dir():
        return "missing"
    if isinstance(exc, StoreDamaged):
        return "damaged"
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__context__
    if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
        return "full"
    if isinstance(cause, OSError) and cause.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return "denied"
    if not os.access(folder, os.W_OK):
        return "denied"
    return "failed" if isinstance(exc, BackupError | IntakeError | OSError) else type(exc).__name__


def reason(problem: str) -> str:
    reasons = {
        "missing": d_("the folder is not there (is the USB stick plugged in and mounted?)"),
        "full": d_("the disk is full"),
        "denied": d_("the folder cannot be written to"),
        "damaged": d_("the case store is damaged (run 'intake check')"),
    }
    return reasons.get(problem, d_("the backup could not be written"))


# The desk whose request is being answered, so base.html can show its banner (set in app.py).
_current: ContextVar[DeskBackups | None] = ContextVar("desk_backups", default=None)


def serving(backups: DeskBackups) -> None:
    _current.set(backups)


def banner() -> str:
    """The banner of the desk answering this request ("" when its backups are fine)."""
    backups = _current.get()
    return backups.banner() if backups is not None else ""


__all__ = ["EVERY", "DeskBackups", "banner", "serving"]
