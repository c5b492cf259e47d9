"""Reply templates: what a caseworker most often tells a worker, written in the worker's language.

The caseworker picks one on the case page; the desk fills the reply box with it in the case's
language (from the worker catalog, so every shipped locale has it) and the caseworker can edit it
before posting. Keep each one short: a reply can go out as an SMS.
"""

from __future__ import annotations

import i18n
from i18n import N_

# Translators: replies a caseworker sends to a worker who filed a complaint. Keep them short (they
# may be sent as an SMS) and plain.
REPLY_TEMPLATES: dict[str, str] = {
    "received": N_("We received your report. A caseworker is reading it. Check again in a few days."),
    "more_info": N_(
        "We need more details: which factory, what happened and since when. Add them with your receipt code."
    ),
    "investigating": N_("We are looking into your report. We will not give your name to the factory."),
    "remedy": N_("The company has agreed to act on your report. We are checking that it happens."),
    "resolved": N_("We consider your case resolved. If the problem comes back, tell us with your receipt code."),
    "unresolved": N_("We could not get a remedy this time. We keep your report as evidence. You can report again."),
    "danger": N_(
        "If you are in danger now, leave the place and call emergency services. A caseworker has your report."
    ),
}

# What the caseworker sees in the template menu (desk catalog).
REPLY_TEMPLATE_NAMES: dict[str, str] = {
    "received": i18n.D_("Received, being read"),
    "more_info": i18n.D_("Ask for more details"),
    "investigating": i18n.D_("Investigating"),
    "remedy": i18n.D_("Remedy agreed"),
    "resolved": i18n.D_("Resolved"),
    "unresolved": i18n.D_("Closed without remedy"),
    "danger": i18n.D_("Immediate danger"),
}


def reply_template(key: str, locale: str) -> str | None:
    """The template ``key`` in ``locale`` (English when the locale has no catalog), or None."""
    source = REPLY_TEMPLATES.get(key)
    if source is None:
        return None
    return i18n.translations(locale).gettext(source)
