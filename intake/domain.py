"""Domain models: what a worker reports, and the case a caseworker makes of it.

Every channel (web, SMS, voice) builds a :class:`Report` and hands it to
:func:`intake.services.accept_report`; nothing else writes to the inbox.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from datetime import datetime
from decimal import Decimal
from typing import Annotated, NewType

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

from i18n import N_
from intake import clock

ReceiptCode = NewType("ReceiptCode", str)  # 16 ASCII digits, no separators; new ones end in a check digit
ReceiptHash = NewType("ReceiptHash", bytes)  # keyed slow hash of a ReceiptCode
ReporterKey = NewType("ReporterKey", bytes)  # keyed hash of a phone number, for linking

MAX_DESCRIPTION = 20_000
MAX_SHORT = 300


class Channel(enum.StrEnum):
    WEB = "web"
    API = "api"
    SMS = "sms"
    VOICE = "voice"
    WHATSAPP = "whatsapp"  # through Twilio, the SMS conversation (channels/sms/whatsapp.py)


class Consent(enum.IntEnum):
    """What the worker lets the labour group share (UNGP 31: rights-compatible)."""

    INTERNAL = 0  # keep inside the group
    ANONYMISED = 1  # share an anonymised summary with partners
    WITH_NAME = 2  # share with my name


class Category(enum.StrEnum):
    """Issue taxonomy. ``ILO_REFERENCES`` ties each to the instruments that define it."""

    FORCED_LABOUR = "forced_labour"
    RECRUITMENT_FEES = "recruitment_fees"
    CHILD_LABOUR = "child_labour"
    FREEDOM_OF_ASSOCIATION = "freedom_of_association"
    DISCRIMINATION = "discrimination"
    HARASSMENT = "harassment"
    HEALTH_SAFETY = "health_safety"
    WAGES = "wages"
    WORKING_HOURS = "working_hours"
    EMPLOYMENT = "employment"
    DORMITORY = "dormitory"
    RETALIATION = "retaliation"
    OTHER = "other"


CATEGORY_LABELS: dict[Category, str] = {
    Category.FORCED_LABOUR: N_("Forced labour (kept documents, cannot leave, threats)"),
    Category.RECRUITMENT_FEES: N_("Recruitment fees or debt to an agent"),
    Category.CHILD_LABOUR: N_("Child labour or student intern work"),
    Category.FREEDOM_OF_ASSOCIATION: N_("Stopped from joining or forming a union"),
    Category.DISCRIMINATION: N_("Discrimination"),
    Category.HARASSMENT: N_("Violence or harassment"),
    Category.HEALTH_SAFETY: N_("Health and safety, injury"),
    Category.WAGES: N_("Wages, benefits or social insurance"),
    Category.WORKING_HOURS: N_("Working hours, forced overtime"),
    Category.EMPLOYMENT: N_("Contract, dismissal, severance, dispatch or intern work"),
    Category.DORMITORY: N_("Dormitory or living conditions"),
    Category.RETALIATION: N_("Punished for speaking up"),
    Category.OTHER: N_("Something else"),
}

ILO_REFERENCES: dict[Category, tuple[str, ...]] = {
    Category.FORCED_LABOUR: ("C029 Forced Labour Convention", "P029 Protocol of 2014", "C105"),
    Category.RECRUITMENT_FEES: ("C181 Private Employment Agencies Convention, Art. 7", "ILO General Principles for Fair Recruitment"),
    Category.CHILD_LABOUR: ("C138 Minimum Age Convention", "C182 Worst Forms of Child Labour Convention"),
    Category.FREEDOM_OF_ASSOCIATION: ("C087 Freedom of Association", "C098 Right to Organise and Collective Bargaining"),
    Category.DISCRIMINATION: ("C100 Equal Remuneration", "C111 Discrimination (Employment and Occupation)"),
    Category.HARASSMENT: ("C190 Violence and Harassment Convention",),
    Category.HEALTH_SAFETY: ("C155 Occupational Safety and Health", "C187 Promotional Framework for OSH"),
    Category.WAGES: ("C095 Protection of Wages", "C131 Minimum Wage Fixing", "C102 Social Security"),
    Category.WORKING_HOURS: ("C001 Hours of Work (Industry)", "C014 Weekly Rest (Industry)"),
    Category.EMPLOYMENT: ("C158 Termination of Employment", "R198 Employment Relationship Recommendation"),
    Category.DORMITORY: ("R115 Workers' Housing Recommendation",),
    Category.RETALIATION: ("C158 Art. 5(c)", "C190 Art. 10"),
    Category.OTHER: (),
}  # fmt: skip

CONSENT_LABELS: dict[Consent, str] = {
    Consent.INTERNAL: N_("Keep it inside the labour group"),
    Consent.ANONYMISED: N_("You may share a summary without my name with partner organisations"),
    Consent.WITH_NAME: N_("You may share it with my name"),
}


class CaseStatus(enum.StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    INVESTIGATING = "investigating"
    REMEDY = "remedy"
    RESOLVED = "resolved"
    CLOSED_UNRESOLVED = "closed_unresolved"
    WITHDRAWN = "withdrawn"


class BoardStatus(enum.StrEnum):
    """What a worker sees on the status page. Deliberately coarse."""

    RECEIVED = "received"
    IN_REVIEW = "in_review"
    IN_PROGRESS = "in_progress"
    CLOSED = "closed"


BOARD_LABELS: dict[BoardStatus, str] = {
    BoardStatus.RECEIVED: N_("Received. A caseworker has not replied yet."),
    BoardStatus.IN_REVIEW: N_("A caseworker is reading your report."),
    BoardStatus.IN_PROGRESS: N_("The labour group is working on your case."),
    BoardStatus.CLOSED: N_("Your case is closed."),
}


def board_label(status: BoardStatus, *, replied: bool) -> str:
    """The msgid of the status line a worker reads. "Not replied yet" never stands above a reply: an
    entry a caseworker replied to while it was still RECEIVED reads as being read."""
    if replied and status is BoardStatus.RECEIVED:
        return BOARD_LABELS[BoardStatus.IN_REVIEW]
    return BOARD_LABELS[status]


_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # Cc except tab and newline


def clean_text(text: str) -> str:
    """NFC, no control characters except newlines and tabs, no lone surrogates, trimmed."""
    text = text.encode("utf-8", "replace").decode("utf-8")  # lone surrogates become "?"
    return _CONTROL.sub("", unicodedata.normalize("NFC", text)).strip()


Short = Annotated[str, StringConstraints(max_length=MAX_SHORT)]


class Report(BaseModel):
    """One report as a worker gave it. Sealed whole; never stored readable."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    received_at: datetime = Field(default_factory=lambda: clock.now_s())
    locale: str = "en"
    factory: Short = ""
    location: Short = ""
    categories: list[Category] = Field(default_factory=list, max_length=len(Category))
    description: Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION)] = ""
    consent: Consent = Consent.INTERNAL
    contact_ok: bool = False
    name: Short = ""
    phone: Annotated[str, StringConstraints(max_length=40)] = ""

    @field_validator("factory", "location", "description", "name", "phone", mode="before")
    @classmethod
    def _clean_text(cls, value: object) -> object:
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("categories")
    @classmethod
    def _unique(cls, value: list[Category]) -> list[Category]:
        return list(dict.fromkeys(value))

    def has_substance(self) -> bool:
        return bool(self.description or self.categories)


class FollowUp(BaseModel):
    """Text a worker adds later, linked to their report by the receipt hash."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    received_at: datetime = Field(default_factory=lambda: clock.now_s())
    locale: str = "en"
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_DESCRIPTION)]

    @field_validator("text", mode="before")
    @classmethod
    def _clean_text(cls, value: object) -> object:
        return clean_text(value) if isinstance(value, str) else value


class Case(BaseModel):
    """A case as the desk holds it in cases.db (already opened; never leaves the node as is)."""

    model_config = ConfigDict(frozen=True)

    id: int
    created_at: datetime
    channel: Channel
    locale: str
    status: CaseStatus
    factory: str
    location: str
    categories: list[Category]
    description: str
    consent: Consent
    contact_ok: bool
    has_contact: bool
    severity: str = "normal"
    assignee: str = ""
    version: int = 1
    followups: list[FollowUpView] = Field(default_factory=list)
    recordings: list[RecordingView] = Field(default_factory=list)


class RecordingView(BaseModel):
    """A call recording of a case: what it is, not the audio (that stays in cases.db)."""

    model_config = ConfigDict(frozen=True)

    content_type: str
    size: int
    missing: str = ""


class FollowUpView(BaseModel):
    model_config = ConfigDict(frozen=True)

    received_at: datetime
    channel: Channel
    text: str


Case.model_rebuild()


# -- remedy (issue 15): what was done for the workers, in fields a partner can count ------------------


class RemedyKind(enum.StrEnum):
    """What a remedy outcome was (one CAP step's, or a closed case's)."""

    BACK_PAY = "back_pay"
    OVERTIME_PAY = "overtime_pay"
    SOCIAL_INSURANCE = "social_insurance"
    REINSTATEMENT = "reinstatement"
    RECRUITMENT_FEES_REPAID = "recruitment_fees_repaid"
    DOCUMENTS_RETURNED = "documents_returned"
    SAFETY_FIX = "safety_fix"
    HOURS_REDUCED = "hours_reduced"
    INJURY_COMPENSATION = "injury_compensation"
    DISCIPLINARY_OR_APOLOGY = "disciplinary_or_apology"
    POLICY_CHANGE = "policy_change"
    OTHER = "other"


# The kinds that may carry an amount of money ("other" too: a remedy the list does not name).
MONEY_KINDS = frozenset({
    RemedyKind.BACK_PAY, RemedyKind.OVERTIME_PAY, RemedyKind.SOCIAL_INSURANCE, RemedyKind.RECRUITMENT_FEES_REPAID,
    RemedyKind.INJURY_COMPENSATION, RemedyKind.OTHER,
})  # fmt: skip


class Verification(enum.StrEnum):
    """How the labour group knows the remedy happened."""

    WORKER = "worker"
    DOCUMENT = "document"
    GROUP_VISIT = "group_visit"
    PARTNER = "partner"
    NOT_VERIFIED = "not_verified"


class WorkerConfirmation(enum.StrEnum):
    """The worker's answer to "did it happen?" (cases.worker_confirmation; NULL: not asked or not answered)."""

    YES = "yes"
    PARTLY = "partly"
    NO = "no"


class RemedyState(enum.StrEnum):
    """Where a case's remedy stands, as the desk and the partner's summary show it."""

    IN_REMEDY = "in_remedy"
    RESOLVED_UNCONFIRMED = "resolved_unconfirmed"
    RESOLVED_CONFIRMED = "resolved_confirmed"
    DISPUTED = "disputed"


MAX_AMOUNT = Decimal("10") ** 13  # 13 integer digits: enough for a year's wages of a whole factory in dong
MAX_WORKERS_COVERED = 1_000_000
_NOT_CURRENCIES = frozenset({"XXX", "XTS"})  # ISO 4217's "no currency" and "testing" codes


def is_currency(code: str) -> bool:
    """An ISO 4217 code Babel knows (CLDR's list, historic codes included: old awards stay readable)."""
    from babel.numbers import list_currencies

    return code in list_currencies() and code not in _NOT_CURRENCIES


class RemedyOutcome(BaseModel):
    """One remedy outcome: its kind, an amount of money where there was one, for how many workers, and
    how the group knows. Build one from form or CLI input with :func:`intake.remedy.parse_outcome`,
    which says which field is wrong; this model refuses the same things as a last line."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: RemedyKind
    amount: Decimal | None = Field(default=None, ge=0, lt=MAX_AMOUNT, decimal_places=4, allow_inf_nan=False)
    currency: Annotated[str, StringConstraints(pattern=r"^([A-Z]{3})?$")] = ""
    workers_covered: int = Field(default=1, ge=1, le=MAX_WORKERS_COVERED)
    verified_by: Verification = Verification.NOT_VERIFIED

    @model_validator(mode="after")
    def _money(self) -> RemedyOutcome:
        if self.amount is not None and self.kind not in MONEY_KINDS:
            raise ValueError("an amount only for a kind of payment")
        if self.amount is not None and not self.currency:
            raise ValueError("an amount needs its currency")
        if self.currency and (self.amount is None or not is_currency(self.currency)):
            raise ValueError("a currency only with an amount, and only an ISO 4217 code")
        return self


def remedy_state(status: str, confirmation: str | None) -> RemedyState | None:
    """The remedy state of a case from its status and the worker's answer; None before remedy or when
    closed otherwise. A worker's "no" or "partly" is a dispute whatever the caseworkers did since,
    until the case is resolved again (resolving clears the answer: the worker is asked anew)."""
    if confirmation in (WorkerConfirmation.NO, WorkerConfirmation.PARTLY) and status in (
        CaseStatus.TRIAGED, CaseStatus.INVESTIGATING, CaseStatus.REMEDY, CaseStatus.RESOLVED,
    ):  # fmt: skip
        return RemedyState.DISPUTED
    if status == CaseStatus.REMEDY:
        return RemedyState.IN_REMEDY
    if status == CaseStatus.RESOLVED:
        if confirmation == WorkerConfirmation.YES:
            return RemedyState.RESOLVED_CONFIRMED
        return RemedyState.RESOLVED_UNCONFIRMED
    return None
