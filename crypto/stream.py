"""Sealed streams: a file sealed to a public key in 64 KiB chunks, so no step holds it twice.

A worker's photo or pay slip is sealed while it is handled, chunk by chunk, to the node's X25519
public key: the always-on intake stores it and cannot open it (docs/threat-model.md#seizure).

Layout (docs/files.md, "Sealed streams"):

- header: ``0x02 || SealedBox(to, key) || secretstream_header`` (1 + 80 + 24 bytes). ``key`` is a
  fresh XChaCha20-Poly1305 secretstream key (libsodium ``crypto_secretstream``), made per stream.
- chunks: ``secretstream_push(plain, ad=label)``, each plain chunk exactly :data:`CHUNK` bytes
  except the last, which is padded (ISO/IEC 7816-4, ``sodium_pad``) to :data:`BUCKET` and tagged
  FINAL. The label (for example ``b"<item id>/<n>"``) is the associated data of every chunk, so a
  stream cannot be moved to another item or position; secretstream itself refuses reordered,
  dropped or repeated chunks, and a stream without its FINAL chunk (cut short) does not open.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import nacl.bindings as b
import nacl.exceptions
from nacl.public import PrivateKey, PublicKey, SealedBox

from crypto.errors import CannotOpen

VERSION = b"\x02"
CHUNK = 64 * 1024
BUCKET = 4096
ABYTES = b.crypto_secretstream_xchacha20poly1305_ABYTES
HEADER_BYTES = 1 + b.crypto_box_SEALBYTES + b.crypto_secretstream_xchacha20poly1305_KEYBYTES
HEADER_BYTES += b.crypto_secretstream_xchacha20poly1305_HEADERBYTES
_TAG_MESSAGE = b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
_TAG_FINAL = b.crypto_secretstream_xchacha20poly1305_TAG_FINAL


class StreamSealer:
    """Seal a stream piece by piece: ``push`` whatever arrives, then ``finish`` once.

    Holds at most one chunk of clear bytes; returns sealed chunks as soon as they are whole.
    """

    def __init__(self, to: PublicKey, *, label: bytes) -> None:
        key = b.crypto_secretstream_xchacha20poly1305_keygen()
        self._state = b.crypto_secretstream_xchacha20poly1305_state()
        stream_header = b.crypto_secretstream_xchacha20poly1305_init_push(self._state, key)
        self.header = VERSION + SealedBox(to).encrypt(key) + stream_header
        del key
        self._label = bytes(label)
        self._buf = bytearray()
        self._done = False
        self.size = 0  # clear bytes pushed so far

    def push(self, data: bytes | bytearray | memoryview) -> list[bytes]:
        if self._done:
            raise ValueError("stream already finished")
        view = memoryview(data).cast("B")
        self.size += len(view)
        out = []
        while view:
            # a full chunk leaves only once more bytes follow it: the last chunk must be the FINAL one,
            # even on an exact multiple. At most one chunk is held; the input is never copied whole.
            if len(self._buf) == CHUNK:
                out.append(self._seal(bytes(self._buf), _TAG_MESSAGE))
                self._buf.clear()
            take = CHUNK - len(self._buf)
            self._buf += view[:take]
            view = view[take:]
        return out

    def finish(self) -> list[bytes]:
        if self._done:
            raise ValueError("stream already finished")
        self._done = True
        last = b.sodium_pad(bytes(self._buf), BUCKET)
        self._buf = bytearray()
        return [self._seal(last, _TAG_FINAL)]

    def _seal(self, plain: bytes, tag: int) -> bytes:
        return b.crypto_secretstream_xchacha20poly1305_push(self._state, plain, self._label, tag)


def seal_stream(data: bytes | Iterable[bytes], to: PublicKey, *, label: bytes) -> list[bytes]:
    """Seal ``data`` (bytes, or an iterable of pieces) into ``[header, chunk1, ..., chunkN]``."""
    sealer = StreamSealer(to, label=label)
    out = [sealer.header]
    pieces = [data] if isinstance(data, bytes | bytearray | memoryview) else data
    for piece in pieces:
        if piece:
            out += sealer.push(piece)
    return out + sealer.finish()


def open_stream(chunks: Iterable[bytes], identity: PrivateKey, *, label: bytes) -> Iterator[bytes]:
    """Yield the clear pieces of a sealed stream ``[header, chunk1, ...]``, checking as it goes.

    Any fault (not a stream, wrong key or label, a chunk changed, moved, dropped or added, no FINAL
    chunk) raises :class:`CannotOpen`; pieces already yielded must then be thrown away.
    """
    it = iter(chunks)
    header = next(it, b"")
    if len(header) != HEADER_BYTES or header[:1] != VERSION:
        raise CannotOpen("cannot open")
    try:
        key = SealedBox(identity).decrypt(bytes(header[1 : 1 + b.crypto_box_SEALBYTES + 32]))
        state = b.crypto_secretstream_xchacha20poly1305_state()
        b.crypto_secretstream_xchacha20poly1305_init_pull(state, bytes(header[-24:]), key)
    except (nacl.exceptions.CryptoError, ValueError, TypeError):
        raise CannotOpen("cannot open") from None
    del key
    final = False
    for chunk in it:
        if final or len(chunk) < ABYTES or len(chunk) > CHUNK + BUCKET + ABYTES:
            raise CannotOpen("cannot open")
        try:
            plain, tag = b.crypto_secretstream_xchacha20poly1305_pull(state, bytes(chunk), bytes(label))
        except (nacl.exceptions.CryptoError, ValueError, TypeError):
            raise CannotOpen("cannot open") from None
        if tag == _TAG_FINAL:
            final = True
            try:
                plain = b.sodium_unpad(plain, BUCKET)
            except (nacl.exceptions.CryptoError, ValueError):
                raise CannotOpen("cannot open") from None
        elif tag != _TAG_MESSAGE or len(plain) != CHUNK:
            raise CannotOpen("cannot open")
        if plain:
            yield plain
    if not final:
        raise CannotOpen("cannot open")


def open_stream_bytes(chunks: Iterable[bytes], identity: PrivateKey, *, label: bytes) -> bytes:
    return b"".join(open_stream(chunks, identity, label=label))
