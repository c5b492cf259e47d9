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

    def headers(self) -> dict[str, str]:
        """HTTP headers the answer must carry (e.g. ``Retry-After``)."""
        return {}


class InvalidInput(IntakeError):
    """The request was understood but some values are not acceptable."""

    status = 400
    code = "invalid_input"
    message = N_("Some answers need attention. Nothing was saved yet.")


class ReceiptMistyped(InvalidInput):
    """A 16-digit receipt code whose check digit does not match, on a node that only ever handed
    out checked codes: a typo. Decided from the code alone, never by a lookup (intake/receipts.py)."""

    code = "receipt_mistyped"
    message = N_("Please check the receipt code: a digit may be wrong, or two digits may be swapped.")

    def __init__(self, detail: str = "check digit", *, fields: dict[str, str] | None = None) -> None:
        super().__init__(detail, fields=fields or {"receipt": "receipt_check"})


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

    def __init__(self, detail: str = "", *, retry_after: int = 60) -> None:
        super().__init__(detail)
        #: whole seconds until a try will be accepted again (never less than 1)
        self.retry_after = max(1, int(retry_after))

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class FormExpired(IntakeError):
    """CSRF token missing or wrong. The form is shown again with what the worker typed."""

    status = 403
    code = "form_expired"
    message = N_("This form had expired. Your text is still here: please check it and send again.")


class BadIdempotencyKey(IntakeError):
    """An ``Idempotency-Key`` header too short, too long or not plain ASCII (intake.services.Once)."""

    status = 400
    code = "bad_idempotency_key"
    message = N_(
        "An Idempotency-Key must be 16 to 255 visible ASCII characters, such as a random UUID. Nothing was saved."
    )


class IdempotencyConflict(IntakeError):
    """A single-use key (a form's token, an ``Idempotency-Key``) sent again with something else."""

    status = 422
    code = "idempotency_key_reused"
    message = N_(
        "This Idempotency-Key was already used for a different request. Nothing new was saved: "
        "use a new key for a new request."
    )


class FormAlreadySent(IdempotencyConflict):
    """The web form's own token came back with different text (the form is shown again)."""

    message = N_(
        "This form was already sent once, with different text. Nothing new was saved. Your text is still "
        "here: send it again if you want it sent too."
    )


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


class PortInUse(IntakeError):
    """A loopback port the user chose cannot be listened on (taken by another program)."""

    status = 409
    code = "port_in_use"


class DeliveredByAnotherNode(IntakeError):
    """The partner's inbox already holds these very envelope bytes, pushed with another node's token.

    No receipt for the second pusher: the copy waiting in the inbox is filed under the first node,
    and if that was not the signer the opener refuses it (``wrong_sender``). The second node tries
    again later and gets its receipt once that copy is gone (issue 12).
    """

    status = 409
    code = "delivered_by_another_node"
