"""SMS segment counting: GSM 03.38 (7-bit) vs UCS-2, as carriers bill and split messages.

- GSM-7: 160 characters in one segment, 153 per segment when concatenated; characters of the
  extension table (``^{}\\[~]|€`` and form feed) take an escape and count twice.
- UCS-2 (any character outside GSM-7): 70 in one segment, 67 per segment when concatenated;
  characters outside the BMP (most emoji) are surrogate pairs and count as two units.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENDED = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets or UTF-16 code units
    segments: int


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENDED for ch in text)


def count_segments(text: str) -> SegmentInfo:
    if is_gsm7(text):
        units = sum(2 if ch in GSM7_EXTENDED else 1 for ch in text)
        single, multi, encoding = 160, 153, "GSM-7"
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in text)
        single, multi, encoding = 70, 67, "UCS-2"
    if units == 0:
        return SegmentInfo(encoding, 0, 0)
    segments = 1 if units <= single else -(-units // multi)
    return SegmentInfo(encoding, units, segments)
