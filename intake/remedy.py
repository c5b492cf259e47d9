"""Remedy outcomes from what a caseworker typed (desk form, CLI flags): each wrong field said by name.

:func:`parse_outcome` turns text fields into a :class:`~intake.domain.RemedyOutcome` or raises one
:class:`~intake.errors.InvalidInput` whose ``fields`` name every field that needs attention, with a
code (``invalid``, ``negative``, ``not_a_number``, ``too_large``, ``unknown``, ``missing``,
``not_money``), so the desk and the CLI can word it. Amounts are written with digits and a dot
only: "1500000" or "1500.50"; a thousands separator means different things in different languages
(1.500 is fifteen hundred in Vietnamese and one and a half in English), so it is refused, not guessed.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from intake.domain import (
    MAX_AMOUNT,
    MAX_WORKERS_COVERED,
    MONEY_KINDS,
    RemedyKind,
    RemedyOutcome,
    Verification,
    is_currency,
)
from intake.errors import InvalidInput

_AMOUNT = re.compile(r"^[0-9]{1,13}(\.[0-9]{1,4})?$")
_NUMBER_LIKE = re.compile(r"^-\s*[0-9]")


def parse_outcome(
    kind: str, amount: str = "", currency: str = "", workers_covered: str | int = "1", verified_by: str = ""
) -> RemedyOutcome:
    """A remedy outcome from text fields; InvalidInput naming every field that is wrong."""
    problems: dict[str, str] = {}
    kind = str(kind or "").strip()
    try:
        code = RemedyKind(kind)
    except ValueError:
        code = None
        problems["kind"] = "missing" if not kind else "invalid"
    value: Decimal | None = None
    text = str(amount or "").strip().replace(" ", "")
    if text:
        if _AMOUNT.match(text):
            value = Decimal(text)
            if value >= MAX_AMOUNT:
                problems["amount"] = "too_large"
        else:
            problems["amount"] = "negative" if _NUMBER_LIKE.match(text) else "not_a_number"
        if code is not None and code not in MONEY_KINDS:
            problems["amount"] = "not_money"
    cur = str(currency or "").strip().upper()
    if text and not cur:
        problems["currency"] = "missing"
    elif text and not is_currency(cur):
        problems["currency"] = "unknown"
    elif not text:
        cur = ""  # a currency with no amount says nothing: dropped (a form's currency list keeps its choice)
    workers = _workers(workers_covered)
    if workers is None:
        problems["workers_covered"] = "invalid"
    verified = str(verified_by or "").strip() or Verification.NOT_VERIFIED.value
    if verified not in {v.value for v in Verification}:
        problems["verified_by"] = "invalid"
    if problems or code is None or workers is None:
        raise InvalidInput("bad remedy outcome: " + ", ".join(f"{k} {v}" for k, v in sorted(problems.items())),
                           fields=problems)  # fmt: skip
    return RemedyOutcome(
        kind=code, amount=value, currency=cur, workers_covered=workers, verified_by=Verification(verified)
    )


def _workers(value: str | int) -> int | None:
    text = str(value).strip()
    if not text.isascii() or not text.isdigit() or len(text) > 7:
        return None
    n = int(text)
    return n if 1 <= n <= MAX_WORKERS_COVERED else None


def outcome_json(outcome: RemedyOutcome | None) -> dict[str, Any] | None:
    """An outcome as JSON (the CLI's ``cases show --json``): the amount as a decimal string, exact."""
    return outcome.model_dump(mode="json") if outcome is not None else None


__all__ = ["outcome_json", "parse_outcome"]
