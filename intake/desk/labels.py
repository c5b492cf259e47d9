"""What the desk shows for the stored codes (status, severity, channel, language): words, not codes."""

from __future__ import annotations

import i18n
from i18n import D_, d_, dn_
from intake.domain import CATEGORY_LABELS, Category

STATUS_LABELS: dict[str, str] = {
    "new": D_("New"),
    "triaged": D_("Triaged"),
    "investigating": D_("Investigating"),
    "remedy": D_("Remedy in progress"),
    "resolved": D_("Resolved"),
    "closed_unresolved": D_("Closed unresolved"),
    "withdrawn": D_("Withdrawn"),
}
SEVERITY_LABELS: dict[str, str] = {
    "urgent": D_("Urgent"),
    "high": D_("High"),
    "normal": D_("Normal"),
    "low": D_("Low"),
}
CHANNEL_LABELS: dict[str, str] = {
    "web": D_("Web form"),
    "api": D_("Web (app)"),
    "sms": D_("SMS"),
    "voice": D_("Phone call"),
    "whatsapp": D_("WhatsApp"),
}


def _label(table: dict[str, str], code: object) -> str:
    key = str(getattr(code, "value", code))
    return d_(table[key]) if key in table else key


def status_label(code: object) -> str:
    return _label(STATUS_LABELS, code)


def severity_label(code: object) -> str:
    return _label(SEVERITY_LABELS, code)


def channel_label(code: object) -> str:
    return _label(CHANNEL_LABELS, code)


def language_label(locale: str) -> str:
    """The language's own name, then its code (caseworkers often know the code)."""
    return f"{i18n.language_name(locale)} ({locale})" if locale else ""


def t_worker(category: Category) -> str:
    """A category in the desk's language, worded as workers see it (the worker catalog)."""
    return i18n.translations(i18n.desk_locale()).gettext(CATEGORY_LABELS[category])


GLOBALS = {
    "status_label": status_label,
    "severity_label": severity_label,
    "channel_label": channel_label,
    "language_label": language_label,
    "dn_": dn_,  # counts in templates: dn_("{n} day", "{n} days", n)
}
