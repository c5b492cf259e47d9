"""``create_intake_app(settings)``: the always-on intake server, and nothing else.

It mounts every worker channel (the web pages and JSON API, SMS, the voice hotline) and the
server half of the desk pull API (channels/remote.py). Kept apart from the desk (SecureDrop's
source/journalist split): this app can read the status board and write sealed items, and holds
no key that opens them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from channels import remote
from channels.alerts import transports as alert_transports
from channels.panic_gate import PanicGate, Panicked
from channels.panic_gate import watch as watch_panic
from channels.sms import routes as sms_routes
from channels.sms.media import MediaFetcher
from channels.sms.service import SmsChannel
from channels.voice import callback as voice_callback
from channels.voice import routes as voice_routes
from channels.voice.recordings import RecordingFetcher
from channels.web import api, pages
from channels.web.asgi import HttpMiddleware, Message, Receive, Scope, Send, on_start
from channels.web.errors import CatchAll, error_app, handle_error, handle_http, handle_validation
from channels.web.render import STATIC
from channels.web.security import BodyLimit, Csrf, RateLimiter, SecurityHeaders
from channels.web.uploads import UPLOAD_PATHS, upload_limit
from intake import clock
from intake.alerts import AlertSender
from intake.errors import IntakeError
from intake.services import IntakeService
from intake.settings import Settings

log = logging.getLogger("intake.web")


def create_intake_app(
    settings: Settings, service: IntakeService | None = None, *, on_panic: Callable[[], None] | None = None
) -> FastAPI:
    """Build the intake app. ``service`` may be passed in (tests, demo); else opened from settings.
    ``on_panic``: called once the node has panicked and the inbox is closed (``intake serve``
    exits; channels/panic_gate.py)."""
    owned = service is None
    svc = service or IntakeService.open(settings)
    panicked = Panicked(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.alerts_on:  # content-free alerts to coordinators, on a thread of their own (intake/alerts.py)
            app.state.alerts = AlertSender(settings, svc.inbox, alert_transports(settings)).start()
        watcher = asyncio.create_task(watch_panic(panicked, svc, on_panic))  # channels/panic_gate.py
        yield
        watcher.cancel()
        if app.state.alerts is not None:
            app.state.alerts.close()
        if app.state.voice_fetcher is not None:
            app.state.voice_fetcher.close()  # finishes the recordings already submitted
        if app.state.sms.media is not None:
            app.state.sms.media.close()  # and the MMS / WhatsApp media
        if owned:
            svc.close()

    app = FastAPI(
        title="Grievance intake",
        version="1",
        description="Report a workplace problem anonymously, and follow it up with a receipt code.",
        docs_url=None,  # the Swagger page loads scripts from a CDN: no external assets here
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.service = svc
    app.state.settings = settings
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.csrf = Csrf(svc.csrf_key)
    app.state.sms = SmsChannel(svc)  # its keys, flood limit and locks: one per process
    if settings.twilio_auth_token:
        app.state.sms.media = MediaFetcher(svc)  # MMS / WhatsApp files (channels/sms/media.py)
    app.state.voice_fetcher = RecordingFetcher(svc) if settings.twilio_auth_token else None
    app.state.alerts = None

    app.add_exception_handler(IntakeError, handle_error)
    app.add_exception_handler(RequestValidationError, handle_validation)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, handle_http)  # type: ignore[arg-type]

    app.include_router(pages.router)
    app.include_router(api.router)
    app.include_router(sms_routes.router)
    app.include_router(voice_routes.router)
    app.include_router(voice_callback.router)
    app.include_router(remote.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/healthz", include_in_schema=True, tags=["meta"])
    def healthz() -> JSONResponse:
        return JSONResponse({"status": "ok"})

    app.add_middleware(CatchAll)
    app.add_middleware(RequestLog)  # outside CatchAll, so it logs the 500s that CatchAll renders
    app.add_middleware(
        BodyLimit, limit=settings.max_request_bytes, on_error=error_app,
        upload_paths=UPLOAD_PATHS, upload_limit=upload_limit(settings),
    )  # fmt: skip
    app.add_middleware(PanicGate, panicked=panicked)  # after a panic: 503 for everything, before the body is read
    app.add_middleware(SecurityHeaders)
    return app


class RequestLog(HttpMiddleware):
    """One line per request: method, route template, status, duration. No address, no query, no body."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        start = clock.monotonic()
        starts: list[Message] = []
        try:
            await self.app(scope, receive, on_start(send, starts.append))
        finally:
            status = starts[-1]["status"] if starts else 0
            route = getattr(scope.get("route"), "path", "-")
            ms = (clock.monotonic() - start) * 1000
            log.info("%s %s status=%d ms=%.1f", scope["method"], route, status, ms)
