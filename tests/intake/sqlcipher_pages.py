"""Every page of a SQLCipher store, decrypted, for tests that look for words left on disk.

A plain byte scan of an encrypted store finds nothing whatever it holds; these pages show what an
attacker with the store's key reads, including free pages and the unused parts of pages (what
``secure_delete`` overwrites). SQLCipher 4's defaults: 4096-byte pages, AES-256-CBC, each page
ending in its IV (16 bytes) and HMAC (64); page 1 starts with the 16-byte salt. A raw key
(``x'..'``) is the AES key itself. AES through the system's libcrypto (ctypes): no new dependency.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Iterator
from pathlib import Path

PAGE = 4096
RESERVE = 80  # IV + HMAC-SHA512

_lib = ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3")
_lib.EVP_CIPHER_CTX_new.restype = ctypes.c_void_p
_lib.EVP_aes_256_cbc.restype = ctypes.c_void_p
_lib.EVP_DecryptInit_ex.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
_lib.EVP_CIPHER_CTX_set_padding.argtypes = [ctypes.c_void_p, ctypes.c_int]
_lib.EVP_DecryptUpdate.argtypes = [
    ctypes.c_void_p,
    ctypes.c_char_p,
    ctypes.POINTER(ctypes.c_int),
    ctypes.c_char_p,
    ctypes.c_int,
]
_lib.EVP_CIPHER_CTX_free.argtypes = [ctypes.c_void_p]


def _decrypt(key: bytes, iv: bytes, data: bytes) -> bytes:
    ctx = _lib.EVP_CIPHER_CTX_new()
    try:
        assert _lib.EVP_DecryptInit_ex(ctx, _lib.EVP_aes_256_cbc(), None, key, iv) == 1
        _lib.EVP_CIPHER_CTX_set_padding(ctx, 0)
        out = ctypes.create_string_buffer(len(data) + 32)
        n = ctypes.c_int(0)
        assert _lib.EVP_DecryptUpdate(ctx, out, ctypes.byref(n), data, len(data)) == 1
        return out.raw[: n.value]
    finally:
        _lib.EVP_CIPHER_CTX_free(ctx)


def pages(path: Path, key: bytes) -> Iterator[bytes]:
    """The decrypted content of each page of the store file at ``path`` (not its -wal)."""
    raw = Path(path).read_bytes()
    for at in range(0, len(raw) - PAGE + 1, PAGE):
        page = raw[at : at + PAGE]
        start = 16 if at == 0 else 0
        yield _decrypt(key, page[PAGE - RESERVE : PAGE - RESERVE + 16], page[start : PAGE - RESERVE])


def holds(path: Path, key: bytes, marker: bytes) -> bool:
    """Whether ``marker`` is anywhere in the store's decrypted pages, or in its -wal file as it is."""
    wal = Path(f"{path}-wal")
    return any(marker in page for page in pages(path, key)) or (wal.exists() and marker in wal.read_bytes())
