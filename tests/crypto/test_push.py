"""The pusher's proof (crypto/push.py): only the node's key, over exactly these envelope bytes."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto.envelope import _b64url, seal, sign_receipt
from crypto.push import PUSH_CONTEXT, sign_push, verify_push
from intake import clock

NODE = SigningKey(hashlib.sha256(b"push test node").digest())
OTHER = SigningKey(hashlib.sha256(b"push test other node").digest())
PARTNER = PrivateKey(hashlib.sha256(b"push test partner").digest())


def envelope(payload: bytes = b"a summary") -> bytes:
    return seal(payload, sender=NODE, recipient=PARTNER.public_key, sequence=1, created_at=clock.now())


def test_a_proof_verifies_with_the_pushers_key_only() -> None:
    data = envelope()
    proof = sign_push(data, key=NODE)
    assert len(proof) == 86
    assert verify_push(data, proof, key=NODE.verify_key)
    assert verify_push(data, f" {proof}\n", key=NODE.verify_key), "a header value may carry spaces"
    assert not verify_push(data, proof, key=OTHER.verify_key), "another node's key"
    assert not verify_push(data, sign_push(data, key=OTHER), key=NODE.verify_key), "signed by another node"


def test_a_proof_covers_every_byte_of_the_envelope() -> None:
    data = envelope()
    proof = sign_push(data, key=NODE)
    for at in (0, 50, len(data) // 2, len(data) - 1):
        changed = bytearray(data)
        changed[at] ^= 0x01
        assert not verify_push(bytes(changed), proof, key=NODE.verify_key), at
    assert not verify_push(data + b"\x00", proof, key=NODE.verify_key)
    assert not verify_push(envelope(), proof, key=NODE.verify_key), "another envelope"


def test_no_other_signature_by_the_node_key_passes_for_a_proof() -> None:
    data = envelope()
    plain = _b64url(NODE.sign(data).signature)  # without the domain prefix
    assert not verify_push(data, plain, key=NODE.verify_key)
    receipt = sign_receipt("0" * 32, key=NODE, received_at=clock.now())
    assert not verify_push(data, receipt.decode(), key=NODE.verify_key)
    assert verify_push(data, _b64url(NODE.sign(PUSH_CONTEXT + data).signature), key=NODE.verify_key)


@given(st.text(max_size=120))
def test_any_malformed_proof_is_refused_never_raised(proof: str) -> None:
    assert not verify_push(b"grievance-intake/envelope/v1\n", proof, key=NODE.verify_key)


def test_non_canonical_encodings_are_refused() -> None:
    data = envelope()
    proof = sign_push(data, key=NODE)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    # 64 bytes in 86 characters leave 4 unused bits in the last one: set one, same bytes decoded.
    odd = proof[:-1] + alphabet[alphabet.index(proof[-1]) | 1]
    assert not verify_push(data, odd, key=NODE.verify_key)
    assert not verify_push(data, proof + "==", key=NODE.verify_key), "padding"
    assert not verify_push(data, proof[:-1], key=NODE.verify_key), "cut short"
