"""Photos and documents sent by MMS or WhatsApp: fetched from Twilio, cleaned, sealed, deleted there.

Twilio's webhook names each file as ``MediaUrl0..MediaUrl{NumMedia-1}`` (with ``MediaContentTypeN``)
on its API host: ``/2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{MediaSid}``
(https://www.twilio.com/docs/messaging/guides/webhook-request). Only such URLs, for our account and
this very message, are fetched, with the account's credentials, from ``twilio_api_base``; anything
else is refused unfetched (a forged URL would get our credentials or reach inside the network).
With "Enforce HTTP Auth on Media URLs" on, Twilio answers with a redirect to a URL valid for four
hours on ``mms.twiliocdn.com`` (``s3-external-1.amazonaws.com`` without it; Twilio help article
223183748); that one hop is followed, without credentials, to those hosts only.

Each download is capped at ``max_file_bytes`` while it streams, held in memory only, cleaned by
:func:`intake.evidence.clean` (metadata stripped; a refused file is not kept) and sealed with one
"media" item per message (:func:`intake.services.accept_media`, once per MessageSid). Then each
Media resource is deleted at Twilio and the message with it (its body blanked where Twilio refuses
the deletion): Twilio keeps media until it is deleted (https://www.twilio.com/docs/messaging/api/
media-resource). A file Twilio would not serve for now is left there and named in the item's
"missing" reason, like a recording (channels/voice/recordings.py).

``intake sms pull`` brings in the messages the webhook missed: it lists a message's Media resources
(:func:`pulled_media`) and runs the same :meth:`MediaFetcher.process` before the message is deleted
(deleting a message deletes its media: the files would be lost). A worker's STOP is recorded under
the message's media key (:func:`record_stop`) before anything else, so no retry, webhook or pull,
ever keeps that message's files.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from channels.background import BackgroundJobs
from channels.sms.twilio_rest import TWILIO_BASE, TwilioGateway
from crypto import seal_item
from intake.errors import BadFile, GatewayError
from intake.evidence import Evidence, clean
from intake.node import SMS_SEEN_LABEL, IntakeKeys
from intake.services import MEDIA_STOPPED, IntakeService, accept_media, stop_media
from intake.settings import Settings

log = logging.getLogger("intake.sms.media")

MAX_MEDIA = 10  # Twilio's own limit per message
RETRY_DELAYS = (1.0, 2.0, 4.0, 8.0)
#: Where Twilio's API redirects a media download (credentials never follow a redirect there).
MEDIA_HOSTS = ("https://mms.twiliocdn.com", "https://media.twiliocdn.com", "https://s3-external-1.amazonaws.com")
_SID = r"[0-9a-fA-F]{32}"
#: Recorded under a message's media key when its worker wrote STOP: its files are never kept.
STOPPED = MEDIA_STOPPED
_MEDIA_PATH = re.compile(rf"/2010-04-01/Accounts/(AC{_SID})/Messages/([MS]M{_SID})/Media/(ME{_SID})")


@dataclass(frozen=True)
class MediaRef:
    media_sid: str
    path: str  # under the API base: /2010-04-01/Accounts/.../Media/ME...


@dataclass(frozen=True)
class InboundMedia:
    """The files of one inbound message that will be fetched, and what was left out."""

    message_sid: str
    refs: tuple[MediaRef, ...]
    ignored: int = 0  # beyond max_files: not fetched, the worker is told
    refused: int = 0  # not a URL of Twilio's for this message: not fetched

    @property
    def kept(self) -> bool:
        """Whether an item will be stored for it (and so a part links the conversation to it)."""
        return bool(self.refs or self.refused)


class NotReady(Exception):
    """Twilio would not serve the file now (404, 409, 429, 5xx, or unreachable)."""


class Unusable(Exception):
    """What came back cannot be kept: too big, a redirect elsewhere, an odd status."""


def media_path(settings: Settings, url: str, message_sid: str) -> MediaRef | None:
    """The media's path if ``url`` is a Media resource of this message on Twilio's API (or the
    configured stand-in) for our account, else None."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    if origin not in (TWILIO_BASE, settings.twilio_api_base.rstrip("/")) or parts.query or parts.fragment:
        return None
    found = _MEDIA_PATH.fullmatch(parts.path)
    if found is None or found[1] != settings.twilio_account_sid or found[2] != message_sid:
        return None
    return MediaRef(found[3], parts.path)


def inbound_media(settings: Settings, params: Mapping[str, str]) -> InboundMedia | None:
    """The media of a webhook's message (None without any): at most ``max_files`` taken."""
    try:
        count = min(int(params.get("NumMedia", "0") or 0), MAX_MEDIA)
    except ValueError:
        count = 0
    sid = params.get("MessageSid", "")
    if count <= 0 or not re.fullmatch(rf"[MS]M{_SID}", sid):
        return None
    return _taken(settings, sid, [params.get(f"MediaUrl{i}", "") for i in range(count)])


def pulled_media(settings: Settings, message_sid: str, media_sids: Sequence[str]) -> InboundMedia | None:
    """The media of a message found by ``intake sms pull`` (its Media list at Twilio), checked and
    capped exactly like a webhook's: None when it has none left there."""
    if not media_sids or not re.fullmatch(rf"[MS]M{_SID}", message_sid):
        return None
    account = f"{TWILIO_BASE}/2010-04-01/Accounts/{settings.twilio_account_sid}/Messages/{message_sid}/Media/"
    return _taken(settings, message_sid, [account + sid for sid in media_sids[:MAX_MEDIA]])


def _taken(settings: Settings, sid: str, urls: Sequence[str]) -> InboundMedia:
    refs: list[MediaRef] = []
    refused = 0
    for url in urls:
        ref = media_path(settings, url, sid)
        if ref is None:
            refused += 1
        elif ref not in refs:
            refs.append(ref)
    taken = refs[: settings.max_files]
    if refused:
        log.warning("media URL not Twilio's refused count=%d", refused)
    return InboundMedia(sid, tuple(taken), ignored=len(refs) - len(taken), refused=refused)


def media_key(key: bytes, message_sid: str) -> bytes:
    """The keyed hash a message's media is stored once under (``key``: the SMS_SEEN_LABEL key)."""
    return hmac.new(key, b"media\x00" + message_sid.encode("utf-8", "replace"), hashlib.sha256).digest()


def record_stop(service: IntakeService, key: bytes) -> None:
    """Record that the message under media key ``key`` was a STOP: :func:`accept_media` then never
    stores it (its once-key is taken) and :meth:`MediaFetcher.process` only deletes at Twilio."""
    stop_media(service, key)


def media_part(service: IntakeService, message_sid: str) -> bytes:
    """The sealed conversation part that links a report to the "media" item of this message."""
    doc = {"field": "media", "media_sid": message_sid}
    return seal_item(json.dumps(doc).encode(), to=service.public_key)


class MessagesGateway(TwilioGateway):
    """Twilio's Messages and Media resources (no sending number needed to delete)."""

    NEEDS_NUMBER = False


class MediaFetcher(BackgroundJobs):
    """Downloads a message's media in the background, so Twilio's webhook gets its answer at once."""

    def __init__(
        self,
        service: IntakeService,
        *,
        delays: Sequence[float] = RETRY_DELAYS,
        sleep: Callable[[float], None] = time.sleep,
        media_hosts: Collection[str] = MEDIA_HOSTS,
    ) -> None:
        super().__init__(thread_name="media-fetcher", log=log, failed="media not processed")
        settings = service.settings
        self.service = service
        self.settings = settings
        self.delays = tuple(delays)
        self.sleep = sleep
        self.media_hosts = frozenset(h.rstrip("/") for h in media_hosts)
        self._key = IntakeKeys.load(settings.intake_key_path).key(SMS_SEEN_LABEL)
        auth = (settings.twilio_account_sid, settings.twilio_auth_token)
        self._api = httpx.Client(auth=auth, timeout=30, follow_redirects=False)
        self._cdn = httpx.Client(timeout=30, follow_redirects=False)  # no credentials, ever

    # -- background (channels/background.py) ---------------------------------------------------
    def submit(self, media: InboundMedia, *, store: bool = True) -> None:
        """Fetch and store (``store``), then delete at Twilio; ``store=False`` (STOP) only deletes."""
        super().submit(media, store)

    def close(self) -> None:
        super().close()
        self._api.close()
        self._cdn.close()

    # -- one message ---------------------------------------------------------------------------
    def seen_key(self, message_sid: str) -> bytes:
        return media_key(self._key, message_sid)

    def process(
        self, media: InboundMedia, store: bool = True, gateway: TwilioGateway | None = None, *, patient: bool = False
    ) -> str:
        """Fetch, clean, seal, store once, delete at Twilio (through ``gateway``, else one of its
        own). Returns what happened: "stored", "missing", "deleted" or "duplicate"; with ``patient``
        (``intake sms pull``, which comes back), "later" when Twilio did not serve a file: nothing
        stored, nothing deleted."""
        key = self.seen_key(media.message_sid)
        recorded = self.service.inbox.seen(key)
        if recorded == STOPPED or not store:
            store = False  # the worker wrote STOP with it (recorded before any retry could get here)
            record_stop(self.service, key)
        elif media.kept and recorded is not None:
            return "duplicate"  # a retried webhook: stored and cleaned up the first time
        left: list[MediaRef] = []  # Twilio would not serve them now: left there, not deleted
        outcome = "deleted"
        if store and media.kept:
            files, problems = self._fetch_all(media, left)
            if patient and left:
                return "later"
            if not accept_media(self.service, media.message_sid, key, files or None, "; ".join(problems)):
                return "duplicate"
            outcome = "stored" if files else "missing"
            if problems:
                log.warning("media partly missing problems=%d", len(problems))
        self.delete_at_twilio(media, left, gateway)
        return outcome

    def _fetch_all(self, media: InboundMedia, left: list[MediaRef]) -> tuple[list[Evidence], list[str]]:
        files: list[Evidence] = []
        problems: list[str] = []
        keep = bool(self.settings.keep_originals)
        for n, ref in enumerate(media.refs, start=1):
            try:
                data = self.fetch(ref)
                files.append(clean(data, keep_original=keep))
                del data  # the only clear copy, in memory
            except BadFile as exc:
                problems.append(f"file {n}: refused ({exc.reason})")
            except Unusable as exc:
                problems.append(f"file {n}: {exc}")
            except (NotReady, httpx.HTTPError, httpx.InvalidURL, ValueError):
                problems.append(f"file {n}: Twilio did not serve it (left at Twilio)")
                left.append(ref)
        if media.refused:
            problems.append(f"{media.refused} file(s) not at Twilio's address: not fetched")
        return files, problems

    def fetch(self, ref: MediaRef) -> bytes:
        """One file's bytes, retried while Twilio is not ready; raises NotReady in the end."""
        url = self.settings.twilio_api_base.rstrip("/") + ref.path
        for attempt, delay in enumerate((0.0, *self.delays)):
            if delay:
                self.sleep(delay)
            try:
                return self._get(url)
            except (NotReady, httpx.TransportError):
                if attempt == len(self.delays):
                    raise
        raise NotReady("gave up")  # pragma: no cover - the loop returns or raises

    def _get(self, url: str) -> bytes:
        with self._api.stream("GET", url) as resp:
            if resp.is_redirect:
                target = resp.headers.get("location", "")
                return self._from_cdn(str(resp.url.join(target)))
            return self._read(resp)

    def _from_cdn(self, url: str) -> bytes:
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" not in self.media_hosts or parts.username or parts.password:
            raise Unusable("redirected away from Twilio's media hosts: not followed")
        with self._cdn.stream("GET", url) as resp:
            if resp.is_redirect:
                raise Unusable("redirected twice: not followed")
            return self._read(resp)

    def _read(self, resp: httpx.Response) -> bytes:
        cap = self.settings.max_file_bytes
        if resp.status_code in (404, 409, 429) or resp.status_code >= 500:
            raise NotReady(str(resp.status_code))
        if resp.status_code != 200:
            raise Unusable(f"HTTP {resp.status_code}")
        if int(resp.headers.get("content-length") or 0) > cap:
            raise Unusable("too big")
        chunks, size = [], 0
        for chunk in resp.iter_bytes():
            size += len(chunk)
            if size > cap:  # counted while it streams: a lying or missing Content-Length changes nothing
                raise Unusable("too big")
            chunks.append(chunk)
        return b"".join(chunks)

    def delete_at_twilio(
        self, media: InboundMedia, left: Sequence[MediaRef] = (), gateway: TwilioGateway | None = None
    ) -> None:
        """Delete each Media resource fetched (or refused), then the message itself, or blank its
        body when Twilio refuses that or a file is left there for later."""
        try:
            gateway = gateway or MessagesGateway(self.settings)
            for ref in media.refs:
                if ref not in left and not gateway.delete_media(media.message_sid, ref.media_sid):
                    log.warning("Twilio refused to delete a media file; delete it in the console")
            if left or not gateway.delete(media.message_sid):
                gateway.redact(media.message_sid)
        except GatewayError as exc:
            log.warning("media or message not deleted at Twilio yet: %s", exc)
