"""A question on the status board, asked and answered by SMS (issue 15).

The worker meets it two ways: after ``STATUS <code>`` when one is due for that code (and no report is
being written in this conversation), or, where they agreed to be contacted, as an SMS the desk sent
(intake/desk/asking.py), whose reply comes from the number it went to. Either way the conversation
moves to ``Stage.ANSWER``, holding only the question's id, kind and subject code.

Then "1", "2", "3" (digits of any script: "๑", "१", "١"; or the YES and NO words) answer it; the
answer is sealed and stored like one from the web (:func:`intake.answers.accept_answer_to`) and the
worker thanked. A reply that is not a choice gets the question once more (words of their story are
kept as a follow-up to their case: nothing they write is dropped); a second one leaves the question
(its number no longer read as answers) and the message is handled like any other. Keywords (STOP,
HELP, STATUS, LANG, RESTART) leave it at once. :func:`answer_step` is pure; :func:`answer_turn`
does the lookups and seals for the adapter (channels/sms/service.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from channels.sms.conversation import (
    SESSION_IDLE,
    SmsState,
    Stage,
    _bare,
    _clean,
    _keyword,
    _numbers,
    is_story,
    keyword_words,
    new_state,
)
from intake.answers import accept_answer_to, question_receipt, seal_followup_to, sms_question, unlink_sms
from intake.domain import Channel, ReceiptHash
from intake.questions import QuestionKind, kind_of, meaning, sms_text, thanks
from intake.services import IntakeService

ASKS = 2  # the question, then once more


@dataclass(frozen=True)
class AnswerStep:
    """What :func:`answer_step` decided: an answer, a question again, or to leave the question."""

    state: SmsState | None
    replies: list[str] = field(default_factory=list)
    answer: int | None = None  # the option chosen
    keep: str = ""  # story words to keep as a follow-up
    left: bool = False  # the question is left: handle this message like any other, with no state


def asking(question_id: str, kind: str, subject: str, locale: str, now: datetime) -> SmsState:
    """The conversation state of a question just sent (it counts as the first time asked)."""
    state = new_state(now, Stage.ANSWER, locale)
    return state.model_copy(update={"question": question_id, "question_kind": kind, "question_subject": subject,
                                    "asked": 1})  # fmt: skip


def question_text(state: SmsState) -> str:
    return sms_text(state.question_kind, state.question_subject, state.locale)


def answer_step(state: SmsState, inbound: str, now: datetime) -> AnswerStep:
    """One message while a question is asked (pure: no I/O)."""
    text = _clean(inbound)
    if now - state.updated_at > SESSION_IDLE:
        return AnswerStep(None, left=True)
    keyword, _rest = _keyword(text)
    if keyword is not None and keyword != "done":
        return AnswerStep(None, left=True)
    chosen = _choice(state.question_kind, text)
    if chosen is not None:
        return AnswerStep(None, [thanks(state.locale)], answer=chosen)
    if state.asked >= ASKS:
        return AnswerStep(None, left=True)
    keep = text if is_story(text) else ""
    again = state.model_copy(update={"asked": state.asked + 1, "updated_at": now})
    return AnswerStep(again, [question_text(state)], keep=keep)


def _choice(kind: str, text: str) -> int | None:
    numbers = _numbers(text)
    if numbers is not None and len(numbers) == 1 and meaning(kind, numbers[0]) is not None:
        return numbers[0]
    word = _bare(text)
    k = kind_of(kind)
    if word in keyword_words("yes"):
        return 1 if k is QuestionKind.CONFIRM else 2
    if word in keyword_words("no"):
        return 3 if k is QuestionKind.CONFIRM else 1
    return None


@dataclass
class Turn:
    """What the adapter commits for one message of an answer conversation."""

    state: SmsState | None
    replies: list[str]
    items: list[tuple[str, bytes, ReceiptHash | None]]
    media_kept: bool = False  # the message's media part went with a follow-up


def answer_turn(
    service: IntakeService,
    reporter: bytes,
    state: SmsState | None,
    body: str,
    now: datetime,
    media: Sequence[bytes] = (),
    channel: Channel = Channel.SMS,
) -> Turn | None:
    """The message as an answer, when a question is asked in this conversation or was texted to this
    number (and no other conversation is under way); None: handle it as usual (any question left).
    ``media``: the message's sealed media part, never orphaned: kept with the follow-up its words
    make, or, with an answer ("1" and a photo), with a follow-up to the same case holding the words
    as written, so the photo joins that case; a file with no words is no answer, nor is any file
    when the question's case is gone: the question is left and the message starts a report."""
    if state is None:
        linked = sms_question(service.inbox, reporter)
        if linked is None:
            return None
        question, locale = linked
        state = asking(question.id, question.kind, question.subject, locale or "en", now)
    elif state.stage is not Stage.ANSWER:
        return None
    step = answer_step(state, body, now)
    receipt = question_receipt(service.inbox, state.question)
    if media and ((not step.keep and step.answer is None) or receipt is None):
        step = AnswerStep(None, left=True)
    if step.left:
        unlink_sms(service.inbox, state.question)
        return None
    items: list[tuple[str, bytes, ReceiptHash | None]] = []
    if receipt is not None and step.answer is not None:
        accept_answer_to(service, receipt, state.question, step.answer, channel, state.locale)
    kept = False
    words = step.keep or (_clean(body) if media and step.answer is not None else "")
    if receipt is not None and words:
        items.append((*seal_followup_to(service, receipt, words, channel, state.locale, media), None))
        kept = bool(media)
    return Turn(step.state, step.replies, items, media_kept=kept)


__all__ = ["AnswerStep", "Turn", "answer_step", "answer_turn", "asking", "question_text"]
