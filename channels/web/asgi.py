"""The one shape of the intake server's middleware: plain ASGI, HTTP only.

Not Starlette's ``BaseHTTPMiddleware``, which costs a task and a stream per request and wraps
errors in exception groups. Each middleware subclasses :class:`HttpMiddleware` and says only what
it does to an HTTP request; :func:`on_start` lets it see (or add to) the response's status and
headers without touching the body.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class HttpMiddleware:
    """Passes lifespan and websocket scopes straight through; HTTP requests go to :meth:`http`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def on_start(send: Send, seen: Callable[[Message], None]) -> Send:
    """``send``, handing the response's start message (status, headers) to ``seen`` before it goes."""

    async def watched(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen(message)
        await send(message)

    return watched
