"""Field encryption (worker contacts): round trip bound to a context, one error for every failure."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crypto import CannotOpen
from crypto.fields import KEY_BYTES, decrypt_field, encrypt_field, new_key

FAST = settings(max_examples=50, deadline=None)
KEY = new_key()


def _cannot_open(key: bytes, blob: bytes, context: bytes) -> None:
    with pytest.raises(CannotOpen) as info:
        decrypt_field(key, blob, context=context)
    assert type(info.value) is CannotOpen
    assert info.value.args == ("cannot open",)


def test_new_key_is_random_and_sized() -> None:
    assert len(new_key()) == KEY_BYTES == 32
    assert new_key() != new_key()


@FAST
@given(st.binary(max_size=2000), st.binary(max_size=64))
def test_round_trip(plaintext: bytes, context: bytes) -> None:
    blob = encrypt_field(KEY, plaintext, context=context)
    assert decrypt_field(KEY, blob, context=context) == plaintext
    assert len(blob) == 1 + 24 + len(plaintext) + 16


@FAST
@given(st.binary(max_size=500), st.binary(max_size=32), st.binary(min_size=1, max_size=32))
def test_wrong_context_cannot_open(plaintext: bytes, context: bytes, suffix: bytes) -> None:
    blob = encrypt_field(KEY, plaintext, context=context)
    _cannot_open(KEY, blob, context + suffix)


@FAST
@given(st.binary(max_size=500), st.binary(max_size=32))
def test_wrong_key_cannot_open(plaintext: bytes, context: bytes) -> None:
    blob = encrypt_field(KEY, plaintext, context=context)
    _cannot_open(new_key(), blob, context)


@FAST
@given(st.binary(max_size=500), st.data())
def test_tampering_any_byte_cannot_open(plaintext: bytes, data: st.DataObject) -> None:
    blob = bytearray(encrypt_field(KEY, plaintext, context=b"case-1"))
    index = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    blob[index] ^= data.draw(st.integers(min_value=1, max_value=255))
    _cannot_open(KEY, bytes(blob), b"case-1")


@FAST
@given(st.binary(max_size=500), st.data())
def test_truncation_cannot_open(plaintext: bytes, data: st.DataObject) -> None:
    blob = encrypt_field(KEY, plaintext, context=b"case-1")
    cut = data.draw(st.integers(min_value=0, max_value=len(blob) - 1))
    _cannot_open(KEY, blob[:cut], b"case-1")


def test_nonces_are_random() -> None:
    assert encrypt_field(KEY, b"+15550001111", context=b"c") != encrypt_field(KEY, b"+15550001111", context=b"c")


def test_plaintext_not_visible() -> None:
    assert b"5550001111" not in encrypt_field(KEY, b"+15550001111", context=b"c")


@pytest.mark.parametrize("bad_key", [b"", b"short", b"k" * 31])
def test_malformed_key_is_the_same_error(bad_key: bytes) -> None:
    blob = encrypt_field(KEY, b"secret", context=b"c")
    _cannot_open(bad_key, blob, b"c")
