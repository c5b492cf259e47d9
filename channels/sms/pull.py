"""``intake sms pull``: bring in SMS that wait at Twilio, send queued replies, leave nothing there.

For a node behind NAT (no webhook can reach it) or whose link was down: every inbound message
to the node's number goes through the same engine as the webhook, then is deleted at Twilio
(redacted where deletion is refused). Replies go through the durable outbox and are retried with
exponential back-off and jitter while offline or rate-limited (HTTP 429 / error 20429). Sent
replies are deleted at Twilio once they are no longer in flight, so a compromised Twilio account
holds no bodies older than the last pull (SCENARIOS.md #7).

Messages to the WhatsApp sender (``twilio_whatsapp_from``) are listed and deleted the same way. A
message with files (MMS / WhatsApp) has them fetched, cleaned and sealed by the webhook's own
:meth:`MediaFetcher.process` before the message is deleted, since deleting it deletes its media.
A file Twilio will not serve (after the fetcher's retries) leaves the message untouched at Twilio
for the next pull (the cursor waits for it) during MEDIA_PATIENCE after it was sent; after that it
is handled as on the webhook: named in a "missing" item, left at Twilio, the body blanked.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from channels.sms import whatsapp
from channels.sms.media import InboundMedia, MediaFetcher, pulled_media
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from channels.sms.twilio_rest import TwilioGateway
from channels.voice.callback_token import call_token, callback_url
from intake import clock
from intake.errors import GatewayError, StoreUnavailable

log = logging.getLogger("intake.sms.pull")
CURSOR = "twilio_cursor"
MAX_ATTEMPTS = 12
BASE_DELAY = 30.0
MAX_DELAY = 3600.0
#: How long a pulled message whose file Twilio will not serve is left for later pulls (from its date_sent).
MEDIA_PATIENCE = timedelta(hours=24)
MAX_BATCHES = 100  # of 50 replies: one pull sends at most this many batches, the rest wait for the next


@dataclass
class PullResult:
    received: int = 0
    deleted: int = 0
    redacted: int = 0
    sent: int = 0
    retrying: int = 0
    dropped: int = 0
    cleaned: int = 0
    offline: bool = False
    media: int = 0  # messages whose files were fetched and stored
    media_missing: int = 0  # ... whose files could not be (named in a "missing" item)
    media_later: int = 0  # ... left at Twilio untouched: a file was not served, tried again next pull
    whatsapp_waiting: int = 0  # replies to WhatsApp workers outside their 24-hour window: kept queued


def backoff(attempts: int) -> float:
    """Seconds until the next try: exponential, capped, with full jitter (no thundering herd)."""
    ceiling = min(MAX_DELAY, BASE_DELAY * (1 << min(attempts, 20)))
    return ceiling / 2 + secrets.randbelow(int(ceiling / 2) + 1)


def pull(sms: SmsChannel, gateway: TwilioGateway, *, now: float | None = None) -> PullResult:
    result = PullResult()
    try:
        _receive(sms, gateway, result, now or clock.time())
    except GatewayError as exc:
        result.offline = exc.retry
        log.warning("twilio pull: %s", exc)
    except StoreUnavailable:
        # Nothing was deleted at Twilio for the message that failed: it waits there for next time.
        log.error("twilio pull: inbox not writable; stopped")
        raise
    _send(sms, gateway, result, now or clock.time())  # read after: the replies just queued are due
    if not result.offline:
        try:
            for m in gateway.finished_outbound():
                if gateway.delete(m.sid):
                    result.cleaned += 1
        except GatewayError as exc:
            log.warning("twilio cleanup: %s", exc)
    return result


def _receive(sms: SmsChannel, gateway: TwilioGateway, result: PullResult, now: float) -> None:
    inbox = sms.service.inbox
    cursor_text = inbox.get_meta(CURSOR)
    since = datetime.fromisoformat(cursor_text) if cursor_text else None
    newest = since
    held: datetime | None = None  # the oldest message left for later: the cursor may not pass it
    fetcher: MediaFetcher | None = None
    try:
        for m in gateway.inbound(since):
            media = pulled_media(sms.service.settings, m.sid, gateway.media(m.sid)) if m.num_media else None
            msg = SmsInbound("twilio", m.sid, m.sender, m.body, received_at=m.date_sent, media=media)
            handle_inbound(sms, msg, queue_replies=True, submit_media=False)
            result.received += 1
            if media is not None:
                fetcher = fetcher or sms.media or MediaFetcher(sms.service)
                patient = m.date_sent is not None and now - m.date_sent.timestamp() < MEDIA_PATIENCE.total_seconds()
                if not _media(fetcher, gateway, media, m.sid, result, patient=patient):
                    held = m.date_sent if held is None or (m.date_sent and m.date_sent < held) else held
            elif gateway.delete(m.sid):
                result.deleted += 1
            else:
                gateway.redact(m.sid)
                result.redacted += 1
            if m.date_sent and (newest is None or m.date_sent > newest):
                newest = m.date_sent
    finally:
        if fetcher is not None and fetcher is not sms.media:
            fetcher.close()
    if held is not None and newest is not None:
        newest = min(newest, held)
    if newest is not None and newest != since:
        inbox.set_meta(CURSOR, newest.astimezone(UTC).isoformat())


def _media(
    fetcher: MediaFetcher, gateway: TwilioGateway, media: InboundMedia, sid: str, result: PullResult, *, patient: bool
) -> bool:
    """The files of a pulled message, before it is deleted (the fetcher deletes it, or blanks it
    where a file is left at Twilio). Stored already (the webhook's fetcher, or a pull that stopped
    before deleting): only the body is blanked, as the files may be left there on purpose.
    False: left untouched for the next pull."""
    outcome = fetcher.process(media, gateway=gateway, patient=patient)
    if outcome == "later":
        result.media_later += 1
        return False
    if outcome == "duplicate":
        gateway.redact(sid)
        result.redacted += 1
        return True
    result.media += outcome == "stored"
    result.media_missing += outcome == "missing"
    result.deleted += 1  # deleted, or blanked where a file stays: counted once, with the message
    return True


def _send(sms: SmsChannel, gateway: TwilioGateway, result: PullResult, now: float) -> None:
    """Send every reply that is due, a batch at a time (a pull after a long outage has hundreds)."""
    for _ in range(MAX_BATCHES):
        rows = sms.service.inbox.outbox_due("twilio", int(now))
        if not rows:
            return
        _send_batch(sms, gateway, result, now, rows)
        if result.offline:
            return


def _send_batch(
    sms: SmsChannel, gateway: TwilioGateway, result: PullResult, now: float, rows: list[tuple[int, bytes, bytes, int]]
) -> None:
    inbox = sms.service.inbox
    for outbox_id, recipient, body, attempts in rows:
        to, text = sms.open_recipient(recipient, body)
        token = call_token(text)  # a call-back queued by the desk (issue 15), not an SMS
        wa_from = sms.service.settings.twilio_whatsapp_from
        if (
            token is None
            and whatsapp.is_whatsapp(to)
            and not (wa_from and whatsapp.window_open(sms.service, sms.reporter(to), now))
        ):
            # Free text outside the 24-hour window would fail (Twilio error 63016): a template is
            # needed. Kept queued, not counted as a failed try, and looked at again later.
            whatsapp.defer(sms.service, outbox_id, int(now) + whatsapp.DEFER)
            result.whatsapp_waiting += 1
            continue
        try:
            if token is not None:
                gateway.call(to.removeprefix(whatsapp.PREFIX), callback_url(sms.service.settings, token))
            elif whatsapp.is_whatsapp(to):
                gateway.send(to, text, from_=wa_from)
            else:
                gateway.send(to, text)
        except GatewayError as exc:
            if exc.retry and attempts + 1 < MAX_ATTEMPTS:
                inbox.outbox_retry(outbox_id, int(now + backoff(attempts)))
                result.retrying += 1
                if exc.http_status is None:  # unreachable: the rest will fail the same way
                    result.offline = True
                    break
                continue
            log.warning(
                "twilio send gave up after %d attempts (HTTP %s code %s)",
                attempts + 1,
                exc.http_status,
                exc.twilio_code,
            )
            inbox.outbox_done([outbox_id])
            result.dropped += 1
            continue
        inbox.outbox_done([outbox_id])
        result.sent += 1
