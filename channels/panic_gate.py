"""The intake after a panic (issue 17): stop taking reports, close the inbox, and end the process.

``intake panic`` (intake/panic.py) destroys ``intake.key`` on disk, but a running ``intake serve``
still holds the inbox key in memory, in its open inbox connection. So the intake watches the
node's ``panicked`` marker, as the desk does (intake/desk/panic.py):

- :class:`PanicGate`, outermost but one, looks at the marker (one ``stat``) before every request;
  once it exists every request is refused with the worker surface's standard "cannot accept
  reports right now" page (503, :class:`intake.errors.StoreUnavailable`), so nothing reaches the
  inbox after the panic;
- :func:`watch` looks every :data:`WATCH_EVERY` seconds with no request at all; on a panic it
  closes the inbox (the connection, and the key it holds, go: a write under way finishes first, a
  later one is a 503) and calls ``on_panic``, which ``intake serve`` uses to make uvicorn exit
  cleanly (docs/threat-model.md#panic).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool

from channels.web.asgi import ASGIApp, HttpMiddleware, Receive, Scope, Send
from channels.web.errors import error_app
from intake.errors import StoreUnavailable
from intake.panic import panicked_at
from intake.services import IntakeService
from intake.settings import Settings

log = logging.getLogger("intake.web")
WATCH_EVERY = 1.0  # seconds between two looks at the panic marker


class Panicked:
    """Whether this process has seen the node's panic; shared by the gate and the watcher."""

    def __init__(self, settings: Settings) -> None:
        self.home = settings.home
        self.at: str | None = None

    def check(self) -> bool:
        if self.at is None:
            self.at = panicked_at(self.home)
        return self.at is not None


class PanicGate(HttpMiddleware):
    """Refuse every request (503, the standard page) once the node has panicked."""

    def __init__(self, app: ASGIApp, panicked: Panicked) -> None:
        super().__init__(app)
        self.panicked = panicked

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.panicked.check() and not str(scope.get("path", "")).startswith("/static/"):
            await error_app(scope, StoreUnavailable("panicked"))(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def watch(panicked: Panicked, service: IntakeService, on_panic: Callable[[], None] | None) -> None:
    """Every second: once the node has panicked, close the inbox and call ``on_panic`` (once)."""
    while not panicked.check():
        await asyncio.sleep(WATCH_EVERY)
    log.warning("intake stopped taking reports: the node panicked")
    await run_in_threadpool(service.close)  # waits for a write under way; later ones are refused
    if on_panic is not None:
        on_panic()


__all__ = ["WATCH_EVERY", "PanicGate", "Panicked", "watch"]
