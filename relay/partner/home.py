"""A partner's home folder: its keys, and the two stores it opens.

A partner home (``intake partner init``) holds:

- ``keyring.json``: the partner's X25519 (opening) and Ed25519 keys, wrapped per user by Argon2id,
  exactly like a node's keyring;
- ``inbox.key`` (0600): the inbox store's key and the *receipt* signing key, which the always-on
  inbox server needs without a passphrase. Seizing it lets someone sign receipts, never open an
  envelope;
- ``inbox.db``: SQLCipher; the registered nodes (name, Ed25519 key, a hash of their bearer token)
  and the envelopes received and not yet opened, still sealed (``relay.partner.inbox``);
- ``partner.db``: SQLCipher under a key from the master secret; opened summaries with their
  history per case reference, and every refused envelope with its reason (``relay.partner.store``).

The file names a node's home shares (``keyring.json``, ``inbox.db``, ``unlock-failures``) are named
once, in ``intake.settings.HomePaths``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from crypto import Keyring, NodeKeys, fingerprint
from crypto.envelope import partner_key_string
from intake.errors import NodeError, keyring_errors
from intake.node import unlock_keyring
from intake.settings import HomePaths
from relay.partner.inbox import InboxKeys, PartnerInbox
from relay.partner.store import PARTNER_DB_LABEL, PartnerStore


@dataclass(frozen=True)
class PartnerHome(HomePaths):
    home: Path

    @property
    def inbox_key_path(self) -> Path:
        return self.home / "inbox.key"

    @property
    def db_path(self) -> Path:
        return self.home / "partner.db"

    def keyring(self) -> Keyring:
        with keyring_errors(f" (is {self.home} a partner home? 'intake partner init' makes one)"):
            return Keyring.load(self.keyring_path)

    def inbox_keys(self) -> InboxKeys:
        return InboxKeys.load(self.inbox_key_path)

    def open_inbox(self) -> PartnerInbox:
        return PartnerInbox(self.inbox_path, self.inbox_keys().inbox_db)

    def unlock(self, user: str | None, passphrase: str, *, sleep: Callable[[float], None] = time.sleep) -> NodeKeys:
        """Unlock the partner's keyring; wrong passphrases slow every later try, as on a node."""
        return unlock_keyring(self.keyring(), self.unlock_failures_path, user, passphrase, sleep=sleep)

    def open_db(self, keys: NodeKeys) -> PartnerStore:
        return PartnerStore(self.db_path, keys.key(PARTNER_DB_LABEL))

    def key_string(self) -> str:
        return partner_key_string(self.keyring().public_key, self.inbox_keys().receipt.verify_key)

    def fingerprints(self) -> dict[str, str]:
        ring = self.keyring()
        return {
            "x25519": ring.fingerprints()["x25519"],
            "receipts": fingerprint(bytes(self.inbox_keys().receipt.verify_key), kind="ed25519"),
        }


def init_partner(home: Path, *, user: str, passphrase: str, profile: str) -> PartnerHome:
    """Create a partner home; refuses a folder that already holds one (or a node)."""
    ph = PartnerHome(Path(home))
    if ph.keyring_path.exists():
        raise NodeError(f"{home} already holds a keyring; a partner home needs its own folder")
    ph.home.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(ph.home, 0o700)
    with keyring_errors():
        _ring, keys = Keyring.create(ph.keyring_path, user=user, passphrase=passphrase, profile=profile)
    ikeys = InboxKeys.create(ph.inbox_key_path)
    PartnerInbox(ph.inbox_path, ikeys.inbox_db, create=True).close()
    PartnerStore(ph.db_path, keys.key(PARTNER_DB_LABEL), create=True).close()
    return ph
