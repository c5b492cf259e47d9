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


# Issue 15 (the partner answers): what a caseworker may tell the worker after reading a partner's
# message. Never the partner's words themselves: a fixed sentence in the worker's language, which
# the caseworker reviews (and may edit) in the reply box before it goes to the status board.
# Translators: told to a worker about their complaint, after a monitoring organisation that works
# with the labour group (the "partner") acted on it. Keep them short (they may be sent as an SMS).
PASS_ON_TEMPLATES: dict[str, str] = {
    "partner_asked": N_("Our partner has asked the company to respond."),
    "brand_replied": N_("The brand has replied; we are reviewing it."),
    "buyer_replied": N_("A buyer of the factory has replied; we are reviewing it."),
    "escalated": N_("We have escalated your case."),
}

# What the caseworker sees in the pass-on menu (desk catalog).
PASS_ON_TEMPLATE_NAMES: dict[str, str] = {
    "partner_asked": i18n.D_("Partner asked the company to respond"),
    "brand_replied": i18n.D_("The brand replied"),
    "buyer_replied": i18n.D_("A buyer replied"),
    "escalated": i18n.D_("Case escalated"),
}


def reply_template(key: str, locale: str) -> str | None:
    """The template ``key`` in ``locale`` (English when the locale has no catalog), or None."""
    source = REPLY_TEMPLATES.get(key) or PASS_ON_TEMPLATES.get(key)
    if source is None:
        return None
    return i18n.translations(locale).gettext(source)
