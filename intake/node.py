"""A node's home folder: creating it, opening its stores, unlocking it.

``INTAKE_HOME`` holds ``keyring.json`` (public keys, wrapped master), ``intake.key`` (0600: the
inbox key and the intake's own keys, which the always-on intake needs without a passphrase),
``inbox.db``, ``cases.db`` and optionally ``settings.toml``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nacl.utils

from crypto import Keyring, NodeKeys, Secret, WrongPassphrase
from crypto.files import exclusive_lock, write_private_file
from crypto.kdf import derive_key
from intake.errors import IntakeError, NodeError, keyring_errors
from intake.settings import Settings
from intake.store.cases import CasesStore
from intake.store.db import check_store
from intake.store.inbox import Inbox

INTAKE_KEY_VERSION = 1
RECEIPT_LABEL = "intake/v1/receipt-hash"
CSRF_LABEL = "intake/v1/csrf"
SESSION_LABEL = "intake/v1/sms-session"
SMS_SEEN_LABEL = "intake/v1/sms-seen"
SMS_OUTBOX_LABEL = "intake/v1/sms-outbox"
SMS_REPLY_LABEL = "intake/v1/sms-reply"  # per message, from a keyed hash of its id under SMS_SEEN_LABEL
VOICE_SEEN_LABEL = "intake/v1/voice-seen"
VOICE_CALL_LABEL = "intake/v1/voice-call"
VOICE_RECEIPT_LABEL = "intake/v1/voice-receipt"  # per call, from a keyed hash under VOICE_CALL_LABEL


@dataclass(frozen=True)
class IntakeKeys:
    """Keys the intake service holds without any passphrase. Seizing them reveals no report."""

    inbox_db: Secret[bytes]
    secret: Secret[bytes]

    def key(self, purpose: str) -> bytes:
        return derive_key(self.secret.reveal(), purpose)

    @classmethod
    def load(cls, path: Path) -> IntakeKeys:
        keys = read_key_file(
            path, INTAKE_KEY_VERSION, ("inbox_db", "secret"), what="intake key file", init="intake init"
        )
        return cls(Secret(keys["inbox_db"]), Secret(keys["secret"]))

    @classmethod
    def create(cls, path: Path) -> IntakeKeys:
        keys = cls(Secret(nacl.utils.random(32)), Secret(nacl.utils.random(32)))
        write_key_file(path, INTAKE_KEY_VERSION, {"inbox_db": keys.inbox_db.reveal(), "secret": keys.secret.reveal()})
        return keys


def write_key_file(path: Path, version: int, keys: dict[str, bytes]) -> None:
    """A 0600 JSON file of 32-byte keys (hex) that a service needs without a passphrase."""
    write_private_file(path, json.dumps({"version": version, **{k: v.hex() for k, v in keys.items()}}).encode())


def read_key_file(path: Path, version: int, names: tuple[str, ...], *, what: str, init: str) -> dict[str, bytes]:
    """Read :func:`write_key_file`'s file: refuses one others can read, another version, or a bad key."""
    try:
        mode = path.stat().st_mode & 0o777
        raw = json.loads(path.read_bytes())
    except FileNotFoundError:
        raise NodeError(f"{path}: missing; run '{init}' first") from None
    except (OSError, ValueError):
        raise NodeError(f"{path}: unreadable {what}") from None
    if mode & 0o077:
        raise NodeError(f"{path}: readable by others (mode {mode:o}); run 'chmod 600 {path}'")
    try:
        if raw["version"] != version:
            raise NodeError(f"{path}: unsupported version {raw['version']!r}")
        keys = {name: bytes.fromhex(raw[name]) for name in names}
    except (KeyError, TypeError, ValueError):
        raise NodeError(f"{path}: malformed {what}") from None
    if any(len(k) != 32 for k in keys.values()):
        raise NodeError(f"{path}: malformed {what}")
    return keys


def init_node(settings: Settings, *, user: str, passphrase: str, profile: str) -> tuple[Keyring, NodeKeys]:
    """Create a node home: keyring, intake key, empty inbox and cases stores."""
    home = settings.home
    if settings.keyring_path.exists():
        raise NodeError(f"{home} already holds a node (keyring.json exists)")
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(home, 0o700)
    with keyring_errors():
        ring, keys = Keyring.create(settings.keyring_path, user=user, passphrase=passphrase, profile=profile)
    ikeys = IntakeKeys.create(settings.intake_key_path)
    Inbox(settings.inbox_path, ikeys.inbox_db.reveal(), create=True).close()
    CasesStore(settings.cases_path, keys.cases_db_key, create=True).close()
    return ring, keys


def load_keyring(settings: Settings) -> Keyring:
    with keyring_errors():
        return Keyring.load(settings.keyring_path)


def open_inbox(settings: Settings) -> Inbox:
    keys = IntakeKeys.load(settings.intake_key_path)
    return Inbox(settings.inbox_path, keys.inbox_db.reveal())


def open_cases(settings: Settings, keys: NodeKeys) -> CasesStore:
    return CasesStore(settings.cases_path, keys.cases_db_key)


def check_stores(settings: Settings, keys: NodeKeys, *, full: bool = False) -> dict[Path, list[str]]:
    """The integrity of the node's stores: each store's path -> what is wrong with it ([] = sound).

    cases.db always, inbox.db when the node has one. A store that does not open at all (or whose
    key file does not load) has that error, which names the file, as its one problem. Reads every
    page: minutes at a million cases, so never on the path of an open (issue 14).
    """
    found: dict[Path, list[str]] = {}
    stores: list[tuple[Path, Callable[[], bytes]]] = [(settings.cases_path, lambda: keys.cases_db_key)]
    if settings.inbox_path.exists():
        stores.append((settings.inbox_path, lambda: IntakeKeys.load(settings.intake_key_path).inbox_db.reveal()))
    for path, key in stores:
        try:
            found[path] = check_store(path, key(), full=full)
        except IntakeError as exc:
            found[path] = [exc.detail or exc.code]
    return found


# -- unlocking with growing delay after failures ----------------------------------------------------
MAX_DELAY = 60.0


def failure_delay(failures: int) -> float:
    """Seconds to wait before the next try after ``failures`` wrong passphrases in a row."""
    # The exponent is capped too: 2.0**1024 overflows, which would lock the node out for good.
    return 0.0 if failures <= 0 else min(MAX_DELAY, 0.5 * 2 ** min(failures - 1, 16))


def unlock(
    settings: Settings,
    user: str | None,
    passphrase: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> NodeKeys:
    """Unlock the keyring. Wrong passphrases are counted on disk and slow every later try.

    The Argon2id cost is the real protection against guessing from a copied keyring; the
    delay makes guessing at the keyboard of an unattended laptop slow too.
    """
    return unlock_keyring(load_keyring(settings), settings.unlock_failures_path, user, passphrase, sleep=sleep)


def unlock_keyring(
    ring: Keyring,
    failures_path: Path,
    user: str | None,
    passphrase: str,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> NodeKeys:
    """:func:`unlock` for any keyring (a node's or a partner's) with its failure counter file."""
    name = user or ring.default_user()
    path = failures_path
    # One try at a time, across threads and processes (the desk and a CLI): each try reads the
    # counter, waits out its delay, checks and writes the counter while holding the lock, so
    # parallel guesses cannot share one delay and every wrong one is counted (issue 12).
    with exclusive_lock(path.parent):  # the node folder itself: no lock file to leave behind
        failures = _read_failures(path)
        sleep(failure_delay(failures))
        try:
            with keyring_errors():
                keys = ring.unlock(name, passphrase)
        except WrongPassphrase:
            try:
                write_private_file(path, str(failures + 1).encode())
            except OSError as exc:
                raise NodeError(f"{path}: cannot count the failed try ({exc.strerror})") from None
            raise
        if failures:
            path.unlink(missing_ok=True)
    return keys


def _read_failures(path: Path) -> int:
    try:
        return max(0, int(path.read_text().strip() or 0))
    except (FileNotFoundError, ValueError):
        return 0
