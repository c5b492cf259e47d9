"""Turning form fields and JSON bodies into domain objects, with field-level errors."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from channels.web.errors import fields_error
from intake.domain import Channel, Consent, FollowUp, Report
from intake.errors import InvalidInput

REPORT_FIELDS = ("factory", "location", "description", "name", "phone")


def build_report(channel: Channel, locale: str, data: dict[str, Any]) -> Report:
    """Validate ``data`` (already typed: lists, ints, bools) into a Report or raise InvalidInput."""
    try:
        report = Report(channel=channel, locale=locale, **data)
    except ValidationError as exc:
        raise fields_error(exc.errors()) from None
    if not report.description:
        raise InvalidInput("empty description", fields={"description": "missing"})
    if report.contact_ok and not report.phone:
        raise InvalidInput("contact without phone", fields={"phone": "missing"})
    return report


def build_followup(channel: Channel, locale: str, text: Any) -> FollowUp:
    try:
        return FollowUp(channel=channel, locale=locale, text=text)
    except ValidationError as exc:
        raise fields_error(exc.errors()) from None


def report_from_form(form: Any, locale: str) -> tuple[dict[str, Any], Report | InvalidInput]:
    """Read the report form. Returns the values to show again and the report or the error."""
    values: dict[str, Any] = {name: str(form.get(name) or "") for name in REPORT_FIELDS}
    values["categories"] = [str(c) for c in form.getlist("categories")][:32]
    values["consent"] = str(form.get("consent") or "0")
    values["contact_ok"] = form.get("contact_ok") in ("1", "on", "yes")
    try:
        consent = Consent(int(values["consent"]))
    except ValueError:
        return values, InvalidInput("bad consent", fields={"consent": "invalid"})
    data = {**values, "consent": consent}
    try:
        return values, build_report(Channel.WEB, locale, data)
    except InvalidInput as exc:
        return values, exc
