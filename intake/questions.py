"""Questions for the worker on their status board (issue 15): "did it happen?" and retaliation check-ins.

When a corrective action is marked done or a case resolved, the worker is asked whether the remedy
happened (1 yes, 2 partly, 3 no); after a case closes, check-ins at the intervals the group sets
(``retaliation_checkin_days``) ask whether they were punished for reporting (1 no, 2 yes).

This module is the questions' vocabulary, shared by every channel and the desk: the kinds, the
answers each kind takes, and the fixed sentences in the worker's language. The thing asked about
(``subject``) is a code whose label is a fixed, translated phrase (a remedy's kind, or "the remedy
agreed for your case"): never a caseworker's free text, which nobody reviewed for the worker's
screen and which could say more than the worker should read on a shared phone.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import i18n
from i18n import N_
from intake.domain import RemedyKind, WorkerConfirmation


class QuestionKind(enum.StrEnum):
    CONFIRM = "confirm"  # did the remedy happen? 1 yes, 2 partly, 3 no
    RETALIATION = "retaliation"  # since your report, punished, moved, threatened or dismissed? 1 no, 2 yes


# The answers each kind takes, as the numbers the worker sends or picks, and what each one means.
CONFIRM_ANSWERS: dict[int, WorkerConfirmation] = {
    1: WorkerConfirmation.YES,
    2: WorkerConfirmation.PARTLY,
    3: WorkerConfirmation.NO,
}
RETALIATION_ANSWERS: dict[int, str] = {1: "no", 2: "yes"}
ANSWERS: dict[QuestionKind, dict[int, str]] = {
    QuestionKind.CONFIRM: {n: str(v) for n, v in CONFIRM_ANSWERS.items()},
    QuestionKind.RETALIATION: RETALIATION_ANSWERS,
}

# Subjects that are not a remedy kind: a case resolved with several kinds of remedy or none named,
# and a corrective action marked done with no outcome recorded.
SUBJECT_CASE = "case"
SUBJECT_ACTION = "action"

# Translators: what a worker is asked about, after "Has this happened: ...?". Short phrases, lower
# case where the language has case; they name what the company or labour group says was done.
SUBJECT_LABELS: dict[str, str] = {
    RemedyKind.BACK_PAY: N_("back pay"),
    RemedyKind.OVERTIME_PAY: N_("overtime pay"),
    RemedyKind.SOCIAL_INSURANCE: N_("social insurance paid"),
    RemedyKind.REINSTATEMENT: N_("your job given back"),
    RemedyKind.RECRUITMENT_FEES_REPAID: N_("recruitment fees repaid"),
    RemedyKind.DOCUMENTS_RETURNED: N_("your documents returned"),
    RemedyKind.SAFETY_FIX: N_("the safety problem fixed"),
    RemedyKind.HOURS_REDUCED: N_("working hours reduced"),
    RemedyKind.INJURY_COMPENSATION: N_("injury compensation paid"),
    RemedyKind.DISCIPLINARY_OR_APOLOGY: N_("disciplinary action or an apology"),
    RemedyKind.POLICY_CHANGE: N_("a change of the rules at work"),
    RemedyKind.OTHER: N_("the remedy agreed for your case"),
    SUBJECT_CASE: N_("the remedy agreed for your case"),
    SUBJECT_ACTION: N_("the step agreed for your case"),
}

# Translators: a question on the worker's status page; {what} is one of the short phrases above.
CONFIRM_TEXT = N_("Has this happened: {what}?")
RETALIATION_TEXT = N_("Since your report, have you been punished, moved, threatened or dismissed?")
# Translators: the same questions by SMS, with the numbers to reply. Keep each to one SMS if the
# script allows (160 Latin characters, 70 in other scripts), never more than two.
CONFIRM_SMS = N_("Has this happened: {what}? Reply 1 yes, 2 partly, 3 no.")
RETALIATION_SMS = N_("Since your report, have you been punished, moved, threatened or dismissed? Reply 1 no, 2 yes.")
# Translators: the answers a worker picks on the status page.
ANSWER_YES = N_("Yes")
ANSWER_PARTLY = N_("Partly")
ANSWER_NO = N_("No")
OPTION_LABELS: dict[QuestionKind, dict[int, str]] = {
    QuestionKind.CONFIRM: {1: ANSWER_YES, 2: ANSWER_PARTLY, 3: ANSWER_NO},
    QuestionKind.RETALIATION: {1: ANSWER_NO, 2: ANSWER_YES},
}
THANKS = N_("Thank you, your answer was received.")
# Translators: under a question on the status page.
ONLY_THE_GROUP = N_("Only the labour group sees your answer.")
QUESTION_HEADING = N_("A question from the labour group")
SEND_ANSWER = N_("Send my answer")
CHOOSE_ONE = N_("Choose one answer, then send it.")

SMS_TEMPLATES = [CONFIRM_SMS, RETALIATION_SMS, THANKS]


@dataclass(frozen=True)
class Option:
    value: int
    label: str


@dataclass(frozen=True)
class Asked:
    """A question as a worker reads it, in their language."""

    id: str
    text: str
    options: list[Option]


def kind_of(value: str) -> QuestionKind | None:
    try:
        return QuestionKind(value)
    except ValueError:
        return None


def meaning(kind: str, answer: int) -> str | None:
    """What answer number ``answer`` means for a question of ``kind`` ("yes", "partly", "no"); None
    when it is not one of that kind's answers (out of range)."""
    k = kind_of(kind)
    if k is None or type(answer) is not int:
        return None
    return ANSWERS[k].get(answer)


def subject_label(subject: str) -> str:
    return SUBJECT_LABELS.get(subject, SUBJECT_LABELS[SUBJECT_CASE])


def ask(question_id: str, kind: str, subject: str, locale: str) -> Asked:
    """The question for the status page and the JSON API, in ``locale``."""
    t = i18n.translations(locale)
    k = kind_of(kind) or QuestionKind.CONFIRM
    if k is QuestionKind.RETALIATION:
        text = t.gettext(RETALIATION_TEXT)
    else:
        text = t.gettext(CONFIRM_TEXT).format(what=t.gettext(subject_label(subject)))
    options = [Option(n, t.gettext(label)) for n, label in OPTION_LABELS[k].items()]
    return Asked(question_id, text, options)


def sms_text(kind: str, subject: str, locale: str) -> str:
    """The question as one SMS (two at most), with the numbers to reply."""
    t = i18n.translations(locale)
    if kind_of(kind) is QuestionKind.RETALIATION:
        return t.gettext(RETALIATION_SMS)
    return t.gettext(CONFIRM_SMS).format(what=t.gettext(subject_label(subject)))


def thanks(locale: str) -> str:
    return i18n.translations(locale).gettext(THANKS)


__all__ = [
    "ANSWERS",
    "SMS_TEMPLATES",
    "SUBJECT_ACTION",
    "SUBJECT_CASE",
    "SUBJECT_LABELS",
    "Asked",
    "Option",
    "QuestionKind",
    "ask",
    "kind_of",
    "meaning",
    "sms_text",
    "subject_label",
    "thanks",
]
