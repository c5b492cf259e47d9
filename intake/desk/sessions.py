"""Unlocked desk sessions, in memory only: a random cookie token -> the user's keys and store.

A session ends (its keys forgotten, its store closed) after ``idle`` seconds without a request,
``lifetime`` seconds after unlocking whatever the activity, or at the first request after its
user's keyring entry changed: ``intake users remove`` (or a new passphrase) ends that user's open
sessions, wherever it ran (issue 12).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from crypto import Keyring, KeyringError, NodeKeys
from intake import clock
from intake.store.cases import CasesStore

IDLE_LOCK = 15 * 60.0
LIFETIME = 12 * 3600.0  # the default of the desk_session_hours setting


@dataclass
class Session:
    keys: NodeKeys
    store: CasesStore
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    last: float = field(default_factory=clock.monotonic)
    locale: str = ""  # the desk language this user chose when unlocking ("" = the CLI's)
    started: float = field(default_factory=clock.monotonic)
    stamp: bytes | None = None  # the user's keyring entry when unlocked (Keyring.user_stamp)
    damage: list[str] | None = None  # the background integrity check's findings: None until it ends ([] = sound)


class Membership:
    """Who may keep a session: each user's keyring entry, re-read only when the file changed.

    One ``stat`` per check; ``Keyring.save`` replaces the file (a new inode), so a change made by
    another process (the CLI) is seen at the next request. An unreadable keyring ends every session.
    """

    def __init__(self, path: Path) -> None:
        self._path = Path(path)
        self._seen: tuple[int, int, int] | None = None
        self._ring: Keyring | None = None
        self._lock = threading.Lock()

    def stamp(self, user: str) -> bytes | None:
        try:
            st = self._path.stat()
        except OSError:
            return None
        seen = (st.st_ino, st.st_mtime_ns, st.st_size)
        with self._lock:
            if seen != self._seen:
                try:
                    self._ring = Keyring.load(self._path)
                except KeyringError:
                    self._ring = None
                self._seen = seen
            ring = self._ring
        return ring.user_stamp(user) if ring is not None else None


class Sessions:
    def __init__(
        self,
        idle: float = IDLE_LOCK,
        clock: Callable[[], float] = clock.monotonic,
        *,
        lifetime: float = LIFETIME,
        members: Membership | None = None,
    ) -> None:
        self.idle = idle
        self.lifetime = lifetime
        self._members = members
        self._clock = clock
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many sessions are held (live or not yet swept)."""
        with self._lock:
            return len(self._items)

    def create(self, keys: NodeKeys, store: CasesStore, locale: str = "") -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        stamp = self._members.stamp(keys.user) if self._members is not None else None
        with self._lock:
            self._items[token] = Session(keys, store, last=now, locale=locale, started=now, stamp=stamp)
        return token

    def _alive(self, found: Session, now: float) -> bool:
        if now - found.last > self.idle or now - found.started > self.lifetime:
            return False
        return self._members is None or self._members.stamp(found.keys.user) == found.stamp

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = self._clock()
        with self._lock:
            found = self._items.get(token)
            if found is None:
                return None
            if self._alive(found, now):
                found.last = now
                return found
            del self._items[token]
        found.store.close()
        return None

    def any_unlocked(self, roles: tuple[object, ...]) -> Session | None:
        """Some unlocked, live session of one of ``roles``, for background work; touches nothing
        (background work must never keep an unattended desk unlocked, nor act for a removed user)."""
        now = self._clock()
        with self._lock:
            for found in self._items.values():
                if found.keys.role in roles and self._alive(found, now):
                    return found
        return None

    def drop(self, token: str | None) -> None:
        with self._lock:
            found = self._items.pop(token or "", None)
        if found is not None:
            found.store.close()

    def sweep(self) -> int:
        """Lock every session that is idle, too old or of a removed user (forget its keys, close its
        store). Returns how many."""
        now = self._clock()
        with self._lock:
            stale = [t for t, s in self._items.items() if not self._alive(s, now)]
            gone = [self._items.pop(t) for t in stale]
        for s in gone:
            s.store.close()
        return len(gone)

    def close_all(self) -> None:
        with self._lock:
            gone = list(self._items.values())
            self._items.clear()
        for s in gone:
            s.store.close()
