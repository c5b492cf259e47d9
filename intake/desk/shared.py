"""One cases.db connection behind every unlocked desk session, closed when the last one locks.

Each unlock used to open a connection of its own (a SQLCipher connection: page cache, schema,
statement cache, one file descriptor), and a session left unlocked (a browser closed, a cookie
lost) kept it until its idle lock: the desk grew by megabytes per unlock (issue 14, "Memory").
Every user of a node holds the same master secret, so every session opens cases.db with the same
key; here they share one connection, and each session holds a handle of its own. Closing a handle
(lock, idle lock, a removed user) makes that handle fail like a closed connection at once; the
connection closes with its last handle, and the memory it used is handed back to the system.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import sqlcipher3

from crypto import NodeKeys
from intake.memory import give_back_memory
from intake.store.cases import CasesStore


class _Handle(CasesStore):
    """A session's view of the shared store: the same connection and lock, its own ``close``."""

    def __init__(self, base: CasesStore, release: Callable[[], None], checking: threading.Lock) -> None:
        self.__dict__.update(base.__dict__)  # no super().__init__(): it would open another connection
        self._checking = checking
        self._closing = threading.Event()  # this handle's own: a lock stops this session's check()
        self._release = release
        self._released = False

    def close(self) -> None:
        self._closing.set()
        with self._lock:
            if self._released:
                return
            self._released = True
            # Whoever still holds this handle gets what a closed connection gives: an error.
            self._conn = _closed_connection()
        self._release()

    def check(self, *, full: bool = False) -> list[str]:
        """The store's integrity check (intake/desk/health.py), one session's at a time: a check
        reads every page on a connection of its own, and sessions unlocked together would each
        hold one. Its memory goes back to the system when it ends."""
        with self._checking:
            if self.closed:  # locked while waiting its turn: nothing was checked
                return []
            try:
                return super().check(full=full)
            finally:
                give_back_memory()


def _closed_connection() -> Any:
    conn = sqlcipher3.connect(":memory:")
    conn.close()
    return conn


class SharedCases:
    """The desk's cases.db connection, shared by the sessions that hold a handle on it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._base: CasesStore | None = None
        self._node = ""
        self._handles = 0
        self._checking = threading.Lock()

    def lease(self, keys: NodeKeys, open_store: Callable[[], CasesStore]) -> CasesStore:
        """A handle on the node's cases store for a session of ``keys`` (whose passphrase was
        checked), opened with ``open_store`` when no session holds it. Blocking: run it in a thread."""
        with self._lock:  # held while opening, so two unlocks at once open one connection
            if self._base is not None and self._node != keys.node_id:
                return open_store()  # not this node's keys (never in one desk): a store of their own
            if self._base is None:
                self._base = open_store()
                self._node = keys.node_id
            self._handles += 1
            return _Handle(self._base, self._release, self._checking)

    @property
    def handles(self) -> int:
        """How many sessions hold the connection (0: it is closed)."""
        with self._lock:
            return self._handles

    def _release(self) -> None:
        with self._lock:
            self._handles -= 1
            if self._handles or self._base is None:
                return
            base, self._base = self._base, None
        base.close()
        give_back_memory()


__all__ = ["SharedCases", "give_back_memory"]
