"""Text tools shared by redaction's detectors: character classes, and normalising a text (NFKC, or
folded case and diacritics) with a map from every normalised character back to the original span."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from functools import lru_cache

# --- character classes -----------------------------------------------------------------------------

_LAT = "A-Za-z\u00c0-\u024f\u1e00-\u1eff"
_CYR = "\u0400-\u04ff"
_B = f"(?<![{_LAT}{_CYR}])"  # a Latin/Cyrillic word starts here
_E = f"(?![{_LAT}{_CYR}])"  # ... and ends here
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ffff"
# Scripts written without spaces between words: a name there is matched anywhere.
_UNSPACED = _HAN + "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff"
_CNNUM = "[零〇一二两三四五六七八九十百]+"


def _words(text: str) -> frozenset[str]:
    """A set of words written as one string."""
    return frozenset(text.split())


def _lead(src: str) -> str:
    """A look-ahead at the characters ``src`` can start with (a superset), which ``re`` tests fast.

    Far faster than letting ``re`` try a long alternation at every position of a text. An
    alternative opening with an optional group ("(?:a)?b") cannot be read this simply: no look-ahead.
    """
    if re.search(r"(?:^|[|(])\((?:\?i?:)?[^()]*\)[?*]", src):
        return ""
    first: set[str] = set()
    for piece in src.split("|"):
        while piece.startswith(("(?:", "(?i:", "(")):
            piece = piece[4 if piece.startswith("(?i:") else 3 if piece.startswith("(?:") else 1 :]
        if piece.startswith("["):
            first.update(piece[1 : piece.index("]")])
        elif not piece or piece[0] in "\\.?*+{)":
            return ""  # cannot tell: no look-ahead
        else:
            first.update((piece[0].lower(), piece[0].upper()))
    return f"(?=[{re.escape(''.join(sorted(first)))}])"


def _kw(words: str) -> str:
    """``(?i:words)`` behind a look-ahead at its first letters."""
    return f"{_lead(words)}(?i:{words})"


# --- normalisation with a map back to the original ----------------------------------------------


class _Mapped:
    """A normalised text and, per character, the span of the original it came from."""

    __slots__ = ("ends", "starts", "text")

    def __init__(self, text: str, starts: list[int] | None = None, ends: list[int] | None = None) -> None:
        self.text = text
        self.starts = starts
        self.ends = ends

    def span(self, a: int, b: int) -> tuple[int, int]:
        if self.starts is None or self.ends is None:
            return a, b
        return self.starts[a], self.ends[b - 1]


def _clusters(text: str) -> Iterator[tuple[int, int]]:
    """A base character and its combining marks, as spans."""
    i, n = 0, len(text)
    while i < n:
        j = i + 1
        while j < n and unicodedata.combining(text[j]):
            j += 1
        yield i, j
        i = j


def _mapped(text: str, convert: Callable[[str], str], ascii_: Callable[[str], str] = str) -> _Mapped:
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, j in _clusters(text):
        chunk = text[i:j]
        piece = ascii_(chunk) if chunk.isascii() else convert(chunk)
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
    return _Mapped("".join(out), starts, ends)


@lru_cache(maxsize=8192)
def _nfkc(chunk: str) -> str:
    piece = unicodedata.normalize("NFKC", chunk)
    if any(c.isdecimal() and not c.isascii() for c in piece):
        piece = "".join(str(unicodedata.decimal(c)) if c.isdecimal() and not c.isascii() else c for c in piece)
    return piece


_FOLD_EXTRA = str.maketrans({"đ": "d", "ł": "l", "ø": "o", "ı": "i", "ħ": "h"})


@lru_cache(maxsize=8192)
def _fold(chunk: str) -> str:
    """Case, width and (for Latin, Greek and Cyrillic) diacritics fold away."""
    if chunk[0] < "\u0530" or "\u1e00" <= chunk[0] <= "\u1eff":
        base = "".join(c for c in unicodedata.normalize("NFKD", chunk) if not unicodedata.combining(c))
        return unicodedata.normalize("NFKC", base).casefold().translate(_FOLD_EXTRA)
    return _nfkc(chunk).casefold()


def _normalize(text: str) -> _Mapped:
    if text.isascii():
        return _Mapped(text)
    return _mapped(text, _nfkc)


def _folded(text: str) -> _Mapped:
    if text.isascii():
        return _Mapped(text.lower())
    return _mapped(text, _fold, str.lower)
