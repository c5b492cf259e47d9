"""Protections around every worker-facing request: headers, size limit, rate limit, CSRF.

None of these store or log an IP address (docs/threat-model.md#malicious-submitter).
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import threading
from collections import deque
from collections.abc import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from channels.web.asgi import ASGIApp, HttpMiddleware, Message, Receive, Scope, Send, on_start
from intake import clock
from intake.errors import RateLimited, TooLarge, UnsupportedMediaType
from intake.memory import give_back_memory

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
]


class SecurityHeaders(HttpMiddleware):
    """Adds the security headers to every HTTP response, errors included."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, on_start(send, _add_headers))


def _add_headers(start: Message) -> None:
    names = {h[0].lower() for h in start.get("headers", [])}
    extra = [h for h in SECURITY_HEADERS if h[0] not in names]
    start["headers"] = [*start.get("headers", []), *extra]


class BodyLimit(HttpMiddleware):
    """Refuses bodies over ``limit`` bytes (declared or streamed) before any handler reads them.

    A ``multipart/form-data`` POST to one of ``upload_paths`` (the routes that take files,
    channels/web/uploads.py) may be up to ``upload_limit``; every other request keeps ``limit``.
    """

    def __init__(
        self,
        app: ASGIApp,
        limit: int,
        on_error: Callable[[Scope, Exception], ASGIApp],
        *,
        upload_paths: frozenset[str] = frozenset(),
        upload_limit: int = 0,
    ) -> None:
        super().__init__(app)
        self.limit = limit
        self.on_error = on_error
        self.upload_paths = upload_paths
        self.upload_limit = max(limit, upload_limit)

    def limit_for(self, scope: Scope) -> int:
        if scope.get("method") != "POST" or scope.get("path") not in self.upload_paths:
            return self.limit
        for name, value in scope.get("headers", []):
            if name == b"content-type":
                if value.split(b";")[0].strip().lower() == b"multipart/form-data":
                    return self.upload_limit
                break
        return self.limit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope)
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = limit + 1
                if declared > limit:
                    await self.on_error(scope, TooLarge("declared body too large"))(scope, receive, send)
                    return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise TooLarge("streamed body too large")
            return message

        try:
            await self.app(scope, limited_receive, send)
        finally:
            if limit > self.limit:  # an upload: its files' memory is free now, give it back (intake/memory.py)
                await run_in_threadpool(give_back_memory)


class RateLimiter:
    """Sliding one-minute window per client, in memory only.

    Clients are told apart by HMAC(per-process random key, address): the address itself is never
    kept, and the table dies with the process. ``per_minute = 0`` turns the limit off.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = clock.monotonic) -> None:
        self.per_minute = per_minute
        self._key = secrets.token_bytes(32)
        self._hits: dict[bytes, deque[float]] = {}
        self._lock = threading.Lock()
        self._clock = clock
        self._last_sweep = 0.0

    def check(self, client: str | None) -> None:
        if self.per_minute <= 0:
            return
        tag = hmac.new(self._key, (client or "").encode(), hashlib.sha256).digest()[:16]
        now = self._clock()
        with self._lock:
            if now - self._last_sweep > 60:
                self._sweep(now)
            hits = self._hits.setdefault(tag, deque())
            while hits and now - hits[0] >= 60:
                hits.popleft()
            if len(hits) >= self.per_minute:
                # Retry-After: when the oldest try in the window leaves it, rounded up
                raise RateLimited("per-client limit", retry_after=math.ceil(60 - (now - hits[0])))
            hits.append(now)

    def _sweep(self, now: float) -> None:
        self._last_sweep = now
        for tag in [t for t, h in self._hits.items() if not h or now - h[-1] >= 60]:
            del self._hits[tag]


def rate_limit(request: Request) -> None:
    """Count this request against its client's minute (the app's :class:`RateLimiter`)."""
    limiter: RateLimiter = request.app.state.limiter
    limiter.check(request.client.host if request.client else None)


def require_json(request: Request) -> None:
    """Refuse any body but ``application/json``: a browser cannot send that cross-site without a
    CORS preflight (which these apps never grant), so a JSON endpoint needs no CSRF token."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        raise UnsupportedMediaType(ctype or "none")


class Csrf:
    """Double-submit token bound to a random cookie, signed with a key from intake.key.

    The cookie is the only cookie the worker surface sets (HttpOnly, SameSite=Strict). The token
    carries its issue time so an old page can be told apart from a forged one, and a worker who
    wrote slowly gets their text back, not an error page.

    Every rendered form gets its own token (``time.nonce.mac``, 128 random bits in the nonce), so
    the token also names that one form: sending it again (a double tap, a reload) is recognised
    and answered with what the first send got (``intake.once.Once``). The intake keeps no
    token, only a keyed hash of it, so the token is a secret that lives in the worker's page.
    """

    COOKIE = "csrf"
    MAX_AGE = 6 * 3600

    def __init__(self, key: bytes, *, clock: Callable[[], float] = clock.time) -> None:
        self._key = key
        self._clock = clock

    @staticmethod
    def new_cookie() -> str:
        return secrets.token_urlsafe(24)

    def token(self, cookie: str) -> str:
        ts = str(int(self._clock()))
        nonce = secrets.token_urlsafe(16)
        return f"{ts}.{nonce}.{self._mac(cookie, ts, nonce)}"

    def valid(self, cookie: str | None, token: str | None) -> bool:
        if not cookie or not token or len(token) > 200 or token.count(".") != 2:
            return False  # a token without a nonce (before forms were single-use) is an expired one
        ts, nonce, mac = token.split(".")
        if not (ts.isascii() and ts.isdigit()) or len(nonce) < 16 or self._clock() - int(ts) > self.MAX_AGE:
            return False
        return hmac.compare_digest(mac.encode(), self._mac(cookie, ts, nonce).encode())

    def _mac(self, cookie: str, ts: str, nonce: str) -> str:
        return hmac.new(self._key, f"{cookie}|{ts}|{nonce}".encode(), hashlib.sha256).hexdigest()
