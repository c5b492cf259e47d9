"""Panic: destroy this machine's key material so the node's stores cannot be opened, even with a passphrase.

``intake panic``, the desk's coordinator button and the duress passphrase all call :func:`panic`:

1. a marker, ``panicked``, is written first: one line, the time, nothing else (no user, no reason,
   no audit entry: the audit log is inside cases.db, whose key is what goes). A running desk watches
   for it at every request and every second, and locks at once (intake/desk/app.py); a drain stops
   at its next batch (intake/drain.py);
2. every wrapped master in ``keyring.json`` is overwritten in place, and the file replaced by one
   with the public keys only (``crypto.keyring.destroy_keyring``), so the node is still recognised
   and a recovery kit can be checked against it;
3. ``intake.key`` (the inbox key), ``settings.toml`` (provider credentials), the duress verifier and
   the failure counter are overwritten and unlinked (``crypto.files.shred_file``).

The stores stay where they are: without the master, cases.db is 256 random-looking key bits away;
without intake.key, inbox.db likewise, and its items are sealed besides. Flash storage may keep old
blocks of an overwritten file: that is why the stores are encrypted and the *keys* are what gets
destroyed, and why a disk image copied before the panic still opens with a passphrase
(docs/threat-model.md#panic). Recovery: a kit (crypto/escrow.py) and a backup, ``intake keys recover``.

Panic is idempotent: run again, it finishes whatever a first run cut off, or says it was done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from crypto import Keyring, KeyringError, WrongPassphrase
from crypto.duress import make_verifier, matches
from crypto.files import shred_file, write_private_file
from crypto.kdf import get_profile
from crypto.keyring import check_passphrase, destroy_keyring
from intake import clock
from intake.errors import InvalidInput, NodeError, keyring_errors
from intake.settings import Settings

MARKER = "panicked"
DURESS = "duress.json"
# Secret files of a node folder besides keyring.json, each overwritten and unlinked by a panic.
SECRET_FILES = ("intake.key", "settings.toml", DURESS, "unlock-failures", "backup-agent.key")


@dataclass(frozen=True)
class PanicResult:
    already: bool  # nothing was left to destroy: a panic had run before
    at: str  # when the (first) panic happened, ISO 8601 UTC
    destroyed: tuple[str, ...]  # the files destroyed by this run


def marker_path(home: Path) -> Path:
    return Path(home) / MARKER


def panicked_at(home: Path) -> str | None:
    """When panic ran on the node at ``home`` (ISO 8601), or None. One ``stat`` when it did not."""
    path = marker_path(home)
    try:
        text = path.read_text("ascii").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError):
        return "?"
    return text or "?"


def panic(settings: Settings) -> PanicResult:
    """Destroy the node's local key material (see the module's docstring). Takes no lock: it must
    never wait behind an unlock that is sitting out its delay."""
    home = settings.home
    if not home.is_dir():
        raise NodeError(f"No node at {home}.")
    before = panicked_at(home)
    at = before if before and before != "?" else clock.now().isoformat(timespec="seconds").replace("+00:00", "Z")
    if before is None:
        write_private_file(marker_path(home), (at + "\n").encode("ascii"))
    destroyed: list[str] = []
    if destroy_keyring(settings.keyring_path, at=at):
        destroyed.append("keyring.json")
    for name in SECRET_FILES:
        if shred_file(home / name):
            destroyed.append(name)
    # Temporary copies a crash may have left of the files above (crypto.files.write_private_file).
    for name in ("keyring.json", *SECRET_FILES):
        for leftover in home.glob(f".{name}.*.tmp"):
            if shred_file(leftover):
                destroyed.append(leftover.name)
    return PanicResult(already=before is not None and not destroyed, at=at, destroyed=tuple(destroyed))


# -- the duress passphrase ----------------------------------------------------------------------------
def duress_path(settings: Settings) -> Path:
    return settings.home / DURESS


def set_duress(settings: Settings, passphrase: str, *, profile: str) -> None:
    """Keep an Argon2id verifier of ``passphrase`` as this node's duress passphrase.

    Refused when it is any user's real passphrase (each user's entry is tried: one Argon2id each), or
    too short. The verifier is a file of its own; the keyring is not touched."""
    with keyring_errors():
        check_passphrase(passphrase)
        ring = Keyring.load(settings.keyring_path)
    for name in ring.users:
        try:
            ring.unlock(name, passphrase)
        except (WrongPassphrase, KeyringError):
            continue
        raise InvalidInput("the duress passphrase must differ from every user's passphrase")
    verifier = make_verifier(passphrase, get_profile(profile))
    doc = {"version": 1, "verifier": verifier.decode("ascii")}
    write_private_file(duress_path(settings), json.dumps(doc).encode())


def clear_duress(settings: Settings) -> bool:
    return shred_file(duress_path(settings))


def has_duress(settings: Settings) -> bool:
    return duress_path(settings).is_file()


def is_duress(settings: Settings, passphrase: str) -> bool:
    """Whether ``passphrase`` is this node's duress passphrase (False when none is set or the file is
    unreadable: a broken verifier must never lock anyone out, nor panic)."""
    try:
        doc = json.loads(duress_path(settings).read_bytes())
        verifier = str(doc["verifier"]).encode("ascii")
    except (OSError, ValueError, KeyError, TypeError, UnicodeEncodeError):
        return False
    return matches(verifier, passphrase)
