"""Regenerate the partner-message test vectors in tests/vectors/message-v1/ (docs/envelope.md#messages).

    .venv/bin/python scripts/make_message_vectors.py [--out DIR] [--check]

The envelope in the other direction: partner -> node. As for envelopes (scripts/make_envelope_vectors.py),
sealed boxes are randomised, so every run writes different message bytes while keys, ids, times and
payloads stay the same; every key is derived from a public label (seed = SHA-256 of the label), the
same labels as the envelope vectors where the key is the same. Valid messages come from
:func:`crypto.message.seal_message`, broken ones are built here by hand from the spec, and the script
opens every vector it wrote and stops if any outcome differs from the manifest.
"""

from __future__ import annotations

import functools
import hashlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nacl.bindings
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crypto.envelope import EnvelopeError, node_key_string, partner_key_string  # noqa: E402
from crypto.message import node_box_key, open_message, read_message_header, seal_message  # noqa: E402
from scripts._vectors import (  # noqa: E402
    LABEL_PREFIX,
    fail_on,
    iso,
    load_manifest,
    open_vectors,
    opener_seed,
    opener_senders,
    run,
    seed,
    vector_id,
    write_manifest,
)

OUT = ROOT / "tests" / "vectors" / "message-v1"
VERSION_LINE = b"grievance-intake/message/v1\n"
CONTEXT = b"grievance-intake/message/v1 signature\x00"
ENVELOPE_CONTEXT = b"grievance-intake/envelope/v1 signature\x00"

# name -> (kind, label). Every key here is Ed25519 (the seed is the signing seed); a node's box key
# is its Ed25519 key mapped to X25519, and a partner's box key is not used in this direction.
KEYS = {
    "partner-receipts": ("ed25519", LABEL_PREFIX + "partner receipts"),
    "other-receipts": ("ed25519", LABEL_PREFIX + "other partner receipts"),
    "unknown-partner": ("ed25519", LABEL_PREFIX + "unknown partner receipts"),
    "node": ("ed25519", LABEL_PREFIX + "node"),
    "second-node": ("ed25519", LABEL_PREFIX + "second node"),
}
# The partner key strings also carry the partners' X25519 box keys (labels of the envelope vectors).
BOX_LABELS = {"partner-receipts": LABEL_PREFIX + "partner", "other-receipts": LABEL_PREFIX + "other partner"}
SENDERS = {"partner-receipts": "Test monitor (partner)", "other-receipts": "Second test monitor (other partner)"}
T0 = datetime(2026, 11, 3, 14, 0, 0, tzinfo=UTC)


def ed25519(name: str) -> SigningKey:
    return SigningKey(seed(KEYS[name][1]))


def payload_for(kind: str, ref: str, text: str, when: datetime) -> bytes:
    """A partner message payload (grievance-intake/partner-message/v1) as canonical JSON."""
    doc = {"format": "grievance-intake/partner-message/v1", "kind": kind, "case_ref": ref, "text": text}
    doc["created_at"] = iso(when)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


# -- hand-built messages, straight from docs/envelope.md#messages --------------------------------------
def header(message_id: str, to_node: SigningKey, version_line: bytes = VERSION_LINE) -> bytes:
    hint = hashlib.sha256(bytes(node_box_key(to_node.verify_key))).digest()[:8]
    return version_line + b"id " + message_id.encode() + b"\nto " + hint.hex().encode() + b"\n---\n"


def build(
    *,
    head: bytes,
    box_to: PublicKey,
    signer: SigningKey,
    signed_node: SigningKey,
    claimed: bytes | None = None,
    signed_head: bytes | None = None,
    context: bytes = CONTEXT,
    sequence: int = 1,
    created_at: datetime = T0,
    payload: bytes = b"",
    pad: bool = True,
) -> bytes:
    sender = bytes(signer.verify_key) if claimed is None else claimed
    inner = sender + sequence.to_bytes(8, "big") + int(created_at.timestamp()).to_bytes(8, "big") + payload
    signed = context + (head if signed_head is None else signed_head) + bytes(signed_node.verify_key) + inner
    plain = inner + signer.sign(signed).signature
    plain = nacl.bindings.sodium_pad(plain, 256) if pad else plain
    return head + SealedBox(box_to).encrypt(plain)


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# -- the vectors ------------------------------------------------------------------------------------------
def make() -> tuple[dict[str, bytes], dict[str, Any]]:
    partner, stranger = ed25519("partner-receipts"), ed25519("unknown-partner")
    node, second = ed25519("node"), ed25519("second-node")
    to_node = node.verify_key
    box = node_box_key(to_node)
    question = payload_for("question", "k5xq3m7tj2ab4cde", "Has the factory paid the overtime it owes?", T0)
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []

    def add(name: str, data: bytes, expect: str, comment: str, **extra: Any) -> None:
        files[name] = data
        try:
            read_message_header(data)
            header_outcome = "ok"
        except EnvelopeError as exc:
            header_outcome = exc.reason
        entries.append({"file": name, "expect": expect, "read_header": header_outcome, "comment": comment, **extra})

    def ok(name: str, payload: bytes, *, sender: str, sequence: int, created_at: datetime, comment: str) -> bytes:
        mid = vector_id(name)
        data = seal_message(
            payload, sender=ed25519(sender), recipient=to_node, sequence=sequence, created_at=created_at, message_id=mid
        )
        add(name, data, "ok", comment, message_id=mid, sender=sender, sequence=sequence,
            created_at=iso(created_at), payload_hex=payload.hex())  # fmt: skip
        return data

    first = ok("01-ok.message", question, sender="partner-receipts", sequence=1, created_at=T0,
               comment="a partner's question about a case")  # fmt: skip
    ok(
        "02-ok-second-partner.message",
        payload_for("brand_response", "q2w3e4r5t6y7u2i3", "La marca respondió: pagará en diciembre.", T0),
        sender="other-receipts", sequence=1, created_at=T0,
        comment="sequence 1 again, from another partner: not a replay",
    )  # fmt: skip
    ok("03-ok-limits.message", bytes(range(256)), sender="partner-receipts", sequence=2**64 - 1,
       created_at=datetime(1970, 1, 1, tzinfo=UTC), comment="the largest sequence number, the earliest time, binary")  # fmt: skip
    ok("04-ok-partner-clock-ahead.message", payload_for("update_request", "k5xq3m7tj2ab4cde", "Any news?",
       datetime(2031, 5, 1, 23, 59, 59, tzinfo=UTC)), sender="partner-receipts", sequence=4,
       created_at=datetime(2031, 5, 1, 23, 59, 59, tzinfo=UTC), comment="a partner clock years ahead: told, not a gate")  # fmt: skip

    add("10-replayed-sequence.message",
        seal_message(question, sender=partner, recipient=to_node, sequence=1, created_at=T0,
                     message_id=vector_id("10-replayed-sequence.message")),
        "replayed", "a new message id but the sequence number of 01-ok from the same partner",
        after=["01-ok.message"])  # fmt: skip
    add("11-replayed-id.message",
        seal_message(question, sender=partner, recipient=to_node, sequence=6, created_at=T0,
                     message_id=vector_id("01-ok.message")),
        "replayed", "the message id of 01-ok again, with a new sequence number", after=["01-ok.message"])  # fmt: skip

    swapped = header(vector_id("20-bad_signature-header-swap.message"), node)
    add("20-bad_signature-header-swap.message", swapped + first[len(swapped) :], "bad_signature",
        "01-ok with its message id replaced in the header")  # fmt: skip
    mid = vector_id("21-bad_signature-forged.message")
    add("21-bad_signature-forged.message",
        build(head=header(mid, node), box_to=box, signer=stranger, signed_node=node,
              claimed=bytes(partner.verify_key), payload=b"forged"),
        "bad_signature", "claims the partner's receipt key, signed by the unknown partner")  # fmt: skip
    mid = vector_id("22-bad_signature-envelope-prefix.message")
    add("22-bad_signature-envelope-prefix.message",
        build(head=header(mid, node), box_to=box, signer=partner, signed_node=node, context=ENVELOPE_CONTEXT,
              payload=question),
        "bad_signature", "signed by the partner under the envelope's prefix, not the message's")  # fmt: skip
    mid = vector_id("23-bad_signature-forwarded.message")
    add("23-bad_signature-forwarded.message",
        build(head=header(mid, node), box_to=box, signer=partner, signed_node=second,
              signed_head=header(mid, second), payload=question),
        "bad_signature", "signed by the partner for the second node, re-addressed and re-sealed to this one")  # fmt: skip

    add("30-not_for_this_key.message",
        seal_message(question, sender=partner, recipient=second.verify_key, sequence=7, created_at=T0,
                     message_id=vector_id("30-not_for_this_key.message")),
        "not_for_this_key", "sealed to the second node")  # fmt: skip
    add("31-altered-byte.message", flip(first, len(first) - 100), "altered", "01-ok with one bit of the box changed")
    mid = vector_id("32-altered-wrong-box.message")
    add("32-altered-wrong-box.message",
        build(head=header(mid, node), box_to=node_box_key(second.verify_key), signer=partner, signed_node=node,
              payload=question),
        "altered", "the header names this node, the box is sealed to the second node")  # fmt: skip
    add("40-truncated-header.message", first[:60], "truncated", "the first 60 bytes of 01-ok")
    add("41-truncated-body.message", first[:200], "truncated", "01-ok cut inside the sealed box")
    add("42-truncated-empty.message", b"", "truncated", "no bytes at all")
    add("50-unknown_sender.message",
        seal_message(question, sender=stranger, recipient=to_node, sequence=1, created_at=T0,
                     message_id=vector_id("50-unknown_sender.message")),
        "unknown_sender", "sealed and signed correctly by a partner this node does not know")  # fmt: skip
    add("60-unknown_version.message", b"grievance-intake/message/v2\n" + first[len(VERSION_LINE) :],
        "unknown_version", "01-ok with the version line changed to v2")  # fmt: skip
    upper = first.replace(vector_id("01-ok.message").encode(), vector_id("01-ok.message").upper().encode(), 1)
    add("70-malformed-uppercase-id.message", upper, "malformed", "01-ok with the message id in capitals")
    add("71-malformed-an-envelope.message", b"grievance-intake/envelope/v1\n" + first[len(VERSION_LINE) :],
        "malformed", "an envelope's version line: the other direction's format is not a message")  # fmt: skip
    add("72-malformed-trailing-bytes.message", first + b"\n", "malformed", "01-ok with a newline appended")
    mid = vector_id("75-malformed-sequence-zero.message")
    add("75-malformed-sequence-zero.message",
        build(head=header(mid, node), box_to=box, signer=partner, signed_node=node, sequence=0, payload=b"zero"),
        "malformed", "signed by the partner, but sequence number 0")  # fmt: skip
    mid = vector_id("76-malformed-no-padding.message")
    add("76-malformed-no-padding.message",
        build(head=header(mid, node), box_to=box, signer=partner, signed_node=node, payload=b"y" * 144, pad=False),
        "malformed", "signed by the partner, sealed without the 0x80 00.. padding")  # fmt: skip

    manifest: dict[str, Any] = {
        "format": "grievance-intake/message/v1",
        "spec": "docs/envelope.md#messages",
        "generator": "scripts/make_message_vectors.py",
        "keys_rule": (
            "seed = SHA-256(UTF-8 label); every key is Ed25519 with that seed (crypto_sign_seed_keypair). "
            "A node's box key is crypto_sign_ed25519_pk_to_curve25519 of its Ed25519 key, and it opens with "
            "crypto_sign_ed25519_sk_to_curve25519. Test keys only: anyone can derive them."
        ),
        "keys": {
            name: {"type": kind, "label": label, "public_hex": bytes(SigningKey(seed(label)).verify_key).hex()}
            for name, (kind, label) in KEYS.items()
        },
        "node_box_hex": {n: bytes(node_box_key(ed25519(n).verify_key)).hex() for n in ("node", "second-node")},
        "key_strings": {
            "node": node_key_string(to_node),
            **{
                name: partner_key_string(PrivateKey(seed(label)).public_key, ed25519(name).verify_key)
                for name, label in BOX_LABELS.items()
            },
        },
        "opener": {"recipient": "node", "senders": SENDERS},
        "vectors": entries,
    }
    return files, manifest


# -- checking what was written --------------------------------------------------------------------------
def check(folder: Path) -> None:
    """Open every vector in ``folder`` as the manifest says; raise SystemExit on any difference."""
    manifest = load_manifest(folder)
    recipient, senders = SigningKey(opener_seed(manifest)), opener_senders(manifest)
    fail_on(open_vectors(folder, manifest, functools.partial(open_message, recipient=recipient, senders=senders)))


def write(out: Path) -> str:
    files, manifest = make()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.message"):
        old.unlink()
    for name, data in files.items():
        (out / name).write_bytes(data)
    write_manifest(out, manifest)
    return f"wrote {len(files)} messages to {out}"


def main(argv: list[str] | None = None) -> int:
    return run(argv, doc=__doc__ or "", default_out=OUT, root=ROOT, write=write, check=check)


if __name__ == "__main__":
    raise SystemExit(main())
