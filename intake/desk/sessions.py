"""Unlocked desk sessions, in memory only: a random cookie token -> the user's keys and store."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from crypto import NodeKeys
from intake import clock
from intake.store.cases import CasesStore

IDLE_LOCK = 15 * 60.0


@dataclass
class Session:
    keys: NodeKeys
    store: CasesStore
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    last: float = field(default_factory=clock.monotonic)
    locale: str = ""  # the desk language this user chose when unlocking ("" = the CLI's)


class Sessions:
    def __init__(self, idle: float = IDLE_LOCK, clock: Callable[[], float] = clock.monotonic) -> None:
        self.idle = idle
        self._clock = clock
        self._items: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, keys: NodeKeys, store: CasesStore, locale: str = "") -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._items[token] = Session(keys, store, last=self._clock(), locale=locale)
        return token

    def get(self, token: str | None) -> Session | None:
        if not token:
            return None
        now = self._clock()
        with self._lock:
            found = self._items.get(token)
            if found is None:
                return None
            if now - found.last > self.idle:
                del self._items[token]
                expired: Session | None = found
            else:
                found.last = now
                return found
        if expired is not None:
            expired.store.close()
        return None

    def any_unlocked(self, roles: tuple[object, ...]) -> Session | None:
        """Some unlocked, not idle session of one of ``roles``, for background work; touches nothing
        (background work must never keep an unattended desk unlocked)."""
        now = self._clock()
        with self._lock:
            for found in self._items.values():
                if found.keys.role in roles and now - found.last <= self.idle:
                    return found
        return None

    def drop(self, token: str | None) -> None:
        with self._lock:
            found = self._items.pop(token or "", None)
        if found is not None:
            found.store.close()

    def sweep(self) -> int:
        """Lock every idle session (forget its keys, close its store). Returns how many."""
        now = self._clock()
        with self._lock:
            stale = [t for t, s in self._items.items() if now - s.last > self.idle]
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
