"""``intake sms pull``: bring in SMS that wait at Twilio, send queued replies, leave nothing there.

For a node behind NAT (no webhook can reach it) or whose link was down: every inbound message
to the node's number goes through the same engine as the webhook, then is deleted at Twilio
(redacted where deletion is refused). Replies go through the durable outbox and are retried with
exponential back-off and jitter while offline or rate-limited (HTTP 429 / error 20429). Sent
replies are deleted at Twilio once they are no longer in flight, so a compromised Twilio account
holds no bodies older than the last pull (SCENARIOS.md #7).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

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


def backoff(attempts: int) -> float:
    """Seconds until the next try: exponential, capped, with full jitter (no thundering herd)."""
    ceiling = min(MAX_DELAY, BASE_DELAY * (1 << min(attempts, 20)))
    return ceiling / 2 + secrets.randbelow(int(ceiling / 2) + 1)


def pull(sms: SmsChannel, gateway: TwilioGateway, *, now: float | None = None) -> PullResult:
    result = PullResult()
    try:
        _receive(sms, gateway, result)
    except GatewayError as exc:
        result.offline = exc.retry
        log.warning("twilio pull: %s", exc)
    except StoreUnavailable:
        # Nothing was deleted at Twilio for the message that failed: it waits there for next time.
        log.error("twilio pull: inbox not writable; stopped")
        raise
    _send(sms, gateway, result, now or clock.time())
    if not result.offline:
        try:
            for m in gateway.finished_outbound():
                if gateway.delete(m.sid):
                    result.cleaned += 1
        except GatewayError as exc:
            log.warning("twilio cleanup: %s", exc)
    return result


def _receive(sms: SmsChannel, gateway: TwilioGateway, result: PullResult) -> None:
    inbox = sms.service.inbox
    cursor_text = inbox.get_meta(CURSOR)
    since = datetime.fromisoformat(cursor_text) if cursor_text else None
    newest = since
    for m in gateway.inbound(since):
        handle_inbound(sms, SmsInbound("twilio", m.sid, m.sender, m.body), queue_replies=True)
        result.received += 1
        if gateway.delete(m.sid):
            result.deleted += 1
        else:
            gateway.redact(m.sid)
            result.redacted += 1
        if m.date_sent and (newest is None or m.date_sent > newest):
            newest = m.date_sent
    if newest is not None and newest != since:
        inbox.set_meta(CURSOR, newest.astimezone(UTC).isoformat())


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
        try:
            if token is not None:
                gateway.call(to, callback_url(sms.service.settings, token))
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
