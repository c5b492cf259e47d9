"""The node keyring: public keys in clear, one random master secret wrapped once per user.

Every secret of the node (cases-store key, X25519 and Ed25519 private keys, contact key,
reporter-link key) is derived from the 32-byte master with a purpose label. Each desk user holds
a copy of the master wrapped (XChaCha20-Poly1305) under Argon2id(passphrase); the user name, role
and node id are bound as associated data, so a wrapped copy cannot be moved to another user or
have its role raised by editing the file. Adding a user or changing a passphrase re-wraps the
master; nothing else is re-encrypted.

File: JSON, ``{"format": "grievance-intake-keyring", "version": 1, ...}``, written atomically,
mode 0600.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nacl.bindings as b
import nacl.exceptions
import nacl.utils
from nacl.public import PrivateKey, PublicKey
from nacl.pwhash import argon2id
from nacl.signing import SigningKey, VerifyKey

from crypto.errors import KeyringDestroyed, KeyringError, WrongPassphrase
from crypto.files import overwrite_file, write_private_file
from crypto.fingerprint import fingerprint
from crypto.kdf import SALT_BYTES, KdfProfile, derive_key, get_profile, passphrase_key
from crypto.secret import Secret

FORMAT = "grievance-intake-keyring"
VERSION = 1
MASTER_BYTES = 32
_NONCE = b.crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
USER_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,31}$")
MIN_PASSPHRASE = 8

# Purpose labels: one per derived key. Never reuse a label for a new purpose; bump the version.
CASES_DB = "intake/v1/cases-db"
X25519 = "intake/v1/x25519"
ED25519 = "intake/v1/ed25519"
CONTACT = "intake/v1/contact"
REPORTER = "intake/v1/reporter-link"


class Role(enum.StrEnum):
    COORDINATOR = "coordinator"  # users, settings, relay approval, and everything a caseworker does
    CASEWORKER = "caseworker"  # cases
    VIEWER = "viewer"  # statistics only


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: Any, what: str) -> bytes:
    if not isinstance(text, str):
        raise KeyringError(f"keyring field {what} is missing or not text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise KeyringError(f"keyring field {what} is not base64") from None


def _aad(node_id: str, user: str, role: Role) -> bytes:
    return b"\x00".join([b"intake/v1/keyring-wrap", node_id.encode(), user.encode(), role.value.encode()])


@dataclass(frozen=True)
class NodeKeys:
    """The unlocked node secrets for one user session. Lock = drop every reference to this."""

    master: Secret[bytes] = field(repr=False)
    node_id: str
    user: str
    role: Role

    def key(self, purpose: str) -> bytes:
        return derive_key(self.master.reveal(), purpose)

    @property
    def identity(self) -> PrivateKey:
        """X25519 private key: opens sealed items."""
        return PrivateKey(self.key(X25519))

    @property
    def signing_key(self) -> SigningKey:
        return SigningKey(self.key(ED25519))

    @property
    def cases_db_key(self) -> bytes:
        return self.key(CASES_DB)

    @property
    def contact_key(self) -> bytes:
        return self.key(CONTACT)

    @property
    def reporter_key(self) -> bytes:
        return self.key(REPORTER)


@dataclass
class _User:
    role: Role
    profile: str
    opslimit: int
    memlimit: int
    salt: bytes
    nonce: bytes
    wrapped: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "role": self.role.value,
            "kdf": {
                "alg": "argon2id",
                "profile": self.profile,
                "opslimit": self.opslimit,
                "memlimit": self.memlimit,
            },
            "salt": _b64(self.salt),
            "nonce": _b64(self.nonce),
            "wrapped": _b64(self.wrapped),
        }

    @classmethod
    def from_json(cls, name: str, raw: Any) -> _User:
        try:
            kdf = raw["kdf"]
            if kdf.get("alg") != "argon2id":
                raise KeyringError(f"user {name}: unknown KDF {kdf.get('alg')!r}")
            user = cls(
                role=Role(raw["role"]),
                profile=str(kdf["profile"]),
                opslimit=int(kdf["opslimit"]),
                memlimit=int(kdf["memlimit"]),
                salt=_unb64(raw["salt"], f"{name}.salt"),
                nonce=_unb64(raw["nonce"], f"{name}.nonce"),
                wrapped=_unb64(raw["wrapped"], f"{name}.wrapped"),
            )
            # Out-of-range costs or wrong-sized salt/nonce would otherwise surface at unlock as a
            # raw libsodium ValueError instead of a clear keyring error.
            if not (
                argon2id.OPSLIMIT_MIN <= user.opslimit <= argon2id.OPSLIMIT_MAX
                and argon2id.MEMLIMIT_MIN <= user.memlimit <= argon2id.MEMLIMIT_MAX
                and len(user.salt) == SALT_BYTES
                and len(user.nonce) == _NONCE
            ):
                raise KeyringError(f"user {name}: KDF parameters, salt or nonce out of range")
            return user
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            if isinstance(exc, KeyringError):
                raise
            raise KeyringError(f"user {name}: malformed entry") from None


def _wrap(master: bytes, node_id: str, user: str, role: Role, passphrase: str, profile: KdfProfile) -> _User:
    salt = nacl.utils.random(SALT_BYTES)
    nonce = nacl.utils.random(_NONCE)
    kek = passphrase_key(passphrase, salt, profile.opslimit, profile.memlimit)
    wrapped = b.crypto_aead_xchacha20poly1305_ietf_encrypt(master, _aad(node_id, user, role), nonce, kek)
    return _User(role, profile.name, profile.opslimit, profile.memlimit, salt, nonce, wrapped)


def check_user_name(name: str) -> str:
    if not USER_NAME.match(name):
        raise KeyringError("user names are 1-32 characters: a-z, 0-9, '.', '_', '-', starting with a letter or digit")
    return name


def check_passphrase(passphrase: str) -> None:
    if len(passphrase) < MIN_PASSPHRASE:
        raise KeyringError(f"a passphrase needs at least {MIN_PASSPHRASE} characters")


class Keyring:
    """A node's keyring file. Load it, then unlock it with a user's passphrase."""

    def __init__(self, path: Path, node_id: str, x25519: bytes, ed25519: bytes, users: dict[str, _User]) -> None:
        self.path = Path(path)
        self.node_id = node_id
        self._x25519 = x25519
        self._ed25519 = ed25519
        self._users = users

    # -- public side, no passphrase needed ------------------------------------------------
    @property
    def public_key(self) -> PublicKey:
        """X25519 key that intake seals items to."""
        return PublicKey(self._x25519)

    @property
    def verify_key(self) -> VerifyKey:
        return VerifyKey(self._ed25519)

    def fingerprints(self) -> dict[str, str]:
        return {
            "x25519": fingerprint(self._x25519, kind="x25519"),
            "ed25519": fingerprint(self._ed25519, kind="ed25519"),
        }

    def public_keys_b64(self) -> dict[str, str]:
        return {"x25519": _b64(self._x25519), "ed25519": _b64(self._ed25519)}

    @property
    def users(self) -> dict[str, Role]:
        return {name: u.role for name, u in self._users.items()}

    def user_stamp(self, name: str) -> bytes | None:
        """A digest of ``name``'s entry, or None when there is no such user.

        It changes whenever the entry is rewritten: the user removed (and perhaps added again),
        given a new passphrase. The desk compares it on every request, so removing a user ends
        their open sessions (issue 12).
        """
        entry = self._users.get(name)
        if entry is None:
            return None
        parts = [name.encode(), entry.role.value.encode(), entry.salt, entry.nonce, entry.wrapped]
        return hashlib.sha256(b"\x00".join([b"intake/v1/user-stamp", *parts])).digest()

    def default_user(self) -> str:
        """The only user, or the first one created."""
        return next(iter(self._users))

    # -- creation and loading ---------------------------------------------------------------
    @classmethod
    def create(cls, path: Path, *, user: str, passphrase: str, profile: str) -> tuple[Keyring, NodeKeys]:
        path = Path(path)
        if path.exists():
            raise KeyringError(f"{path} already exists; refusing to overwrite a keyring")
        check_user_name(user)
        check_passphrase(passphrase)
        master = nacl.utils.random(MASTER_BYTES)
        node_id = nacl.utils.random(8).hex()
        x_pub = bytes(PrivateKey(derive_key(master, X25519)).public_key)
        e_pub = bytes(SigningKey(derive_key(master, ED25519)).verify_key)
        users = {user: _wrap(master, node_id, user, Role.COORDINATOR, passphrase, get_profile(profile))}
        ring = cls(path, node_id, x_pub, e_pub, users)
        ring.save()
        return ring, NodeKeys(Secret(master), node_id, user, Role.COORDINATOR)

    @classmethod
    def load(cls, path: Path) -> Keyring:
        path = Path(path)
        try:
            raw = json.loads(path.read_bytes())
        except FileNotFoundError:
            raise KeyringError(f"{path}: no keyring here; run 'intake init' first") from None
        except (OSError, ValueError) as exc:
            raise KeyringError(f"{path}: not a readable keyring ({type(exc).__name__})") from None
        if not isinstance(raw, dict) or raw.get("format") != FORMAT:
            raise KeyringError(f"{path}: not an intake keyring")
        if raw.get("version") != VERSION:
            raise KeyringError(f"{path}: keyring version {raw.get('version')!r} is not supported by this release")
        if raw.get("destroyed_at"):
            raise KeyringDestroyed(
                f"{path}: this node's keys were destroyed (panic at {raw['destroyed_at']}); "
                "restore it from a backup with a recovery kit ('intake keys recover')"
            )
        try:
            users_raw = raw["users"]
            users = {check_user_name(str(n)): _User.from_json(str(n), u) for n, u in users_raw.items()}
            node_id = str(raw["node_id"])
            x_pub = _unb64(raw["public"]["x25519"], "public.x25519")
            e_pub = _unb64(raw["public"]["ed25519"], "public.ed25519")
        except (KeyError, TypeError, AttributeError):
            raise KeyringError(f"{path}: keyring is missing fields") from None
        if not users or len(x_pub) != 32 or len(e_pub) != 32:
            raise KeyringError(f"{path}: keyring is incomplete")
        return cls(path, node_id, x_pub, e_pub, users)

    def save(self) -> None:
        doc = {
            "format": FORMAT,
            "version": VERSION,
            "node_id": self.node_id,
            "public": {"x25519": _b64(self._x25519), "ed25519": _b64(self._ed25519)},
            "users": {name: u.to_json() for name, u in self._users.items()},
        }
        write_private_file(self.path, (json.dumps(doc, indent=2) + "\n").encode())

    # -- secret side --------------------------------------------------------------------------
    def unlock(self, user: str, passphrase: str) -> NodeKeys:
        entry = self._users.get(user)
        if entry is None:
            # Spend the same effort as a real try so timing does not say which users exist.
            some = next(iter(self._users.values()))
            passphrase_key(passphrase, some.salt, some.opslimit, some.memlimit)
            raise WrongPassphrase("wrong user or passphrase")
        kek = passphrase_key(passphrase, entry.salt, entry.opslimit, entry.memlimit)
        try:
            master = b.crypto_aead_xchacha20poly1305_ietf_decrypt(
                entry.wrapped, _aad(self.node_id, user, entry.role), entry.nonce, kek
            )
        except (nacl.exceptions.CryptoError, ValueError):
            raise WrongPassphrase("wrong user or passphrase") from None
        keys = NodeKeys(Secret(bytes(master)), self.node_id, user, entry.role)
        if bytes(keys.identity.public_key) != self._x25519 or bytes(keys.signing_key.verify_key) != self._ed25519:
            # The public half was swapped: intake would seal to someone else's key.
            raise KeyringError(f"{self.path}: public keys do not match the node's secrets; the file was altered")
        return keys

    def add_user(self, keys: NodeKeys, name: str, passphrase: str, *, role: Role, profile: str) -> None:
        if keys.role is not Role.COORDINATOR:
            raise KeyringError("only a coordinator can add users")
        if bytes(keys.identity.public_key) != self._x25519:
            # Wrapping another node's master here would lock the new user out of this node.
            raise KeyringError("these keys belong to another node")
        check_user_name(name)
        check_passphrase(passphrase)
        if name in self._users:
            raise KeyringError(f"user {name!r} exists already")
        self._users[name] = _wrap(keys.master.reveal(), self.node_id, name, role, passphrase, get_profile(profile))
        self.save()

    def change_passphrase(self, user: str, old: str, new: str, *, profile: str | None = None) -> None:
        keys = self.unlock(user, old)
        check_passphrase(new)
        current = self._users[user]
        prof = get_profile(profile or current.profile)
        self._users[user] = _wrap(keys.master.reveal(), self.node_id, user, current.role, new, prof)
        self.save()

    def remove_user(self, keys: NodeKeys, name: str) -> None:
        if keys.role is not Role.COORDINATOR:
            raise KeyringError("only a coordinator can remove users")
        if name not in self._users:
            raise KeyringError(f"no user {name!r}")
        coordinators = [n for n, u in self._users.items() if u.role is Role.COORDINATOR]
        if coordinators == [name]:
            raise KeyringError("refusing to remove the last coordinator")
        del self._users[name]
        self.save()

    # -- recovery (crypto/escrow.py) and panic (intake/panic.py) ------------------------------------------
    def keys_from_master(self, master: bytes, user: str) -> NodeKeys:
        """The node keys of a master secret from a recovery kit, for ``user`` as a coordinator.

        Refuses a master whose public keys are not this keyring's (a kit of another node)."""
        keys = NodeKeys(Secret(bytes(master)), self.node_id, user, Role.COORDINATOR)
        if bytes(keys.identity.public_key) != self._x25519 or bytes(keys.signing_key.verify_key) != self._ed25519:
            raise KeyringError("this master secret belongs to another node")
        return keys

    def set_passphrase(self, keys: NodeKeys, name: str, passphrase: str, *, profile: str) -> None:
        """Give ``name`` a new passphrase with the master itself (recovery: the old one is unknown).

        A user who is not in the keyring is added as a coordinator. Saved at once."""
        if bytes(keys.identity.public_key) != self._x25519:
            raise KeyringError("these keys belong to another node")
        check_user_name(name)
        check_passphrase(passphrase)
        role = self._users[name].role if name in self._users else Role.COORDINATOR
        self._users[name] = _wrap(keys.master.reveal(), self.node_id, name, role, passphrase, get_profile(profile))
        self.save()


def public_record(path: Path) -> dict[str, Any] | None:
    """The node id, public keys and ``destroyed_at`` of a keyring file, whatever its state; None if
    the file is not a readable keyring. Reads no secret."""
    try:
        raw = json.loads(Path(path).read_bytes())
        record: dict[str, Any] = {"node_id": str(raw["node_id"]), "public": dict(raw["public"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None
    record["destroyed_at"] = raw.get("destroyed_at")
    record["users"] = len(raw.get("users") or {})
    return record


def destroy_keyring(path: Path, *, at: str) -> bool:
    """Destroy every wrapped master in the keyring at ``path`` (panic): the file is overwritten in
    place with random bytes, then replaced by one holding only the node id, the public keys and
    ``destroyed_at``, so the node can still be recognised and nothing opens it. ``at`` is passed in
    (crypto reads no clock). False when there was nothing left to destroy."""
    path = Path(path)
    record = public_record(path)
    if record is not None and record["destroyed_at"] and not record["users"]:
        return False
    if not path.exists():
        return False
    overwrite_file(path)
    if record is None:  # unreadable (e.g. a panic cut off after the overwrite): nothing to keep
        path.unlink(missing_ok=True)
        return True
    doc = {
        "format": FORMAT,
        "version": VERSION,
        "node_id": record["node_id"],
        "public": record["public"],
        "users": {},
        "destroyed_at": record["destroyed_at"] or at,
    }
    write_private_file(path, (json.dumps(doc, indent=2) + "\n").encode())
    return True
