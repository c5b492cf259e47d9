"""Search-index upkeep in the desk (issue 14): every ``EVERY`` seconds while a caseworker or
coordinator has the desk unlocked, merge the segments of cases.db's search index a little
(intake/store/maintenance.py), so a store drained report by report over years keeps searching fast.

Background work like retention (intake/desk/retention.py): a daemon thread at low priority, each
merge step its own short write transaction (a page or a drain waits one step at most), at most
``maintenance.BUDGET`` seconds a run; locking the desk (the store closes) or a panic stops it
between steps. One run at a time in the desk process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

from crypto.keyring import Role
from intake import clock
from intake.desk.sessions import Session
from intake.panic import panicked_at
from intake.settings import Settings
from intake.store import maintenance

log = logging.getLogger("intake.desk")
NICE = 10
EVERY = 3600.0  # seconds between runs

_lock = threading.Lock()  # one run at a time in this process
_last: dict[str, float] = {}  # "run": clock.monotonic() when the last run started


def kick(settings: Settings, session: Session | None) -> threading.Thread | None:
    """Start a run in a daemon thread if one is due; None when not: run within the hour, one
    running, no session or a viewer's session (a viewer's desk writes nothing)."""
    if session is None or session.keys.role is Role.VIEWER:
        return None
    last = _last.get("run")
    if last is not None and clock.monotonic() - last < EVERY:
        return None
    _last["run"] = clock.monotonic()
    thread = threading.Thread(target=run_once, args=(settings, session), name="desk-maintenance", daemon=True)
    thread.start()
    return thread


def run_once(settings: Settings, session: Session) -> maintenance.Merged | None:
    """One bounded run at low priority on ``session``'s store; None when another is running or it
    failed (logged, by kind only)."""
    with contextlib.suppress(OSError, AttributeError):  # Linux: this thread only
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    if not _lock.acquire(blocking=False):
        return None
    try:

        def stop() -> bool:
            return session.store.closed or panicked_at(settings.home) is not None

        try:
            merged = maintenance.merge(session.store, stop=stop)
        except Exception as exc:  # a background thread must never take the desk down
            if not session.store.closed:
                log.warning("search index merge failed (%s); it runs again within the hour", type(exc).__name__)
            return None
        if merged.steps > 1:  # counts only
            log.info("search index: %d segments merged to %d", merged.segments_before, merged.segments_after)
        return merged
    finally:
        _lock.release()


__all__ = ["EVERY", "kick", "run_once"]
