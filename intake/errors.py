"""The error tree: every error the project raises on purpose, in this one module.

Each error has an HTTP status, a stable ``code`` and a translatable ``message`` (a gettext msgid
marked with ``N_``, worker catalog); ``detail`` is for operators and never carries personal data.
Errors are rendered in one place per surface: the web channels in ``channels/web/errors.py`` (JSON
``{"error": {"code", "message", "fields"}}`` or a page, in the request's language), the desk in
``intake/desk/app.py`` (its own words from the desk catalog), the partner's inbox in
``relay/partner/app.py`` (code and detail), the CLI in ``intake/cli/app.py`` (one line: ``detail``,
exit code 1) unless a command words the error itself. Grouped by who meets them (indented: a
subclass)::

    IntakeError               500 internal               the root; anything unexpected is shown as this
    workers, through the channels (web form and API, SMS, voice, Twilio and SMSSync webhooks):
      InvalidInput            400 invalid_input          answers that need attention (desk, CLI, relay too)
        ReceiptMistyped       400 receipt_mistyped       a receipt code whose check digit is wrong
        BadFile               400 invalid_input          an attached file refused (intake/evidence.py), ``reason``
      MalformedRequest        400 malformed              a body that cannot be read at all
      UnsupportedMediaType    415 unsupported_media_type
      TooLarge                413 too_large
      RateLimited             429 rate_limited           with Retry-After
      FormExpired             403 form_expired           a web form's CSRF token missing or wrong
      BadIdempotencyKey       400 bad_idempotency_key
      IdempotencyConflict     422 idempotency_key_reused
        FormAlreadySent       422 idempotency_key_reused the web form's own token, other text
      NotFound                404 not_found
      StoreUnavailable        503 unavailable            the inbox cannot take a write: refuse, never lose
      Forbidden               403 forbidden              refused; the desk's roles and form tokens too
        BadSignature          403 forbidden              a Twilio webhook without a valid signature
        WrongSecret           403 forbidden              the SMS gateway's secret missing or wrong
    the desk (intake/desk/), and a desk pulling from a remote intake:
      (Forbidden)                                        a role, or ``detail="csrf"``: a form token
      CaseNotFound            404 case_not_found
      FactoryNotFound         404 factory_not_found
      (InvalidInput)
        CsvRejected           400 invalid_input          a factories CSV, with a RowError per row
      Unauthorized            401 unauthorized           the pull API refused the desk's token
      RemoteUnavailable       503 remote_unavailable     the remote intake unreachable; nothing lost
    the CLI and a node's operator:
      StoreError              500 store_error            a store does not open (wrong key, damaged)
        StoreDamaged          500 store_damaged          a store fails its integrity check (backup)
      NodeError               500 node_error             no node here, or its keyring unreadable
      SettingsError           500 settings_error         a setting that cannot be used (a ValueError too)
      PortInUse               409 port_in_use
      BackupError             500 backup_error
        BackupDamaged         500 backup_damaged         not a backup, truncated, damaged or altered
        RestoreRefused        500 restore_refused        the target folder already holds a node
        RecoveryRefused       500 recovery_refused       a recovery kit not of the backup's node (panic.py)
      GatewayError            502 gateway_error          a Twilio REST call failed (``retry``: try later)
    the relay (a node's coordinator, a partner's inbox):
      RelayError              409 relay
        NotEligible           409 relay                  the case may not leave (consent)
        Stale                 409 relay                  the summary changed since it was shown
      DeliveredByAnotherNode  409 delivered_by_another_node

Crypto errors (``crypto/errors.py``: CannotOpen, WrongPassphrase, KeyringError; EnvelopeError in
``crypto/envelope.py``) live below this module and cannot be IntakeErrors. Where one reaches a
person it is turned into words in one place: :func:`keyring_errors` (below) makes a KeyringError a
NodeError for node and partner homes; a WrongPassphrase is worded by the CLI's ``main()`` (and,
for a backup, by ``intake restore``) and by the desk's unlock page (``intake/desk/login.py``); the
CLI prints any other CryptoError as one line. CannotOpen and EnvelopeError mean damaged or foreign
data and are never shown as such: where they happen they become that data's error (BackupDamaged,
IdempotencyConflict, InvalidInput), an item counted as unreadable, or an envelope's refusal reason.

Not here, on purpose, because no person meets them: private control-flow signals
(``intake/desk/http.py`` _Login, ``intake/store/casework.py`` _Raced, ``channels/voice/recordings.py``
NotReady and BadAudio, which the recording fetcher records as a missing recording) and
programming errors (``intake/audit.py`` UnsafeDetail, AuditOutsideTransaction).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from crypto.errors import KeyringError
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


# -- workers, through the channels ------------------------------------------------------------------
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


class BadFile(InvalidInput):
    """An attached file that cannot be kept (intake/evidence.py). ``reason`` is one of
    ``unsupported``, ``damaged``, ``too_big_image``, ``archive``, ``script``, ``empty``; the field
    code is ``file_<reason>`` under ``attachments``, for the channel to word. ``detail`` names the
    problem only, never the file's content or name."""

    REASONS: ClassVar[frozenset[str]] = frozenset(
        {"unsupported", "damaged", "too_big_image", "archive", "script", "empty"}
    )

    def __init__(self, reason: str, detail: str = "") -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown BadFile reason {reason!r}")
        super().__init__(detail or f"file refused: {reason}", fields={"attachments": f"file_{reason}"})
        self.reason = reason


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
    """An ``Idempotency-Key`` header too short, too long or not plain ASCII (intake.once.Once)."""

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


class Forbidden(IntakeError):
    """Refused. The desk raises it for a role that may not do this (``detail`` names
    the role) and for a form whose token does not match (``detail="csrf"``), and words each itself
    (intake/desk/app.py); the webhooks raise the subclasses, whose answers say what is refused."""

    status = 403
    code = "forbidden"


class BadSignature(Forbidden):
    """A webhook that does not prove it comes from Twilio. The answer says what is refused (an
    operator reading Twilio's debugger or a gateway's log needs that), never anything stored."""

    message = N_("This request's signature is not valid. Nothing was saved.")


class WrongSecret(Forbidden):
    """The SMS gateway (SMSSync) sent no secret or the wrong one."""

    message = N_("The SMS gateway's secret is wrong. Nothing was saved.")


# -- the desk -----------------------------------------------------------------------------------------
class CaseNotFound(IntakeError):
    status = 404
    code = "case_not_found"


class FactoryNotFound(IntakeError):
    status = 404
    code = "factory_not_found"


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row of a factories CSV (row 0: the file as a whole)."""

    row: int
    problem: str  # a code; intake.desk.factories.row_messages() words it
    other: int = 0  # the earlier row, for "repeats"
    value: str = ""


class CsvRejected(InvalidInput):
    """The CSV was not imported at all; ``errors`` says why, row by row."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("csv rejected", fields={"file": "invalid"})
        self.errors = errors


class Unauthorized(IntakeError):
    """The desk pull API (channels/remote.py) refused a desk's bearer token."""

    status = 401
    code = "unauthorized"


class RemoteUnavailable(IntakeError):
    """The intake could not be reached or refused the token; nothing was lost (try again later)."""

    status = 503
    code = "remote_unavailable"


# -- the CLI and a node's operator --------------------------------------------------------------------
class StoreError(IntakeError):
    """A store cannot be opened: wrong key, not a database, damaged. ``detail`` names the file."""

    status = 500
    code = "store_error"


class StoreDamaged(StoreError):
    """A store opens but fails its integrity check (``PRAGMA quick_check``): ``path`` and the
    ``problems`` SQLite found (pages and tables, never content). Raised where damage must stop
    something (a backup); ``intake check`` and the desk report it instead."""

    code = "store_damaged"

    def __init__(self, path: Path, problems: list[str]) -> None:
        super().__init__(f"{path}: damaged ({problems[0] if problems else 'integrity check failed'})")
        self.path = path
        self.problems = problems


class NodeError(IntakeError):
    """The node home is missing or incomplete (run ``intake init``)."""

    status = 500
    code = "node_error"


class PortInUse(IntakeError):
    """A loopback port the user chose cannot be listened on (taken by another program)."""

    status = 409
    code = "port_in_use"


class SettingsError(IntakeError, ValueError):
    """A setting has a value that cannot be used; ``detail`` names it (said when settings load)."""

    code = "settings_error"


class BackupError(IntakeError):
    code = "backup_error"


class BackupDamaged(BackupError):
    """Not a backup, truncated, damaged or altered: nothing was written."""

    code = "backup_damaged"


class RestoreRefused(BackupError):
    """The target folder already holds a node."""

    code = "restore_refused"
    files: tuple[str, ...] = ()


class RecoveryRefused(BackupError):
    """A recovery kit that does not belong to the backup's node, or a node whose keys panic destroyed
    (``intake keys recover``, ``intake keys escrow``): nothing was written."""

    code = "recovery_refused"


class GatewayError(IntakeError):
    """A call to Twilio's REST API failed. ``retry`` says whether trying later can help (offline, 429,
    5xx); ``http_status`` and ``twilio_code`` are Twilio's answer, when there was one."""

    status = 502
    code = "gateway_error"

    def __init__(
        self, detail: str, *, retry: bool, http_status: int | None = None, twilio_code: int | None = None
    ) -> None:
        super().__init__(detail)
        self.retry = retry
        self.http_status = http_status
        self.twilio_code = twilio_code


@contextmanager
def keyring_errors(hint: str = "") -> Iterator[None]:
    """Turn a ``crypto.KeyringError`` (its text names the file, never a secret) into a NodeError,
    for node and partner homes alike; ``hint`` is added to the detail."""
    try:
        yield
    except KeyringError as exc:
        raise NodeError(f"{exc}{hint}") from None


# -- the relay ----------------------------------------------------------------------------------------
class RelayError(IntakeError):
    status = 409
    code = "relay"


class NotEligible(RelayError):
    """The case may not leave (no consent, withdrawn, consent 2 unconfirmed)."""


class Stale(RelayError):
    """The summary changed between showing and approving it."""


class DeliveredByAnotherNode(IntakeError):
    """The partner's inbox already holds these very envelope bytes, pushed with another node's token.

    No receipt for the second pusher: the copy waiting in the inbox is filed under the first node,
    and if that was not the signer the opener refuses it (``wrong_sender``). The second node tries
    again later and gets its receipt once that copy is gone (issue 12).
    """

    status = 409
    code = "delivered_by_another_node"
