"""The call-back's TwiML (issue 15): "did it happen?" asked by phone, answered with one key.

``intake sms pull`` places the call (channels/sms/pull.py); Twilio fetches
``/twilio/voice/callback?t=<token>`` when the worker picks up (the token: channels/voice/callback_token.py).
The question is said in the worker's language (a recording ``callback_confirm`` the group made, else
Twilio's voice for that language) and one key is gathered; ``/twilio/voice/callback/answer`` seals
the answer exactly like one by SMS or the web (:func:`intake.answers.accept_answer_to`: a sealed
"answer" inbox item, stored once however often Twilio retries) and thanks the worker. No key or a
wrong one: asked once more, then a polite goodbye. A token nobody issued, or whose question was
answered or withdrawn, hears one generic sentence. Every request is signature-checked (403).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from twilio.twiml.voice_response import Gather, VoiceResponse

from channels.twilio_signature import twilio_params
from channels.voice import texts
from channels.voice.callback_token import CALLBACK_PATH, open_token
from channels.voice.routes import Speaker, _hang_up, _int, _twiml, _url, _voice
from channels.voice.voices import Voice
from intake.answers import accept_answer_to, board_question
from intake.domain import Channel, ReceiptHash
from intake.questions import QuestionKind, kind_of, meaning, subject_label
from intake.services import IntakeService
from intake.settings import Settings

router = APIRouter(include_in_schema=False)
ANSWER_PATH = CALLBACK_PATH + "/answer"


def _question(service: IntakeService, token: str) -> tuple[str, str, str, str, ReceiptHash, bool] | None:
    """(question id, kind, subject, locale, receipt hash, still open) for a token; None if unknown."""
    opened = open_token(service.settings, token)
    if opened is None:
        return None
    qid, locale = opened
    found = board_question(service.inbox, qid)
    if found is None:
        return None
    question, receipt, is_open = found
    return qid, question.kind, question.subject, locale, receipt, is_open


def _speaking(settings: Settings, locale: str, key: str) -> Voice:
    """The worker's language if it can say ``key`` (Twilio's voice or the group's recording), else
    the node's default language: the worker must hear the question, never silence."""
    voice = _voice(settings, locale)
    return voice if voice.say is not None or key in voice.recorded else _voice(settings, None)


def _key(kind: str) -> str:
    return "callback_retaliation" if kind_of(kind) is QuestionKind.RETALIATION else "callback_confirm"


def _ask(settings: Settings, token: str, kind: str, subject: str, locale: str, retry: int) -> Response:
    key = _key(kind)
    voice = _speaking(settings, locale, key)
    speak = Speaker(settings, voice)
    resp = VoiceResponse()
    gather = Gather(num_digits=1, action=_url(ANSWER_PATH, t=token, retry=retry), timeout=8)
    if key in voice.recorded:
        gather.play(speak.prompt_url(key))
    else:
        speak.say(gather, speak.t.gettext(texts.PROMPTS[key]).format(what=speak.t.gettext(subject_label(subject))))
    resp.append(gather)
    if retry < 1:
        speak(resp, "no_input")
        resp.redirect(_url(CALLBACK_PATH, t=token, retry=1))
        return _twiml(resp)
    return _hang_up(speak, resp, "goodbye")


def _gone(settings: Settings, locale: str | None) -> Response:
    return _hang_up(Speaker(settings, _speaking(settings, locale or "", "callback_gone")), VoiceResponse(),
                    "callback_gone")  # fmt: skip


@router.post(CALLBACK_PATH)
async def callback_ask(request: Request) -> Response:
    await twilio_params(request)
    st: Any = request.app.state
    token = request.query_params.get("t", "")
    found = await run_in_threadpool(_question, st.service, token)
    if found is None or not found[5]:
        return _gone(st.settings, found[3] if found else None)
    _qid, kind, subject, locale, _receipt, _open = found
    return _ask(st.settings, token, kind, subject, locale, min(1, max(0, _int(request.query_params, "retry"))))


@router.post(ANSWER_PATH)
async def callback_answer(request: Request) -> Response:
    params = await twilio_params(request)
    st: Any = request.app.state
    settings: Settings = st.settings
    token = request.query_params.get("t", "")
    retry = min(1, max(0, _int(request.query_params, "retry")))
    found = await run_in_threadpool(_question, st.service, token)
    if found is None:
        return _gone(settings, None)
    qid, kind, subject, locale, receipt, is_open = found
    digit = params.get("Digits", "")
    if len(digit) == 1 and "0" <= digit <= "9" and meaning(kind, int(digit)) is not None:
        # Stored once: a retried webhook (the question now answered) stores nothing and hears the same thanks.
        await run_in_threadpool(accept_answer_to, st.service, receipt, qid, int(digit), Channel.VOICE, locale)
        speak = Speaker(settings, _speaking(settings, locale, "callback_thanks"))
        return _hang_up(speak, VoiceResponse(), "callback_thanks")
    if not is_open:
        return _gone(settings, locale)
    if retry < 1:  # no key, or one that is not an answer: the question once more
        return _ask(settings, token, kind, subject, locale, 1)
    return _hang_up(Speaker(settings, _speaking(settings, locale, "goodbye")), VoiceResponse(), "goodbye")
