"""The placeholders that replace what redaction removes, written in the summary's own language.

They live in the worker catalog (``messages.po``) because a summary is in the worker's language,
and every shipped locale has that catalog complete.
"""

from __future__ import annotations

from i18n import N_, translations

# Translators: each of these replaces an identifier removed from a worker's complaint before it is
# shared with a monitoring organisation. Keep the square brackets; keep it short.
TOKENS: dict[str, str] = {
    "phone": N_("[phone]"),
    "email": N_("[email]"),
    "url": N_("[link]"),
    "national_id": N_("[ID number]"),
    "passport": N_("[passport]"),
    "worker_id": N_("[worker number]"),
    "chat": N_("[chat account]"),
    "bank_card": N_("[bank card]"),
    "name": N_("[name]"),
    "dormitory": N_("[room]"),
    "department": N_("[department]"),
    "line": N_("[line]"),
    "shift": N_("[shift]"),
    "number": N_("[number]"),
}


def token(kind: str, locale: str) -> str:
    """The placeholder for ``kind`` in ``locale`` (English when the locale has no catalog)."""
    return translations(locale).gettext(TOKENS[kind])
