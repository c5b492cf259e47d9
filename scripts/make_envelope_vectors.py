"""Regenerate the relay envelope test vectors in tests/vectors/envelope-v1/ (docs/envelope.md).

    /tmp/venv/bin/python scripts/make_envelope_vectors.py [--out DIR]

Sealed boxes are randomised, so every run writes different envelope bytes; everything else (keys,
envelope ids, times, payloads, receipts) is the same each run. Commit what it writes. Every key is
derived from a public label (seed = SHA-256 of the label), so no private key is ever committed:
anyone can re-derive them, which is the point of a test vector and the reason they protect nothing.

Valid envelopes come from :func:`crypto.envelope.seal`; the broken ones are built here by hand,
following the spec rather than the module, so the two cross-check each other. Before it finishes,
the script opens every vector it wrote and stops if any outcome differs from the manifest.
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

from crypto.envelope import (  # noqa: E402
    EnvelopeError,
    node_key_string,
    open_envelope,
    partner_key_string,
    read_header,
    seal,
    sign_receipt,
    verify_receipt,
)
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

OUT = ROOT / "tests" / "vectors" / "envelope-v1"
VERSION_LINE = b"grievance-intake/envelope/v1\n"
CONTEXT = b"grievance-intake/envelope/v1 signature\x00"

# name -> (kind, label). kind "x25519": private key = seed; "ed25519": signing key seed = seed.
KEYS = {
    "partner": ("x25519", LABEL_PREFIX + "partner"),
    "partner-receipts": ("ed25519", LABEL_PREFIX + "partner receipts"),
    "node": ("ed25519", LABEL_PREFIX + "node"),
    "second-node": ("ed25519", LABEL_PREFIX + "second node"),
    "other-partner": ("x25519", LABEL_PREFIX + "other partner"),
    "other-receipts": ("ed25519", LABEL_PREFIX + "other partner receipts"),
    "unknown-node": ("ed25519", LABEL_PREFIX + "unknown node"),
}
SENDERS = {"node": "Test workers' centre (node)", "second-node": "Test labour group (second node)"}

SUMMARY = {
    "factory": "Example Electronics Co. Ltd (test)",
    "month": "2026-10",
    "categories": ["wages", "working_hours"],
    "severity": "high",
    "workers_affected": "10-49",
    "status": "investigating",
    "narrative": "Overtime was not paid for three months. [name] said complaints lead to dismissal.",
}
T0 = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)


def x25519(name: str) -> PrivateKey:
    kind, label = KEYS[name]
    if kind != "x25519":
        raise ValueError(f"{name} is an {kind} key")
    return PrivateKey(seed(label))


def ed25519(name: str) -> SigningKey:
    kind, label = KEYS[name]
    if kind != "ed25519":
        raise ValueError(f"{name} is an {kind} key")
    return SigningKey(seed(label))


# -- hand-built envelopes, straight from docs/envelope.md -----------------------------------------------
def header(envelope_id: str, to: PublicKey, version_line: bytes = VERSION_LINE) -> bytes:
    hint = hashlib.sha256(bytes(to)).digest()[:8]
    return version_line + b"id " + envelope_id.encode() + b"\nto " + hint.hex().encode() + b"\n---\n"


def build(
    *,
    head: bytes,
    box_to: PublicKey,
    signer: SigningKey,
    claimed: bytes | None = None,
    signed_head: bytes | None = None,
    signed_to: PublicKey | None = None,
    sequence: int = 1,
    created_at: datetime = T0,
    payload: bytes = b"",
    pad: bool = True,
) -> bytes:
    """An envelope whose every part can be chosen, including the wrong ones."""
    sender = bytes(signer.verify_key) if claimed is None else claimed
    inner = sender + sequence.to_bytes(8, "big") + int(created_at.timestamp()).to_bytes(8, "big") + payload
    message = CONTEXT + (head if signed_head is None else signed_head) + bytes(signed_to or box_to) + inner
    plain = inner + signer.sign(message).signature
    plain = nacl.bindings.sodium_pad(plain, 256) if pad else plain
    return head + SealedBox(box_to).encrypt(plain)


def flip(data: bytes, index: int) -> bytes:
    out = bytearray(data)
    out[index] ^= 0x01
    return bytes(out)


# -- the vectors ------------------------------------------------------------------------------------------
def make() -> tuple[dict[str, bytes], dict[str, bytes], dict[str, Any]]:
    partner, other = x25519("partner"), x25519("other-partner")
    node, second, stranger = ed25519("node"), ed25519("second-node"), ed25519("unknown-node")
    to_partner = partner.public_key
    summary = json.dumps(SUMMARY, ensure_ascii=False, separators=(",", ":")).encode()
    files: dict[str, bytes] = {}
    entries: list[dict[str, Any]] = []

    def add(name: str, data: bytes, expect: str, comment: str, **extra: Any) -> None:
        files[name] = data
        try:
            read_header(data)
            header_outcome = "ok"
        except EnvelopeError as exc:
            header_outcome = exc.reason
        entries.append({"file": name, "expect": expect, "read_header": header_outcome, "comment": comment, **extra})

    def ok(name: str, payload: bytes, *, sender: str, sequence: int, created_at: datetime, comment: str) -> bytes:
        eid = vector_id(name)
        data = seal(
            payload,
            sender=ed25519(sender),
            recipient=to_partner,
            sequence=sequence,
            created_at=created_at,
            envelope_id=eid,
        )
        add(
            name,
            data,
            "ok",
            comment,
            envelope_id=eid,
            sender=sender,
            sequence=sequence,
            created_at=iso(created_at),
            payload_hex=payload.hex(),
        )
        return data

    first = ok("01-ok.envelope", summary, sender="node", sequence=1, created_at=T0, comment="a case summary")
    ok("02-ok-empty-payload.envelope", b"", sender="node", sequence=2, created_at=T0, comment="an empty payload")
    ok(
        "03-ok-second-node.envelope",
        "第二个节点的摘要 / resumen del segundo nodo".encode(),
        sender="second-node",
        sequence=1,
        created_at=T0,
        comment="sequence 1 again, from another node: not a replay",
    )
    ok(
        "04-ok-limits.envelope",
        bytes(range(256)) * 3,
        sender="node",
        sequence=2**64 - 1,
        created_at=datetime(1970, 1, 1, tzinfo=UTC),
        comment="the largest sequence number, the earliest time, binary payload",
    )
    ok(
        "05-ok-bucket-edge.envelope",
        b"x" * (256 - 112),
        sender="node",
        sequence=5,
        created_at=T0,
        comment="signed contents of exactly 256 bytes: padding adds a whole bucket",
    )

    replay_id = vector_id("10-replayed-sequence.envelope")
    add(
        "10-replayed-sequence.envelope",
        seal(b"another summary", sender=node, recipient=to_partner, sequence=1, created_at=T0, envelope_id=replay_id),
        "replayed",
        "a new envelope id but the sequence number of 01-ok from the same node",
        after=["01-ok.envelope"],
    )
    add(
        "11-replayed-id.envelope",
        seal(
            summary,
            sender=node,
            recipient=to_partner,
            sequence=6,
            created_at=T0,
            envelope_id=vector_id("01-ok.envelope"),
        ),
        "replayed",
        "the envelope id of 01-ok again, with a new sequence number",
        after=["01-ok.envelope"],
    )

    swapped = header(vector_id("20-bad_signature-header-swap.envelope"), to_partner)
    add(
        "20-bad_signature-header-swap.envelope",
        swapped + first[len(swapped) :],
        "bad_signature",
        "01-ok with its envelope id replaced in the header",
    )
    eid = vector_id("21-bad_signature-forged.envelope")
    add(
        "21-bad_signature-forged.envelope",
        build(
            head=header(eid, to_partner),
            box_to=to_partner,
            signer=stranger,
            claimed=bytes(node.verify_key),
            payload=b"forged",
        ),
        "bad_signature",
        "claims the node's key, signed by the unknown node",
    )
    eid = vector_id("22-bad_signature-forwarded.envelope")
    add(
        "22-bad_signature-forwarded.envelope",
        build(
            head=header(eid, to_partner),
            box_to=to_partner,
            signer=node,
            signed_head=header(eid, other.public_key),
            signed_to=other.public_key,
            payload=summary,
        ),
        "bad_signature",
        "signed by the node for the other partner, re-addressed and re-sealed to this one by that partner",
    )

    add(
        "30-not_for_this_key.envelope",
        seal(
            summary,
            sender=node,
            recipient=other.public_key,
            sequence=7,
            created_at=T0,
            envelope_id=vector_id("30-not_for_this_key.envelope"),
        ),
        "not_for_this_key",
        "sealed to the other partner",
    )
    add(
        "31-altered-byte.envelope",
        flip(first, len(first) - 100),
        "altered",
        "01-ok with one bit of the sealed box changed",
    )
    eid = vector_id("32-altered-wrong-box.envelope")
    add(
        "32-altered-wrong-box.envelope",
        build(head=header(eid, to_partner), box_to=other.public_key, signer=node, payload=summary),
        "altered",
        "the header names this partner, the box is sealed to the other partner",
    )
    add(
        "33-altered-appended-bucket.envelope",
        first + bytes(256),
        "altered",
        "01-ok with 256 zero bytes appended: the length is plausible, the box does not open",
    )

    add("40-truncated-header.envelope", first[:60], "truncated", "the first 60 bytes of 01-ok")
    add("41-truncated-body.envelope", first[:200], "truncated", "01-ok cut inside the sealed box")
    add("42-truncated-empty.envelope", b"", "truncated", "no bytes at all")

    add(
        "50-unknown_sender.envelope",
        seal(
            summary,
            sender=stranger,
            recipient=to_partner,
            sequence=1,
            created_at=T0,
            envelope_id=vector_id("50-unknown_sender.envelope"),
        ),
        "unknown_sender",
        "sealed and signed correctly by a node the partner does not know",
    )

    v2 = b"grievance-intake/envelope/v2\n"
    add(
        "60-unknown_version.envelope",
        v2 + first[len(VERSION_LINE) :],
        "unknown_version",
        "01-ok with the version line changed to v2",
    )

    upper = first.replace(vector_id("01-ok.envelope").encode(), vector_id("01-ok.envelope").upper().encode(), 1)
    add("70-malformed-uppercase-id.envelope", upper, "malformed", "01-ok with the envelope id in capitals")
    add(
        "71-malformed-not-an-envelope.envelope",
        b"age-encryption.org/v1\n-> X25519 AAAA\n--- AAAA\n" + bytes(300),
        "malformed",
        "some other format",
    )
    add("72-malformed-trailing-bytes.envelope", first + b"\n", "malformed", "01-ok with a newline appended")
    add(
        "73-malformed-version-zero-padded.envelope",
        b"grievance-intake/envelope/v01\n" + first[len(VERSION_LINE) :],
        "malformed",
        "version written v01: not canonical",
    )
    add(
        "74-malformed-crlf.envelope",
        first[:88].replace(b"\n", b"\r\n", 1) + first[88:],
        "malformed",
        "01-ok with CRLF after the version line (the header is also one byte longer)",
    )
    eid = vector_id("75-malformed-sequence-zero.envelope")
    add(
        "75-malformed-sequence-zero.envelope",
        build(head=header(eid, to_partner), box_to=to_partner, signer=node, sequence=0, payload=b"zero"),
        "malformed",
        "signed by the node, but sequence number 0",
    )
    eid = vector_id("76-malformed-no-padding.envelope")
    unpadded = b"y" * (256 - 112)  # contents exactly one bucket long, sealed without padding
    add(
        "76-malformed-no-padding.envelope",
        build(head=header(eid, to_partner), box_to=to_partner, signer=node, payload=unpadded, pad=False),
        "malformed",
        "signed by the node, sealed without the 0x80 00.. padding",
    )

    receipts: dict[str, bytes] = {}
    receipt_entries: list[dict[str, Any]] = []
    first_id = vector_id("01-ok.envelope")
    received = datetime(2026, 11, 2, 9, 31, 5, tzinfo=UTC)

    def receipt(name: str, data: bytes, expect: str, comment: str) -> None:
        receipts[name] = data
        receipt_entries.append(
            {
                "file": name,
                "envelope_id": first_id,
                "key": "partner-receipts",
                "expect": expect,
                "comment": comment,
                **({"received_at": iso(received)} if expect == "ok" else {}),
            }
        )

    good = sign_receipt(first_id, key=ed25519("partner-receipts"), received_at=received)
    receipt("receipt-01-ok.json", good, "ok", "the inbox's receipt for 01-ok")
    receipt(
        "receipt-02-other-envelope.json",
        sign_receipt(vector_id("02-ok-empty-payload.envelope"), key=ed25519("partner-receipts"), received_at=received),
        "bad_signature",
        "a genuine receipt, but for 02-ok's envelope id",
    )
    receipt(
        "receipt-03-other-key.json",
        sign_receipt(first_id, key=ed25519("other-receipts"), received_at=received),
        "bad_signature",
        "for 01-ok, signed by another partner's receipt key",
    )
    doc = json.loads(good)
    doc["received_at"] = iso(datetime(2026, 11, 2, 9, 31, 6, tzinfo=UTC))
    receipt(
        "receipt-04-time-changed.json",
        json.dumps(doc, separators=(",", ":")).encode(),
        "bad_signature",
        "receipt-01-ok with its time moved by one second",
    )
    doc = json.loads(good)
    doc["note"] = "extra"
    receipt(
        "receipt-05-extra-member.json",
        json.dumps(doc, separators=(",", ":")).encode(),
        "malformed",
        "receipt-01-ok with a member that the format does not have",
    )

    manifest: dict[str, Any] = {
        "format": "grievance-intake/envelope/v1",
        "spec": "docs/envelope.md",
        "generator": "scripts/make_envelope_vectors.py",
        "keys_rule": (
            "seed = SHA-256(UTF-8 label). x25519: the seed is the private key (crypto_box secret key, "
            "libsodium clamps it). ed25519: the seed is the Ed25519 seed (crypto_sign_seed_keypair). "
            "Test keys only: anyone can derive them."
        ),
        "keys": {
            name: {
                "type": kind,
                "label": label,
                "public_hex": (
                    bytes(PrivateKey(seed(label)).public_key)
                    if kind == "x25519"
                    else bytes(SigningKey(seed(label)).verify_key)
                ).hex(),
            }
            for name, (kind, label) in KEYS.items()
        },
        "key_strings": {
            "partner": partner_key_string(to_partner, ed25519("partner-receipts").verify_key),
            "node": node_key_string(node.verify_key),
            "second-node": node_key_string(second.verify_key),
        },
        "opener": {"recipient": "partner", "senders": SENDERS},
        "vectors": entries,
        "receipts": receipt_entries,
    }
    return files, receipts, manifest


# -- checking what was written --------------------------------------------------------------------------
def check(folder: Path) -> None:
    """Open every vector in ``folder`` as the manifest says; raise SystemExit on any difference."""
    manifest = load_manifest(folder)
    keys = manifest["keys"]
    recipient, senders = PrivateKey(opener_seed(manifest)), opener_senders(manifest)
    problems = open_vectors(folder, manifest, functools.partial(open_envelope, recipient=recipient, senders=senders))
    for item in manifest["receipts"]:
        key = SigningKey(seed(keys[item["key"]]["label"])).verify_key
        try:
            verify_receipt((folder / "receipts" / item["file"]).read_bytes(), envelope_id=item["envelope_id"], key=key)
            got = "ok"
        except EnvelopeError as exc:
            got = exc.reason
        if got != item["expect"]:
            problems.append(f"receipts/{item['file']}: expected {item['expect']}, got {got}")
    fail_on(problems)


def write(out: Path) -> str:
    files, receipts, manifest = make()
    (out / "receipts").mkdir(parents=True, exist_ok=True)
    for old in [*out.glob("*.envelope"), *(out / "receipts").glob("*.json")]:
        old.unlink()
    for name, data in files.items():
        (out / name).write_bytes(data)
    for name, data in receipts.items():
        (out / "receipts" / name).write_bytes(data)
    write_manifest(out, manifest)
    return f"wrote {len(files)} envelopes and {len(receipts)} receipts to {out}"


def main(argv: list[str] | None = None) -> int:
    return run(argv, doc=__doc__ or "", default_out=OUT, root=ROOT, write=write, check=check)


if __name__ == "__main__":
    raise SystemExit(main())
