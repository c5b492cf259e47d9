"""The case store's integrity, checked once in the background after each unlock (issue 14).

Opening a store no longer reads every page (that took 40 s at a million cases, on every unlock).
Instead, after an unlock a thread reads them (``PRAGMA quick_check``, on a connection of its own,
at low priority) and records what it found on the session; every page then shows a banner if the
store is damaged (templates/base.html). It never delays the unlock, and it stops when the
session's store closes (a lock, an idle timeout), so no key outlives the session for long.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading

from i18n import d_
from intake.desk.sessions import Session
from intake.errors import IntakeError

log = logging.getLogger("intake.desk")
NICE = 10  # a check is background work: the caseworker's pages come first


def store_unreadable() -> str:
    """What the desk says when the case store does not open or a page of it cannot be read."""
    return d_(
        "The case store could not be read: it may be damaged. Run 'intake check' on this computer; "
        "if it reports damage, restore the node from a backup."
    )


def start_check(session: Session) -> threading.Thread:
    """Check ``session.store`` in a daemon thread; its findings land in ``session.damage``."""
    thread = threading.Thread(target=_check, args=(session,), name="desk-store-check", daemon=True)
    thread.start()
    return thread


def _check(session: Session) -> None:
    with contextlib.suppress(OSError, AttributeError):  # Linux: this thread only; elsewhere, as it is
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
    try:
        problems = session.store.check()
    except IntakeError as exc:  # stopped by a lock, or the file no longer opens
        problems = [exc.detail or exc.code]
    except Exception as exc:  # a background thread must never take the desk down
        problems = [type(exc).__name__]
    if session.store.closed:  # locked meanwhile: an interrupted check says nothing about the store
        return
    session.damage = problems
    if problems:  # SQLite's findings name pages and tables, never content; the log says only how many
        log.warning("case store failed its integrity check (%d findings): run 'intake check'", len(problems))


__all__ = ["start_check", "store_unreadable"]
