"""Retention in the desk (issue 17): the node's retention run (intake/retention.py) after each
unlock's drain and then every ``EVERY`` seconds while the session lasts.

Background work like the store check (intake/desk/health.py): a daemon thread at low priority that
never delays a page. Each batch of cases is its own transaction, so caseworkers and drains wait at
most one batch; locking the desk (the store closes) or a panic stops it between batches. One run at
a time in the desk process, whichever session started it; a viewer's session runs none.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

from crypto.keyring import Role
from intake import clock, retention
from intake.desk.sessions import Session
from intake.panic import panicked_at
from intake.settings import Settings

log = logging.getLogger("intake.desk")
NICE = 10
EVERY = 3600.0  # seconds between runs

_lock = threading.Lock()  # one run at a time in this process
_last: dict[str, float] = {}  # "run": clock.monotonic() when the last run started


def kick(settings: Settings, session: Session | None, *, force: bool = False) -> threading.Thread | None:
    """Start a run in a daemon thread if one is due (``force``: after an unlock's drain); None when
    not: nothing due, one running, no session, a viewer's session, or retention off. The thread
    holds the session only while it runs: background work never keeps a locked desk's keys."""
    if session is None or session.keys.role is Role.VIEWER:
        return None
    if settings.retention_days == 0 and settings.inbox_retention_days == 0:
        return None
    last = _last.get("run")
    if not force and last is not None and clock.monotonic() - last < EVERY:
        return None
    thread = threading.Thread(target=run_once, args=(settings, session), name="desk-retention", daemon=True)
    thread.start()
    return thread


def run_once(settings: Settings, session: Session) -> retention.Outcome | None:
    """One run at low priority with ``session``'s keys and store; None when another is running or
    it failed (logged, by kind only)."""
    with contextlib.suppress(OSError, AttributeError):  # Linux: this thread only
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    if not _lock.acquire(blocking=False):
        return None
    try:
        _last["run"] = clock.monotonic()

        def stop() -> bool:
            return session.store.closed or panicked_at(settings.home) is not None

        try:
            outcome = retention.run(settings, session.store, session.keys, stop=stop)
        except Exception as exc:  # a background thread must never take the desk down
            if not session.store.closed:
                log.warning("retention run failed (%s); it runs again within the hour", type(exc).__name__)
            return None
        if outcome.cases or outcome.inbox_items:  # counts only
            log.info("retention: %d cases expired, %d inbox items destroyed", outcome.cases, outcome.inbox_items)
        return outcome
    finally:
        _lock.release()


__all__ = ["EVERY", "kick", "run_once"]
