"""Sealed streams (crypto/stream.py): round trip, and every way a stream can be tampered with."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey

from crypto import CannotOpen
from crypto.stream import BUCKET, CHUNK, HEADER_BYTES, StreamSealer, open_stream, open_stream_bytes, seal_stream

KEY = PrivateKey(bytes(range(32)))
LABEL = b"item/1"


def _data(n: int) -> bytes:
    return bytes((i * 7 + 3) % 251 for i in range(n))


@pytest.mark.parametrize("n", [0, 1, BUCKET - 1, BUCKET, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK + 17])
def test_round_trip_at_every_boundary(n: int) -> None:
    data = _data(n)
    sealed = seal_stream(data, KEY.public_key, label=LABEL)
    assert len(sealed[0]) == HEADER_BYTES
    assert open_stream_bytes(sealed, KEY, label=LABEL) == data
    # the stored size says the length only to the bucket
    assert (
        sum(map(len, sealed[1:])) - 17 * (len(sealed) - 1) == (n // CHUNK) * CHUNK + (n % CHUNK // BUCKET + 1) * BUCKET
    )


@settings(max_examples=30, deadline=None)
@given(pieces=st.lists(st.binary(max_size=3 * CHUNK // 2), max_size=5))
def test_pieces_of_any_size_seal_like_the_whole(pieces: list[bytes]) -> None:
    sealer = StreamSealer(KEY.public_key, label=LABEL)
    chunks = [sealer.header]
    for piece in pieces:
        out = sealer.push(piece)
        assert all(len(c) == CHUNK + 17 for c in out)  # only whole chunks leave before the end
        chunks += out
    chunks += sealer.finish()
    assert open_stream_bytes(chunks, KEY, label=LABEL) == b"".join(pieces)


def test_no_clear_byte_in_the_sealed_chunks() -> None:
    marker = b"PAYSLIP-MARKER-0123456789"
    sealed = seal_stream(marker * 5000, KEY.public_key, label=LABEL)
    assert all(marker[:12] not in c for c in sealed)


def _sealed() -> list[bytes]:
    return seal_stream(_data(3 * CHUNK + 5), KEY.public_key, label=LABEL)


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda s: s[:-1], id="cut-short"),
        pytest.param(lambda s: [s[0], s[2], s[1], *s[3:]], id="reordered"),
        pytest.param(lambda s: [s[0], *s[2:]], id="chunk-dropped"),
        pytest.param(lambda s: [*s[:2], s[1], *s[2:]], id="chunk-repeated"),
        pytest.param(lambda s: [*s, s[-1]], id="extended"),
        pytest.param(lambda s: [s[0][:-1], *s[1:]], id="header-short"),
        pytest.param(lambda s: [b"\x01" + s[0][1:], *s[1:]], id="wrong-version"),
        pytest.param(lambda s: [s[0], s[1][:-1] + bytes([s[1][-1] ^ 1]), *s[2:]], id="bit-flipped"),
        pytest.param(lambda s: [], id="empty"),
        pytest.param(lambda s: [s[0]], id="header-only"),
    ],
)
def test_tampered_streams_do_not_open(tamper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(CannotOpen):
        open_stream_bytes(tamper(_sealed()), KEY, label=LABEL)


def test_wrong_key_or_label_or_a_chunk_from_another_stream() -> None:
    sealed = _sealed()
    with pytest.raises(CannotOpen):
        open_stream_bytes(sealed, PrivateKey.generate(), label=LABEL)
    with pytest.raises(CannotOpen):
        open_stream_bytes(sealed, KEY, label=b"item/2")
    other = _sealed()
    with pytest.raises(CannotOpen):
        open_stream_bytes([sealed[0], other[1], *sealed[2:]], KEY, label=LABEL)


def test_pieces_come_out_before_the_end_and_a_late_fault_still_raises() -> None:
    sealed = _sealed()
    it = open_stream(sealed[:-1], KEY, label=LABEL)
    assert len(next(it)) == CHUNK
    with pytest.raises(CannotOpen):
        list(it)


def test_a_finished_sealer_refuses_more() -> None:
    sealer = StreamSealer(KEY.public_key, label=LABEL)
    sealer.finish()
    with pytest.raises(ValueError):
        sealer.push(b"x")
    with pytest.raises(ValueError):
        sealer.finish()
