"""CAP steps going overdue, told to coordinators while the desk is unlocked (issue 17 item 3).

Only the desk can read cases.db, so only it can see a corrective action step pass its due day. At
each unlock and then once an hour while the session lives, a thread counts the steps newly overdue
(intake/alerts.py ``check_overdue``: a watermark day in inbox.db, so two desks count each step
once), adds the count to the node's alert queue and runs one round of the same sender ``intake
serve`` runs: one implementation of sending, whichever machine holds the queue. The notice says
how many, nothing else. The thread ends when the session's store closes (a lock, an idle timeout).
"""

from __future__ import annotations

import logging
import threading

from channels.alerts import transports
from intake.alerts import AlertSender, check_overdue
from intake.desk.sessions import Session
from intake.node import open_inbox
from intake.settings import Settings

log = logging.getLogger("intake.desk")
EVERY = 3600.0  # seconds between checks
STEP = 30.0  # how often the thread looks whether the session ended


def start_watch(session: Session, settings: Settings, every: float = EVERY) -> threading.Thread | None:
    """Check now and every ``every`` seconds in a daemon thread; None when alerts are off."""
    if not settings.alerts_on or not settings.inbox_path.exists():
        return None
    thread = threading.Thread(target=_watch, args=(session, settings, every), name="desk-alert-watch", daemon=True)
    thread.start()
    return thread


def check_once(session: Session, settings: Settings) -> int:
    """One check and one round of sending; how many steps were newly counted."""
    inbox = open_inbox(settings)
    try:
        counted = check_overdue(settings, inbox, session.store)
        AlertSender(settings, inbox, transports(settings)).run_once()
    finally:
        inbox.close()
    return counted


def _watch(session: Session, settings: Settings, every: float) -> None:
    waited = every  # the first check at once
    while not session.store.closed:
        if waited >= every:
            waited = 0.0
            try:
                check_once(session, settings)
            except Exception as exc:  # a background thread must never take the desk down
                log.warning("overdue check failed: %s", type(exc).__name__)
        stop = threading.Event()
        stop.wait(min(STEP, every))
        waited += min(STEP, every)


__all__ = ["check_once", "start_watch"]
