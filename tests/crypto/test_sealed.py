"""Sealed items: round trips, bucketed lengths, and one opaque error for every failure to open."""

from __future__ import annotations

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey, SealedBox

from crypto import CannotOpen, open_item, seal_item
from crypto.sealed import BUCKET, OVERHEAD, VERSION

IDENTITY = PrivateKey.generate()
OTHER = PrivateKey.generate()
PUBLIC = IDENTITY.public_key

payloads = st.binary(min_size=0, max_size=3000)
FAST = settings(max_examples=50, deadline=None)


def _failure(blob: bytes, identity: PrivateKey = IDENTITY) -> CannotOpen:
    with pytest.raises(CannotOpen) as info:
        open_item(blob, identity)
    return info.value


def _assert_opaque(exc: CannotOpen) -> None:
    # Exactly one error type and one message, no chained libsodium detail to tell cases apart.
    assert type(exc) is CannotOpen
    assert exc.args == ("cannot open",)
    assert exc.__cause__ is None


@FAST
@given(payloads)
def test_round_trip(payload: bytes) -> None:
    assert open_item(seal_item(payload, to=PUBLIC), IDENTITY) == payload


@FAST
@given(payloads)
def test_length_leaks_only_the_bucket(payload: bytes) -> None:
    blob = seal_item(payload, to=PUBLIC)
    k = len(payload) // BUCKET + 1  # ISO 7816-4 padding always adds at least one byte
    assert len(blob) == 1 + nacl.bindings.crypto_box_SEALBYTES + BUCKET * k
    assert len(blob) == OVERHEAD + BUCKET * k
    assert blob[:1] == VERSION


@FAST
@given(st.integers(min_value=0, max_value=BUCKET - 1), st.integers(min_value=0, max_value=BUCKET - 1))
def test_same_bucket_same_length(a: int, b: int) -> None:
    assert len(seal_item(b"a" * a, to=PUBLIC)) == len(seal_item(b"b" * b, to=PUBLIC))


def test_bucket_boundary() -> None:
    assert len(seal_item(b"x" * (BUCKET - 1), to=PUBLIC)) == OVERHEAD + BUCKET
    assert len(seal_item(b"x" * BUCKET, to=PUBLIC)) == OVERHEAD + 2 * BUCKET


def test_sealing_is_randomised() -> None:
    assert seal_item(b"same words", to=PUBLIC) != seal_item(b"same words", to=PUBLIC)


def test_plaintext_not_visible_in_blob() -> None:
    payload = b"distinctive-complaint-words " * 4
    assert b"distinctive" not in seal_item(payload, to=PUBLIC)


@pytest.mark.parametrize("payload", [bytearray(b"abc"), memoryview(b"abc")])
def test_bytes_like_payloads(payload: bytes) -> None:
    assert open_item(seal_item(payload, to=PUBLIC), IDENTITY) == b"abc"


@pytest.mark.parametrize("payload", ["text", 123, None])
def test_non_bytes_payload_refused(payload: object) -> None:
    with pytest.raises(TypeError):
        seal_item(payload, to=PUBLIC)  # type: ignore[arg-type]


@FAST
@given(payloads, st.data())
def test_tampering_any_byte_cannot_open(payload: bytes, data: st.DataObject) -> None:
    blob = bytearray(seal_item(payload, to=PUBLIC))
    index = data.draw(st.integers(min_value=0, max_value=len(blob) - 1), label="index")
    flip = data.draw(st.integers(min_value=1, max_value=255), label="xor")
    blob[index] ^= flip
    _assert_opaque(_failure(bytes(blob)))


@FAST
@given(payloads, st.data())
def test_truncation_cannot_open(payload: bytes, data: st.DataObject) -> None:
    blob = seal_item(payload, to=PUBLIC)
    cut = data.draw(st.integers(min_value=0, max_value=len(blob) - 1), label="keep")
    _assert_opaque(_failure(blob[:cut]))


@FAST
@given(payloads, st.binary(min_size=1, max_size=300))
def test_appended_bytes_cannot_open(payload: bytes, extra: bytes) -> None:
    _assert_opaque(_failure(seal_item(payload, to=PUBLIC) + extra))


@FAST
@given(payloads)
def test_wrong_identity_cannot_open(payload: bytes) -> None:
    _assert_opaque(_failure(seal_item(payload, to=PUBLIC), OTHER))


@FAST
@given(payloads, st.integers(min_value=0, max_value=255).filter(lambda v: v != VERSION[0]))
def test_other_version_byte_cannot_open(payload: bytes, version: int) -> None:
    blob = seal_item(payload, to=PUBLIC)
    _assert_opaque(_failure(bytes([version]) + blob[1:]))


def test_validly_sealed_but_unpadded_cannot_open() -> None:
    # Authentic ciphertext whose plaintext has no 7816-4 padding: sodium_unpad fails.
    blob = VERSION + SealedBox(PUBLIC).encrypt(b"\x00" * BUCKET)
    _assert_opaque(_failure(blob))


def test_validly_sealed_but_shorter_than_a_bucket_cannot_open() -> None:
    blob = VERSION + SealedBox(PUBLIC).encrypt(nacl.bindings.sodium_pad(b"hi", 16))
    _assert_opaque(_failure(blob))


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + b"\x00" * 400, "not bytes"])
def test_garbage_cannot_open(blob: bytes) -> None:
    _assert_opaque(_failure(blob))


def test_every_failure_is_the_same_error() -> None:
    good = seal_item(b"a report", to=PUBLIC)
    tampered = bytearray(good)
    tampered[-1] ^= 1
    failures = [
        _failure(bytes(tampered)),
        _failure(good[:-10]),
        _failure(good, OTHER),
        _failure(b"\x02" + good[1:]),
        _failure(b""),
    ]
    assert {(type(e), e.args, str(e)) for e in failures} == {(CannotOpen, ("cannot open",), "cannot open")}
