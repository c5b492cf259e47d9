"""Bringing new reports into the desk: drain the inbox into the cases store, push to a remote intake.

On unlock and, at most every ``DRAIN_EVERY`` seconds, on the case list. On a desk paired with a
remote intake (intake/remote.py) the inbox is the pulled one, and replies and status changes made
here are pushed there first.
"""

from __future__ import annotations

import logging

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from intake import clock
from intake.desk.sessions import Session
from intake.drain import drain
from intake.errors import IntakeError
from intake.panic import panicked_at
from intake.remote import item_source, push_quietly
from intake.settings import Settings
from intake.store.db import DatabaseError

log = logging.getLogger("intake.desk")
DRAIN_EVERY = 60.0


async def drain_now(request: Request, session: Session) -> int:
    """Drain now; the number of new cases (0, logged, when the inbox cannot be read)."""
    settings: Settings = request.app.state.settings

    def run() -> int:
        inbox = item_source(settings)
        try:
            push_quietly(settings, inbox)  # replies and status changes made here, to a remote intake
            stop = lambda: panicked_at(settings.home) is not None  # noqa: E731 (a panic ends it between batches)
            return drain(inbox, session.store, session.keys, stop=stop).cases
        finally:
            inbox.close()

    request.app.state.last_drain = clock.monotonic()
    try:
        return await run_in_threadpool(run)
    except (IntakeError, DatabaseError):  # a damaged store too: the unlock and the page go on
        log.warning("drain failed; the inbox is left as it was")
        return 0


async def drain_if_due(request: Request, session: Session) -> None:
    if clock.monotonic() - request.app.state.last_drain > DRAIN_EVERY:
        await drain_now(request, session)


def push_to_remote(settings: Settings) -> None:
    try:
        source = item_source(settings)
        try:
            push_quietly(settings, source)
        finally:
            source.close()
    except Exception as exc:  # the sweeper that locks idle sessions must outlive any push
        log.warning("desk push failed (%s)", type(exc).__name__)


__all__ = ["DRAIN_EVERY", "drain_if_due", "drain_now", "push_to_remote"]
