"""Recovery kits: a node's master secret sealed to a trusted person's or partner's X25519 key.

Before a raid a coordinator writes a kit (``intake keys escrow``) and gives it to someone who is not
a target. After ``intake panic`` has destroyed the keys on the office laptop, that person's private
key opens the kit, and the master in it opens a backup (``intake keys recover``):
docs/threat-model.md#panic.

Binary kit (the file form carries it in base64, the paper form in base32 lines)::

    "IRK" 0x01 | node id (8 bytes) | made (uint64 BE, Unix seconds) | SealedBox(recipient, inner)
    inner = "IRK" 0x01 | node id (8) | made (8) | master (32)

The node id and time appear twice: in clear, so the wrong backup is named before any key is asked
for, and inside the sealed box, which is what counts (the clear copy must equal it). A sealed box is
anonymous, so anyone with the recipient's public key could make a kit: the caller must check that
the master derives the public keys of the backup it opens (``Keyring.keys_from_master``).
Every failure to open is one :class:`CannotOpen`; a kit that cannot even be read is
:class:`KitDamaged`, with the line to check when it came from paper.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path

import nacl.bindings as b
import nacl.exceptions
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.errors import CannotOpen, KitDamaged
from crypto.fingerprint import fingerprint
from crypto.secret import Secret

MAGIC = b"IRK\x01"
KIT_FORMAT = "grievance-intake-recovery-kit"
PAPER_TITLE = "GRIEVANCE INTAKE RECOVERY KIT (paper, version 1)"
IDENTITY_PREFIX = "intake-identity1:"
_HEAD = struct.Struct(">4s8sQ")
_MASTER = 32
_LINE_BYTES = 25  # 40 base32 letters a line
_CHECK = 4  # base32 letters of each line's checksum
_PROBE = hashlib.sha256(b"grievance-intake/v1 key check").digest()


@dataclass(frozen=True)
class Kit:
    """A parsed kit, still sealed: who it says it is for, and the sealed part."""

    node_id: str
    made: int
    sealed: bytes = field(repr=False)
    raw: bytes = field(repr=False)


@dataclass(frozen=True)
class Opened:
    node_id: str
    made: int
    master: Secret[bytes] = field(repr=False)


def make_kit(master: bytes, *, node_id: str, made: int, to: PublicKey) -> bytes:
    """The binary kit of ``master`` (32 bytes) for node ``node_id``, sealed to ``to``."""
    node = bytes.fromhex(node_id)
    if len(master) != _MASTER or len(node) != 8:
        raise ValueError("a kit holds a 32-byte master of a node with an 8-byte id")
    head = _HEAD.pack(MAGIC, node, made)
    return head + SealedBox(to).encrypt(head + bytes(master))


def parse_kit(data: bytes) -> Kit:
    """A kit from any of its forms: binary, the JSON file, or paper typed back. :class:`KitDamaged` if not."""
    text = _text(data)
    if text is not None and text.lstrip().startswith("{"):
        try:
            doc = json.loads(text)
            if doc.get("format") != KIT_FORMAT or doc.get("version") != 1:
                raise KitDamaged("this is not an intake recovery kit")
            raw = base64.b64decode(str(doc["kit"]), validate=True)
        except (ValueError, KeyError, TypeError, AttributeError, binascii.Error):
            raise KitDamaged("the recovery kit file is damaged") from None
    elif text is not None and any(_PAPER_END.match(ln) or _PAPER_LINE.match(ln) for ln in text.splitlines()):
        raw = from_paper(text)
    else:
        raw = bytes(data)
    return _parse_binary(raw)


def _text(data: bytes) -> str | None:
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        return None


def _parse_binary(raw: bytes) -> Kit:
    if len(raw) != _HEAD.size + b.crypto_box_SEALBYTES + _HEAD.size + _MASTER or not raw.startswith(MAGIC):
        raise KitDamaged("this is not an intake recovery kit, or it is truncated")
    _magic, node, made = _HEAD.unpack_from(raw)
    return Kit(node.hex(), made, raw[_HEAD.size :], raw)


def open_kit(kit: Kit, identity: PrivateKey) -> Opened:
    """Open ``kit`` with the recipient's private key; :class:`CannotOpen` for the wrong key or a
    changed kit (the clear node id and time must equal the sealed ones)."""
    try:
        inner = SealedBox(identity).decrypt(kit.sealed)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotOpen("cannot open") from None
    if len(inner) != _HEAD.size + _MASTER or inner[: _HEAD.size] != kit.raw[: _HEAD.size]:
        raise CannotOpen("cannot open")
    return Opened(kit.node_id, kit.made, Secret(bytes(inner[_HEAD.size :])))


def kit_file(kit: bytes, *, public: dict[str, str], made_text: str, recipient: PublicKey) -> bytes:
    """The file form: JSON a person can read (whose node, when, for whom), the kit in base64."""
    parsed = _parse_binary(kit)
    doc = {
        "format": KIT_FORMAT,
        "version": 1,
        "node_id": parsed.node_id,
        "made": made_text,
        "node_public": public,
        "sealed_to": fingerprint(bytes(recipient), kind="x25519"),
        "kit": base64.b64encode(kit).decode("ascii"),
    }
    return (json.dumps(doc, indent=1) + "\n").encode()


# -- paper ------------------------------------------------------------------------------------------------
def _line_check(number: int, chunk: bytes) -> str:
    digest = hashlib.blake2b(b"intake/v1/paper-line" + struct.pack(">H", number) + chunk, digest_size=5).digest()
    return base64.b32encode(digest).decode("ascii")[:_CHECK]


def to_paper(kit: bytes, *, made_text: str, recipient: PublicKey) -> str:
    """The printable form: base32 lines of 40 letters in groups of 5, each with its own checksum, so a
    typing mistake is caught at its line."""
    parsed = _parse_binary(kit)
    lines = [
        PAPER_TITLE,
        f"Node: {parsed.node_id}    Made: {made_text}",
        f"Sealed to: {fingerprint(bytes(recipient), kind='x25519')}",
        "Type the numbered lines back exactly (spaces do not matter); the last 4 letters check each line.",
        "",
    ]
    chunks = [kit[i : i + _LINE_BYTES] for i in range(0, len(kit), _LINE_BYTES)]
    for number, chunk in enumerate(chunks, 1):
        letters = base64.b32encode(chunk).decode("ascii").rstrip("=")
        groups = " ".join(letters[i : i + 5] for i in range(0, len(letters), 5))
        lines.append(f"{number:2d}: {groups}  {_line_check(number, chunk)}")
    lines += ["", f"END {len(chunks)}", ""]
    return "\n".join(lines)


_PAPER_LINE = re.compile(r"^\s*(\d{1,3})\s*:\s*([A-Za-z2-7 ]+?)\s*$")
_PAPER_END = re.compile(r"^\s*END\s+(\d{1,3})\s*$", re.IGNORECASE)


def from_paper(text: str) -> bytes:
    """The binary kit from its paper form typed back; :class:`KitDamaged` naming the line to check."""
    found: dict[int, bytes] = {}
    total = None
    for line in text.splitlines():
        if end := _PAPER_END.match(line):
            total = int(end.group(1))
            continue
        match = _PAPER_LINE.match(line)
        if not match:
            continue
        number, letters = int(match.group(1)), match.group(2).replace(" ", "").upper()
        body, check = letters[:-_CHECK], letters[-_CHECK:]
        try:
            chunk = base64.b32decode(body + "=" * (-len(body) % 8))
        except (binascii.Error, ValueError):
            raise KitDamaged(f"line {number} of the paper kit is mistyped") from None
        if len(letters) <= _CHECK or _line_check(number, chunk) != check or number in found:
            raise KitDamaged(f"line {number} of the paper kit is mistyped")
        found[number] = chunk
    if total is None or sorted(found) != list(range(1, total + 1)):
        missing = [n for n in range(1, (total or max(found, default=0)) + 1) if n not in found]
        where = f" (line {missing[0]})" if missing else ""
        raise KitDamaged(f"the paper kit is missing a line{where} or its END line")
    return b"".join(found[n] for n in range(1, total + 1))


# -- whose key: the recipient's public key, the recipient's private identity --------------------------
def _usable(raw: bytes) -> PublicKey:
    try:
        b.crypto_scalarmult(_PROBE, raw)  # refuses low-order points: a kit to them opens for anyone
    except nacl.exceptions.RuntimeError:
        raise ValueError("not a usable X25519 public key") from None
    return PublicKey(raw)


def parse_recipient(text: str) -> PublicKey:
    """A recipient's X25519 public key: base64 (as ``intake keys identity`` prints it), or a partner
    key ``intake-partner1:...`` (``intake partner keys show``), whose sealing half is used; or a file
    holding one of these. ``ValueError`` saying what is wrong."""
    from crypto.envelope import parse_partner_key  # the partner key's own parser and checks

    text = text.strip()
    candidates = [text]
    path = Path(text)
    if text and len(text) < 4096 and path.is_file():
        try:
            content = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError):
            raise ValueError(f"{path} cannot be read as text") from None
        candidates = [ln.strip() for ln in content.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
        if any(c.startswith(IDENTITY_PREFIX) for c in candidates):
            raise ValueError(f"{path} is a private identity; give its public key (the .pub file) instead")
    for candidate in candidates:
        if candidate.startswith("intake-partner1:"):
            return parse_partner_key(candidate)[0]
        try:
            raw = base64.b64decode(candidate.replace("-", "+").replace("_", "/"), validate=True)
        except (binascii.Error, ValueError):
            continue
        if len(raw) == 32:
            return _usable(raw)
    raise ValueError(
        "not a public key: give a base64 X25519 key, a partner key (intake-partner1:...) or a file with one"
    )


def new_identity() -> tuple[bytes, str]:
    """A trusted person's new key pair: (the private identity file's bytes, the base64 public key)."""
    key = PrivateKey.generate()
    public = base64.b64encode(bytes(key.public_key)).decode("ascii")
    body = (
        "# intake recovery identity: opens recovery kits sealed to the public key below. Keep it secret, offline.\n"
        f"# public key: {public}\n"
        f"{IDENTITY_PREFIX}{base64.b64encode(bytes(key)).decode('ascii')}\n"
    )
    return body.encode(), public


def load_identity(data: bytes) -> PrivateKey:
    """The private key of an identity file made by :func:`new_identity`; ``ValueError`` if it is not one."""
    text = _text(data) or ""
    for line in text.splitlines():
        if line.strip().startswith(IDENTITY_PREFIX):
            try:
                raw = base64.b64decode(line.strip()[len(IDENTITY_PREFIX) :], validate=True)
            except (binascii.Error, ValueError):
                break
            if len(raw) == 32:
                return PrivateKey(raw)
            break
    raise ValueError("not an intake recovery identity file")


def recipient_fingerprint(key: PublicKey) -> str:
    return fingerprint(bytes(key), kind="x25519")
