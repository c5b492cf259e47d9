"""The hotline's TwiML: language menu, consent, call-back, recorded statement, receipt read back.

Every request is signature-checked like SMS. The call's choices travel in the query string of the
next step's URL (covered by the signature); the receipt code never does: "press 1 to hear it
again" refers to a random token kept in memory for ten minutes.
"""

from __future__ import annotations

import logging
import secrets
import threading
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, Response
from twilio.twiml.voice_response import Gather, VoiceResponse

import i18n
from channels.twilio_signature import twilio_params
from channels.voice import texts
from channels.voice.calls import CallReports
from channels.voice.recordings import RecordingFetcher
from channels.voice.voices import SAY_VOICES, Voice, prompt_file, voices
from intake import clock
from intake.domain import Channel, Consent, ReceiptCode, Report
from intake.errors import NotFound, StoreUnavailable
from intake.receipts import format_receipt
from intake.services import normalize_phone
from intake.settings import Settings

log = logging.getLogger("intake.voice")
router = APIRouter(include_in_schema=False)
PER_PAGE = 8  # digits 1-8 choose a language; 9 is "more languages" when there are more
MORE_DIGIT = "9"  # the next page; after the last page, the first again
REPEAT_TTL = 600.0


class _Repeats:
    """token -> (receipt, expiry), in memory only: lost on restart, which only ends the 'again' offer."""

    def __init__(self) -> None:
        self._items: dict[str, tuple[ReceiptCode, float]] = {}
        self._lock = threading.Lock()

    def add(self, receipt: ReceiptCode) -> str:
        token = secrets.token_urlsafe(12)
        now = clock.monotonic()
        with self._lock:
            self._items = {k: v for k, v in self._items.items() if v[1] > now}
            self._items[token] = (receipt, now + REPEAT_TTL)
        return token

    def get(self, token: str) -> ReceiptCode | None:
        with self._lock:
            found = self._items.get(token)
        return found[0] if found and found[1] > clock.monotonic() else None


def _state(request: Request) -> Any:
    st = request.app.state
    if getattr(st, "voice_repeats", None) is None:
        st.voice_repeats = _Repeats()
    if getattr(st, "voice_fetcher", None) is None:
        st.voice_fetcher = RecordingFetcher(st.service)
    if getattr(st, "voice_calls", None) is None:
        st.voice_calls = CallReports(st.service)
    return st


class Speaker:
    """Speaks a prompt in one locale: the group's recording if there is one, else Twilio's voice."""

    def __init__(self, settings: Settings, voice: Voice) -> None:
        self.settings = settings
        self.voice = voice
        self.t = i18n.translations(voice.locale)

    def __call__(self, target: VoiceResponse | Gather, key: str, **params: str) -> None:
        if key in self.voice.recorded and not params:
            target.play(self.prompt_url(key))
            return
        self.say(target, self.t.gettext(texts.PROMPTS[key]).format(**params))

    def prompt_url(self, key: str) -> str:
        return f"{self.settings.public_url.rstrip('/')}/twilio/voice/prompts/{self.voice.locale}/{key}.mp3"

    def say(self, target: VoiceResponse | Gather, text: str) -> None:
        if self.voice.say is None:
            return
        language, name = self.voice.say
        target.say(text, language=language, voice=name)

    def digits(self, target: VoiceResponse, receipt: ReceiptCode) -> None:
        """Read the receipt code, one digit at a time in groups of four. A language Twilio cannot
        speak uses the group's recordings ``digit_0`` ... ``digit_9``; without them, the default
        language's voice reads the digits: a worker must never leave the call without the code."""
        if all(f"digit_{d}" in self.voice.recorded for d in set(receipt)):
            for group in format_receipt(receipt).split("-"):
                for d in group:
                    target.play(self.prompt_url(f"digit_{d}"))
                target.pause(length=1)
            return
        if self.voice.say is not None:
            self.say(target, spoken_digits(receipt))
            return
        language, name = SAY_VOICES.get(self.settings.default_locale) or SAY_VOICES[i18n.SOURCE_LOCALE]
        target.say(spoken_digits(receipt), language=language, voice=name)


def _voices(settings: Settings) -> list[Voice]:
    found = voices(settings.home)
    if not found:
        raise NotFound("no language can be spoken")
    return found


def _voice(settings: Settings, locale: str | None) -> Voice:
    found = _voices(settings)
    for v in found:
        if v.locale == locale:
            return v
    default = settings.default_locale
    return next((v for v in found if v.locale == default), found[0])


def _url(path: str, **query: object) -> str:
    return f"{path}?{urlencode({k: v for k, v in query.items() if v is not None})}"


def _twiml(resp: VoiceResponse) -> Response:
    return Response(str(resp), media_type="application/xml")


def _hang_up(speak: Speaker, resp: VoiceResponse, key: str) -> Response:
    """Say ``key``, end the call, and answer with the TwiML."""
    speak(resp, key)
    resp.hangup()
    return _twiml(resp)


def _int(params: dict[str, str] | Any, name: str, default: int = 0) -> int:
    try:
        return int(params.get(name, default))
    except (TypeError, ValueError):
        return default


# -- 1. language menu ---------------------------------------------------------------------------------
@router.post("/twilio/voice")
async def voice_start(request: Request) -> Response:
    await twilio_params(request)
    settings: Settings = request.app.state.settings
    found = _voices(settings)
    page = _page(request, found)
    retry = _int(request.query_params, "retry")
    resp = VoiceResponse()
    if len(found) == 1:
        return _ask(settings, found[0], "consent", {}, resp)
    chunk = found[page * PER_PAGE : (page + 1) * PER_PAGE]
    gather = Gather(num_digits=1, action=_url("/twilio/voice/lang", page=page), timeout=6)
    for digit, v in enumerate(chunk, 1):
        Speaker(settings, v)(gather, "menu_option", digit=str(digit)) if v.say else _play_option(
            settings, gather, v, digit
        )
    if _pages(found) > 1:
        Speaker(settings, _voice(settings, None))(gather, "menu_more")
    resp.append(gather)
    if retry < 1:
        Speaker(settings, _voice(settings, None))(resp, "no_input")
        resp.redirect(_url("/twilio/voice", page=page, retry=1))
    else:  # asked twice: carry on in the default language
        resp.redirect(_url("/twilio/voice/ask", step="consent", lang=_voice(settings, None).locale))
    return _twiml(resp)


def _pages(found: list[Voice]) -> int:
    return -(-len(found) // PER_PAGE)


def _page(request: Request, found: list[Voice]) -> int:
    """The menu page asked for in the URL, kept within the pages there are."""
    return max(0, _int(request.query_params, "page")) % max(1, _pages(found))


def _play_option(settings: Settings, gather: Gather, v: Voice, digit: int) -> None:
    # A recorded menu option is "menu_option_<digit>" so the group records the right number.
    key = f"menu_option_{digit}"
    if key in v.recorded:
        gather.play(Speaker(settings, v).prompt_url(key))


@router.post("/twilio/voice/lang")
async def voice_lang(request: Request) -> Response:
    params = await twilio_params(request)
    settings: Settings = request.app.state.settings
    found = _voices(settings)
    page = _page(request, found)
    digit = params.get("Digits", "")
    chunk = found[page * PER_PAGE : (page + 1) * PER_PAGE]
    resp = VoiceResponse()
    if digit == MORE_DIGIT and _pages(found) > 1:
        resp.redirect(_url("/twilio/voice", page=(page + 1) % _pages(found)))
        return _twiml(resp)
    # One key was asked for; anything else (no key, "#", thousands of digits, which int() would
    # refuse) hears the menu again.
    if len(digit) != 1 or not "1" <= digit <= str(len(chunk)):
        resp.redirect(_url("/twilio/voice", page=page))
        return _twiml(resp)
    return _ask(settings, chunk[int(digit) - 1], "consent", {}, resp)


# -- 2. consent and call-back --------------------------------------------------------------------------
_NEXT = {"consent": "contact", "contact": "record"}
_VALID = {"consent": {"0", "1", "2"}, "contact": {"1", "2"}}
_DEFAULT = {"consent": "0", "contact": "2"}  # silence means the most protective answer


def _ask(
    settings: Settings, voice: Voice, step: str, answers: dict[str, str], resp: VoiceResponse, retry: int = 0
) -> Response:
    speak = Speaker(settings, voice)
    if step == "record":
        return _record(settings, voice, answers, resp)
    if step == "consent" and retry == 0 and not answers:
        speak(resp, "welcome")
    gather = Gather(
        num_digits=1, action=_url("/twilio/voice/answer", step=step, lang=voice.locale, **answers), timeout=8
    )
    speak(gather, step)
    resp.append(gather)
    if retry < 1:
        speak(resp, "no_input")
        resp.redirect(_url("/twilio/voice/ask", step=step, lang=voice.locale, retry=1, **answers))
    else:
        resp.redirect(_url("/twilio/voice/answer", step=step, lang=voice.locale, default=1, **answers))
    return _twiml(resp)


def _answers(query: Any) -> dict[str, str]:
    return {k: query[k] for k in ("consent", "contact") if query.get(k) in _VALID[k]}


@router.post("/twilio/voice/ask")
async def voice_ask(request: Request) -> Response:
    await twilio_params(request)
    settings: Settings = request.app.state.settings
    q = request.query_params
    step = q.get("step", "consent")
    if step not in _NEXT:
        step = "consent"
    return _ask(settings, _voice(settings, q.get("lang")), step, _answers(q), VoiceResponse(), _int(q, "retry"))


@router.post("/twilio/voice/answer")
async def voice_answer(request: Request) -> Response:
    params = await twilio_params(request)
    settings: Settings = request.app.state.settings
    q = request.query_params
    step = q.get("step", "consent")
    if step not in _NEXT:
        step = "consent"
    voice = _voice(settings, q.get("lang"))
    answers = _answers(q)
    digit = params.get("Digits", "")
    if q.get("default") and digit not in _VALID[step]:
        digit = _DEFAULT[step]
    if digit not in _VALID[step]:
        return _ask(settings, voice, step, answers, VoiceResponse(), retry=1)
    answers[step] = digit
    return _ask(settings, voice, _NEXT[step], answers, VoiceResponse())


# -- 3. the statement ---------------------------------------------------------------------------------------
def _record(settings: Settings, voice: Voice, answers: dict[str, str], resp: VoiceResponse) -> Response:
    speak = Speaker(settings, voice)
    speak(resp, "record")
    resp.record(
        max_length=300,
        play_beep=True,
        trim="trim-silence",
        finish_on_key="#",
        action=_url("/twilio/voice/recorded", lang=voice.locale, **answers),
        recording_status_callback="/twilio/voice/recording",
        recording_status_callback_event="completed absent failed",
    )
    return _hang_up(speak, resp, "nothing_recorded")


@router.post("/twilio/voice/recorded")
async def voice_recorded(request: Request) -> Response:
    params = await twilio_params(request)
    st = _state(request)
    settings: Settings = st.settings
    q = request.query_params
    voice = _voice(settings, q.get("lang"))
    speak = Speaker(settings, voice)
    resp = VoiceResponse()
    sid = params.get("RecordingSid", "")[:64]
    if not sid.startswith("RE") or _int(params, "RecordingDuration") <= 0:
        return _hang_up(speak, resp, "nothing_recorded")
    answers = _answers(q)
    report = Report(
        channel=Channel.VOICE,
        locale=voice.locale,
        consent=Consent(int(answers.get("consent", "0"))),
        contact_ok=answers.get("contact") == "1",
        phone=normalize_phone(params.get("From", ""))[:40],
    )
    calls: CallReports = st.voice_calls
    try:
        # A retried webhook (same CallSid and RecordingSid) stores nothing and hears the same receipt.
        receipt = await run_in_threadpool(calls.store, report, params.get("CallSid", "")[:64], sid)
    except StoreUnavailable:
        return _hang_up(speak, resp, "nothing_recorded")
    return _twiml(_read_receipt(settings, voice, receipt, st.voice_repeats.add(receipt)))


def spoken_digits(receipt: ReceiptCode) -> str:
    """``1234567890123456`` -> ``1 2 3 4, 5 6 7 8, ...``: one digit at a time, in groups of four."""
    return ", ".join(" ".join(group) for group in format_receipt(receipt).split("-"))


def _read_receipt(
    settings: Settings, voice: Voice, receipt: ReceiptCode, token: str, *, again: bool = False
) -> VoiceResponse:
    speak = Speaker(settings, voice)
    resp = VoiceResponse()
    if not again:
        speak(resp, "receipt")
        speak.digits(resp, receipt)
    speak(resp, "receipt_again")
    speak.digits(resp, receipt)
    speak(resp, "receipt_keep")
    gather = Gather(num_digits=1, action=_url("/twilio/voice/repeat", lang=voice.locale, t=token), timeout=5)
    speak(gather, "repeat")
    resp.append(gather)
    speak(resp, "goodbye")
    resp.hangup()
    return resp


@router.post("/twilio/voice/repeat")
async def voice_repeat(request: Request) -> Response:
    params = await twilio_params(request)
    st = _state(request)
    settings: Settings = st.settings
    voice = _voice(settings, request.query_params.get("lang"))
    receipt = st.voice_repeats.get(request.query_params.get("t", ""))
    if params.get("Digits") == "1" and receipt is not None:
        return _twiml(_read_receipt(settings, voice, receipt, request.query_params.get("t", ""), again=True))
    return _hang_up(Speaker(settings, voice), VoiceResponse(), "goodbye")


# -- 4. the recording itself (status callback) ------------------------------------------------------------
@router.post("/twilio/voice/recording")
async def voice_recording(request: Request) -> Response:
    params = await twilio_params(request)
    st = _state(request)
    sid = params.get("RecordingSid", "")[:64]
    status = params.get("RecordingStatus", "")
    if not sid.startswith("RE"):
        return Response(status_code=204)
    fetcher: RecordingFetcher = st.voice_fetcher
    if status == "completed":
        fetcher.submit(sid, params.get("RecordingUrl", ""))
    elif status in ("absent", "failed"):
        await run_in_threadpool(_missing, fetcher, sid, status)
    return Response(status_code=204)


def _missing(fetcher: RecordingFetcher, sid: str, status: str) -> None:
    from intake.services import seal_recording

    item_id, blob = seal_recording(fetcher.service, sid, None, "", f"twilio status {status}")
    fetcher.service.inbox.put_once(fetcher.seen_key(sid), item_id, blob)


@router.get("/twilio/voice/prompts/{locale}/{key}.mp3")
def voice_prompt(request: Request, locale: str, key: str) -> Response:
    path = prompt_file(request.app.state.settings.home, locale, key)
    if path is None:
        raise NotFound("no such prompt")
    return FileResponse(path, media_type="audio/mpeg")
