"""The error tree. Each error has an HTTP status, a stable code and a translatable message.

The web layer and the CLI render errors in one place each (``channels/web/errors.py``,
``intake/cli.py``). Messages are gettext msgids marked with ``N_`` (worker catalog) and are shown
as they are; ``detail`` is for operators and never carries personal data.
"""

from __future__ import annotations

from typing import ClassVar

from i18n import N_


class IntakeError(Exception):
    """Root of every error the project raises on purpose."""

    status: ClassVar[int] = 500
    code: ClassVar[str] = "internal"
    message: ClassVar[str] = N_("Something went wrong on our side. Please try again later.")

    def __init__(self, detail: str = "", *, fields: dict[str, str] | None = None) -> None:
        super().__init__(detail or self.code)
        self.detail = detail
        #: field name -> msgid of what is wrong with it (for forms and the JSON API)
        self.fields = fields or {}


class InvalidInput(IntakeError):
    """The request was understood but some values are not acceptable."""

    status = 400
    code = "invalid_input"
    message = N_("Some answers need attention. Nothing was saved yet.")


class MalformedRequest(IntakeError):
    """The request body could not be read at all."""

    status = 400
    code = "malformed"
    message = N_("We could not read what was sent. Nothing was saved.")


class UnsupportedMediaType(IntakeError):
    status = 415
    code = "unsupported_media_type"
    message = N_("Please send this as JSON (Content-Type: application/json).")


class TooLarge(IntakeError):
    status = 413
    code = "too_large"
    message = N_("What was sent is too long. Please shorten it and send again. Nothing was saved.")


class RateLimited(IntakeError):
    status = 429
    code = "rate_limited"
    message = N_("Too many tries in a short time. Please wait a minute and try again.")


class FormExpired(IntakeError):
    """CSRF token missing or wrong. The form is shown again with what the worker typed."""

    status = 403
    code = "form_expired"
    message = N_("This form had expired. Your text is still here: please check it and send again.")


class NotFound(IntakeError):
    status = 404
    code = "not_found"
    message = N_("This page does not exist.")


class StoreUnavailable(IntakeError):
    """The inbox cannot take a write (disk full, read-only, locked): refuse, never lose."""

    status = 503
    code = "unavailable"
    message = N_("We cannot accept reports right now. Nothing was saved; please try again later.")


class StoreError(IntakeError):
    """A store cannot be opened: wrong key, not a database, damaged. ``detail`` names the file."""

    status = 500
    code = "store_error"


class NodeError(IntakeError):
    """The node home is missing or incomplete (run ``intake init``)."""

    status = 500
    code = "node_error"
