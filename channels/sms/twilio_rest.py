"""Twilio's REST API, for a node behind NAT: pull inbound SMS, send queued replies, delete bodies.

Everything goes through :class:`TwilioGateway`; the pull logic in :mod:`channels.sms.pull` only
sees that interface. The twilio ``Client`` has no base-URL option, so :class:`RewritingHttpClient`
rewrites ``https://api.twilio.com`` to ``INTAKE_TWILIO_API_BASE`` (Stoplight Prism in the
contract tests, a filtering proxy in deployments that want one).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from intake.errors import GatewayError
from intake.settings import Settings

TWILIO_BASE = "https://api.twilio.com"
# Final states: Twilio lets a message be deleted only once it is no longer in flight.
FINISHED = frozenset({"delivered", "undelivered", "failed", "received", "sent", "canceled", "read"})
log = logging.getLogger("intake.sms.twilio")


class RewritingHttpClient(TwilioHttpClient):  # type: ignore[misc]
    """Sends the twilio library's requests to another base URL (same paths, same auth)."""

    def __init__(self, base: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.base = base.rstrip("/")
        self.calls: list[tuple[str, str, int]] = []  # (method, path, status): no bodies, no numbers

    def request(self, method: str, url: str, *args: Any, **kwargs: Any) -> Response:
        if url.startswith(TWILIO_BASE):
            url = self.base + url[len(TWILIO_BASE) :]
        response = super().request(method, url, *args, **kwargs)
        self.calls.append((method.upper(), url[len(self.base) :].split("?")[0], response.status_code))
        return response


@dataclass(frozen=True)
class RemoteMessage:
    sid: str
    direction: str
    sender: str
    to: str
    body: str
    status: str
    date_sent: datetime | None
    num_media: int = 0  # MMS / WhatsApp files: listed with :meth:`TwilioGateway.media` before deletion


def _count(value: Any) -> int:
    """Twilio's ``num_media`` (a string in its API) as a number; anything odd counts as none."""
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _error(exc: Exception, what: str) -> GatewayError:
    if isinstance(exc, TwilioRestException):
        status, code = exc.status, exc.code
        retry = status == 429 or code == 20429 or status >= 500
        return GatewayError(f"{what}: HTTP {status} code {code}", retry=retry, http_status=status, twilio_code=code)
    return GatewayError(f"{what}: {type(exc).__name__}", retry=True)


def _delete(what: str, delete: Callable[[], Any]) -> bool:
    """Run a Twilio delete: True if deleted, False if Twilio refused (still in flight, already
    gone); raises :class:`GatewayError` if Twilio could not be reached or failed."""
    try:
        return bool(delete())
    except TwilioRestException as exc:
        if exc.status in (400, 403, 404, 409, 422):
            return False
        raise _error(exc, what) from None
    except (TwilioException, OSError) as exc:
        raise _error(exc, what) from None


class TwilioGateway:
    NEEDS_NUMBER = True  # messaging needs the node's number; recordings do not

    def __init__(self, settings: Settings, http_client: RewritingHttpClient | None = None) -> None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise GatewayError("Twilio is not configured (TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN)", retry=False)
        if self.NEEDS_NUMBER and not settings.twilio_number:
            raise GatewayError("Twilio is not configured (INTAKE_TWILIO_NUMBER)", retry=False)
        self.number = settings.twilio_number
        self.whatsapp_from = settings.twilio_whatsapp_from  # "" = WhatsApp off
        self.http = http_client or RewritingHttpClient(settings.twilio_api_base, timeout=20)
        self.client = Client(settings.twilio_account_sid, settings.twilio_auth_token, http_client=self.http)

    def _list(self, what: str, *, limit: int = 500, **filters: Any) -> list[RemoteMessage]:
        found: dict[str, Any] = {}
        try:
            page = self.client.messages.page(page_size=100, **filters)
            while page is not None and len(found) < limit:
                before = len(found)
                found.update((m.sid, m) for m in page)
                if len(found) == before:  # a page with nothing new: stop (pages can overlap)
                    break
                page = page.next_page()
        except (TwilioException, OSError) as exc:
            raise _error(exc, what) from None
        unique = found.values()
        return [
            RemoteMessage(
                sid=str(m.sid), direction=str(m.direction or ""), sender=str(m.from_ or ""), to=str(m.to or ""),
                body=str(m.body or ""), status=str(m.status or ""), date_sent=m.date_sent,
                num_media=_count(m.num_media),
            )
            for m in unique
        ]  # fmt: skip

    def _addresses(self) -> list[str]:
        """The node's number, and its WhatsApp sender when set: both receive and send (docs/sms.md)."""
        return [a for a in (self.number, self.whatsapp_from) if a]

    def inbound(self, since: datetime | None) -> list[RemoteMessage]:
        """Messages to the node's number and WhatsApp sender (on or after ``since``'s day: Twilio
        filters by date)."""
        msgs: list[RemoteMessage] = []
        for address in self._addresses():
            filters: dict[str, Any] = {"to": address}
            if since is not None:
                filters["date_sent_after"] = since
            msgs += [m for m in self._list("list inbound", **filters) if m.direction == "inbound"]
        return sorted(msgs, key=lambda m: (m.date_sent.timestamp() if m.date_sent else 0.0, m.sid))

    def finished_outbound(self) -> list[RemoteMessage]:
        return [
            m
            for address in self._addresses()
            for m in self._list("list outbound", from_=address)
            if m.direction.startswith("outbound") and m.status in FINISHED
        ]

    def media(self, message_sid: str) -> list[str]:
        """The SIDs of the Media resources a message still has at Twilio (its Media list resource)."""
        try:
            return [str(m.sid) for m in self.client.messages(message_sid).media.list(limit=100, page_size=100)]
        except (TwilioException, OSError) as exc:
            raise _error(exc, "list media") from None

    def delete(self, sid: str) -> bool:
        """True if deleted; False if Twilio refused (e.g. still in flight); raises if unreachable."""
        return _delete("delete", lambda: self.client.messages(sid).delete())

    def delete_media(self, message_sid: str, media_sid: str) -> bool:
        """Delete one Media resource of a message (MMS / WhatsApp): the file Twilio keeps until then."""
        return _delete("delete media", lambda: self.client.messages(message_sid).media(media_sid).delete())

    def redact(self, sid: str) -> None:
        """Blank the body where deletion is refused (Twilio's documented redaction)."""
        try:
            self.client.messages(sid).update(body="")
        except (TwilioException, OSError) as exc:
            raise _error(exc, "redact") from None

    def send(self, to: str, body: str, *, from_: str | None = None) -> str:
        """Send ``body`` to ``to`` from the node's number (or ``from_``: the WhatsApp sender)."""
        try:
            message = self.client.messages.create(to=to, from_=from_ or self.number, body=body)
        except (TwilioException, OSError) as exc:
            raise _error(exc, "send") from None
        return str(message.sid)

    def call(self, to: str, url: str) -> str:
        """Place a call from the node's number (Twilio's Calls resource); Twilio POSTs to ``url`` for
        its TwiML when the call is answered. Returns the call's SID."""
        try:
            placed = self.client.calls.create(to=to, from_=self.number, url=url, method="POST")
        except (TwilioException, OSError) as exc:
            raise _error(exc, "call") from None
        return str(placed.sid)


@dataclass(frozen=True)
class RemoteRecording:
    sid: str
    call_sid: str
    status: str
    duration: int


def _recordings_filters() -> dict[str, Any]:
    return {"page_size": 100}


FINISHED_CALL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


class RecordingsGateway(TwilioGateway):
    """Twilio's Recordings resource (list, fetch the audio, delete) and the hotline's call records."""

    NEEDS_NUMBER = False

    def recordings(self, limit: int = 500) -> list[RemoteRecording]:
        found: dict[str, Any] = {}
        try:
            page = self.client.recordings.page(**_recordings_filters())
            while page is not None and len(found) < limit:
                before = len(found)
                found.update((r.sid, r) for r in page)
                if len(found) == before:
                    break
                page = page.next_page()
        except (TwilioException, OSError) as exc:
            raise _error(exc, "list recordings") from None
        return [
            RemoteRecording(str(r.sid), str(r.call_sid or ""), str(r.status or ""), int(r.duration or 0))
            for r in found.values()
        ]

    def finished_calls(self, to: str, limit: int = 500) -> list[str]:
        """SIDs of calls to ``to`` (the hotline number) that are over: their records hold callers' numbers."""
        found: dict[str, Any] = {}
        try:
            page = self.client.calls.page(to=to, page_size=100)
            while page is not None and len(found) < limit:
                items = list(page)
                found.update((c.sid, c) for c in items if str(c.status or "") in FINISHED_CALL)
                if len(items) < 100:  # a short page is the last one
                    break
                page = page.next_page()
        except (TwilioException, OSError) as exc:
            raise _error(exc, "list calls") from None
        return [str(sid) for sid in found]

    def delete_call(self, call_sid: str) -> bool:
        """Delete a call record (the caller's number, times, duration). False when Twilio refuses:
        a call not yet finished everywhere (error 20009: try again minutes later) or already gone."""
        return _delete("delete call", lambda: self.client.calls(call_sid).delete())

    def media_url(self, recording_sid: str) -> str:
        sid = self.client.account_sid
        return f"{self.http.base}/2010-04-01/Accounts/{sid}/Recordings/{recording_sid}.mp3"

    def delete_recording(self, recording_sid: str) -> bool:
        return _delete("delete recording", lambda: self.client.recordings(recording_sid).delete())
