"""Jinja2 rendering in the request's language. Autoescaping on; translations never carry HTML."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request

import i18n

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)


def request_locale(request: Request, explicit: str | None = None, default: str | None = None) -> str:
    """Explicit choice (``?lang=`` or the form's hidden ``lang``) first, then Accept-Language,
    then the node's ``default_locale`` setting."""
    chosen = explicit or request.query_params.get("lang")
    if default is None:
        settings = getattr(getattr(request.scope.get("app"), "state", None), "settings", None)
        default = getattr(settings, "default_locale", i18n.SOURCE_LOCALE)
    return i18n.negotiate(request.headers.get("accept-language"), chosen, default)


def render(request: Request, template: str, locale: str, *, explicit: bool = False, **context: Any) -> str:
    """Render ``template`` in ``locale``: ``<html lang dir>``, the language switcher, gettext, and
    ``format_date``/``format_number`` (Babel, the worker's locale) for any date or count on a page.

    The language choice travels in the URL (``?lang=``, carried by every internal link and by the
    forms' hidden ``lang``), never in a cookie: nothing on a shared phone remembers the language.
    """
    t = i18n.translations(locale)
    languages = [(loc, i18n.language_name(loc), i18n.html_lang(loc)) for loc in i18n.available_locales()]
    return env.get_template(template).render(
        request=request,
        locale=locale,
        html_lang=i18n.html_lang(locale),
        dir=i18n.text_direction(locale),
        languages=languages,
        lang_query=f"?lang={locale}" if explicit or request.query_params.get("lang") else "",
        gettext=t.gettext,
        ngettext=t.ngettext,
        _=t.gettext,
        format_date=lambda value, style="long": i18n.format_date(value, locale, style),
        format_number=lambda value: i18n.format_number(value, locale),
        iso_date=lambda value: i18n.as_date(value).isoformat(),
        **context,
    )
