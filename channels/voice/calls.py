"""One call, one report, one receipt: storing a hotline statement once, however often Twilio asks.

Twilio retries a webhook that timed out or failed (and a proxy may replay one), so
``/twilio/voice/recorded`` can arrive two or three times for the same CallSid and RecordingSid.
As SMS does for a MessageSid (:mod:`channels.sms.service`), the first request stores the report
and a de-duplication key, a keyed hash of the two ids, in one transaction; a retry stores nothing
and must hear the same receipt read back, so the worker never leaves with a code that reaches no
case.

The intake never holds the passphrase, so the receipt kept for retries is encrypted under a key
derived from the CallSid and RecordingSid themselves, which the intake does not store (only their
keyed hash): only a request naming that call again can read it (docs/threat-model.md#seizure).
It is forgotten with the de-duplication key after ``SEEN_TTL`` (Twilio retries within minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import threading

from channels.sms.service import SEEN_TTL, SWEEP_EVERY
from crypto import CannotOpen
from crypto.fields import decrypt_field, encrypt_field
from crypto.kdf import derive_key
from intake import clock
from intake.domain import ReceiptCode, Report
from intake.errors import StoreUnavailable
from intake.node import VOICE_CALL_LABEL, VOICE_RECEIPT_LABEL, IntakeKeys
from intake.receipts import parse_receipt
from intake.services import IntakeService, seal_report

log = logging.getLogger("intake.voice")
_CONTEXT = b"voice-receipt"


class CallReports:
    """Stores each call's report once; per process, bound to a service."""

    def __init__(self, service: IntakeService) -> None:
        self.service = service
        self._key = IntakeKeys.load(service.settings.intake_key_path).key(VOICE_CALL_LABEL)
        self._lock = threading.Lock()
        self._last_sweep = float("-inf")

    def _ids(self, call_sid: str, recording_sid: str) -> bytes:
        return call_sid.encode("utf-8", "replace") + b"\x00" + recording_sid.encode("utf-8", "replace")

    def seen_key(self, call_sid: str, recording_sid: str) -> bytes:
        # Its own label and prefix: never the key the recording fetcher uses for the audio.
        return hmac.new(self._key, b"seen\x00" + self._ids(call_sid, recording_sid), hashlib.sha256).digest()

    def receipt_key(self, call_sid: str, recording_sid: str) -> bytes:
        per_call = hmac.new(self._key, b"receipt\x00" + self._ids(call_sid, recording_sid), hashlib.sha256).digest()
        return derive_key(per_call, VOICE_RECEIPT_LABEL)

    def store(self, report: Report, call_sid: str, recording_sid: str) -> ReceiptCode:
        """The call's receipt: a new report the first time, the same receipt for every retry."""
        self._sweep()
        inbox = self.service.inbox
        key = self.seen_key(call_sid, recording_sid)
        cached = inbox.seen(key)
        if cached is not None:
            log.info("call report retried; answered with the stored receipt")
            return self._open(cached, call_sid, recording_sid)
        item_id, blob, receipt, receipt_hash = seal_report(self.service, report, recording_sid=recording_sid)
        sealed = encrypt_field(self.receipt_key(call_sid, recording_sid), receipt.encode(), context=_CONTEXT)
        if inbox.put_once(key, item_id, blob, board=receipt_hash, replies=sealed):
            log.info("call report accepted")
            return receipt
        # The same call, stored by a retry that ran at the same time: its receipt is the one.
        cached = inbox.seen(key)
        if cached is None:  # pragma: no cover - the key was just found taken
            raise StoreUnavailable("call report: de-duplication key vanished")
        return self._open(cached, call_sid, recording_sid)

    def _open(self, cached: bytes, call_sid: str, recording_sid: str) -> ReceiptCode:
        try:
            text = decrypt_field(self.receipt_key(call_sid, recording_sid), cached, context=_CONTEXT).decode()
        except (CannotOpen, UnicodeDecodeError):
            text = ""
        receipt = parse_receipt(text)
        if receipt is None:
            # Stored, but its receipt cannot be read back: say so rather than store a second report.
            raise StoreUnavailable("call report stored; receipt not recoverable")
        return receipt

    def _sweep(self) -> None:
        """Every few minutes: forget de-duplication keys (and the receipts kept with them) past SEEN_TTL."""
        with self._lock:
            if clock.monotonic() - self._last_sweep < SWEEP_EVERY:
                return
            self._last_sweep = clock.monotonic()
        self.service.inbox.forget_seen(int(clock.time()) - SEEN_TTL)
