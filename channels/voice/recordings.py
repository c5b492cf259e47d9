"""Taking a call recording in: download (in memory), seal, store, then delete it at Twilio.

A recording left at Twilio is evidence anyone with the account can hear (SCENARIOS.md #7), so it
is deleted as soon as its sealed copy is committed. No clear audio ever touches the disk: the
download is held in memory, sealed to the node key, and only the sealed item is written.

If Twilio keeps answering "not ready" or the download fails for good, a sealed "recording
missing" item with the RecordingSid is stored instead, so a caseworker can retry with
``intake voice retry``; the recording is then left at Twilio, never dropped silently.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import httpx

from channels.background import BackgroundJobs
from channels.sms.twilio_rest import TWILIO_BASE, RecordingsGateway
from intake.errors import GatewayError
from intake.node import VOICE_SEEN_LABEL, IntakeKeys
from intake.services import IntakeService, seal_recording

log = logging.getLogger("intake.voice")

MAX_AUDIO = 30 * 1024 * 1024  # 300 s of WAV at 8 kHz is ~4.8 MB; MP3 far less
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
AUDIO_TYPES = {"audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav"}


class NotReady(Exception):
    """Twilio has not finished processing the recording yet (404/409/5xx): try again later."""


class BadAudio(Exception):
    """What came back is not a recording we can keep (empty, too large, not audio)."""


@dataclass(frozen=True)
class Fetched:
    audio: bytes
    content_type: str


def looks_like_audio(data: bytes, content_type: str) -> bool:
    kind = AUDIO_TYPES.get(content_type.split(";")[0].strip().lower())
    if kind == "wav":
        return len(data) > 44 and data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    if kind == "mp3":
        return len(data) > 4 and (data[:3] == b"ID3" or (data[0] == 0xFF and data[1] & 0xE0 == 0xE0))
    return False


class RecordingFetcher(BackgroundJobs):
    """Downloads recordings in the background so Twilio's callback gets its answer at once."""

    def __init__(
        self,
        service: IntakeService,
        *,
        delays: Sequence[float] = RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(thread_name="recording-fetcher", log=log, failed="recording not processed")
        settings = service.settings
        self.service = service
        self.settings = settings
        self.delays = tuple(delays)
        self.sleep = sleep
        self._seen_key = IntakeKeys.load(settings.intake_key_path).key(VOICE_SEEN_LABEL)
        self._http = httpx.Client(
            auth=(settings.twilio_account_sid, settings.twilio_auth_token), timeout=30, transport=transport
        )

    # -- background (channels/background.py) ---------------------------------------------------
    def submit(self, recording_sid: str, url: str) -> None:
        """Download, store and delete at Twilio in the background (:meth:`process`)."""
        super().submit(recording_sid, url)

    def close(self) -> None:
        super().close()
        self._http.close()

    # -- one recording -------------------------------------------------------------------------
    def seen_key(self, recording_sid: str) -> bytes:
        return hmac.new(self._seen_key, recording_sid.encode(), hashlib.sha256).digest()

    def process(self, recording_sid: str, url: str) -> str:
        """Download, seal, store, delete at Twilio. Returns what happened (for logs and tests)."""
        inbox = self.service.inbox
        key = self.seen_key(recording_sid)
        if inbox.seen(key) is not None:
            return "duplicate"
        try:
            fetched = self.fetch(url)
        except (BadAudio, NotReady, httpx.HTTPError, ValueError) as exc:
            reason = "bad audio" if isinstance(exc, BadAudio) else "download failed"
            item_id, blob = seal_recording(self.service, recording_sid, None, "", reason)
            inbox.put_once(key, item_id, blob)
            log.warning("recording could not be downloaded (%s); left at Twilio for 'intake voice retry'", reason)
            return "missing"
        item_id, blob = seal_recording(self.service, recording_sid, fetched.audio, fetched.content_type)
        if not inbox.put_once(key, item_id, blob):
            return "duplicate"
        del fetched  # the only clear copy, in memory
        self.delete_at_twilio(recording_sid)
        log.info("recording stored sealed and deleted at Twilio")
        return "stored"

    def delete_at_twilio(self, recording_sid: str) -> bool:
        try:
            deleted = RecordingsGateway(self.settings).delete_recording(recording_sid)
        except GatewayError as exc:
            log.warning("recording not deleted at Twilio yet: %s", exc)
            return False
        if not deleted:
            log.warning("Twilio refused to delete a recording; delete it in the console")
        return deleted

    def media_url(self, url: str) -> str:
        """Only Twilio's API (or the configured stand-in) may be fetched: no open redirect or SSRF."""
        base = self.settings.twilio_api_base.rstrip("/")
        if url.startswith(TWILIO_BASE + "/"):
            url = base + url[len(TWILIO_BASE) :]
        if not url.startswith(base + "/2010-04-01/Accounts/"):
            raise ValueError("recording URL is not Twilio's")
        if not url.rsplit("/", 1)[-1].count("."):
            url += ".mp3"  # a smaller download than Twilio's default WAV
        return url

    def fetch(self, url: str) -> Fetched:
        target = self.media_url(url)
        for attempt, delay in enumerate((0.0, *self.delays)):
            if delay:
                self.sleep(delay)
            try:
                return self._get(target)
            except NotReady:
                if attempt == len(self.delays):
                    raise
        raise NotReady("gave up")  # pragma: no cover - the loop returns or raises

    def _get(self, url: str) -> Fetched:
        with self._http.stream("GET", url, follow_redirects=False) as resp:
            if resp.status_code in (404, 409, 429) or resp.status_code >= 500:
                raise NotReady(str(resp.status_code))
            if resp.status_code != 200:
                raise BadAudio(f"HTTP {resp.status_code}")
            declared = int(resp.headers.get("content-length") or 0)
            if declared > MAX_AUDIO:
                raise BadAudio("too large")
            chunks, size = [], 0
            for chunk in resp.iter_bytes():
                size += len(chunk)
                if size > MAX_AUDIO:
                    raise BadAudio("too large")
                chunks.append(chunk)
            audio = b"".join(chunks)
            content_type = resp.headers.get("content-type", "").split(";")[0].strip().lower()
        if not looks_like_audio(audio, content_type):
            raise BadAudio("not audio")
        return Fetched(audio, content_type)
