"""Evidence files from a worker's phone: decide what a file is from its bytes, strip what it says
about the worker, refuse what could hurt whoever opens it.

A photo carries GPS, the phone's serial number, a thumbnail of the uncropped picture: a worker can
be found from it (docs/threat-model.md). So every image is decoded and re-encoded from its pixels
alone: nothing of the original file survives but what the pixels show, and a polyglot (a JPEG that
is also HTML or a zip) leaves only its picture. PDFs and office documents are kept byte for byte,
with ``warning="metadata"`` for the desk to show. Everything else is refused with a
:class:`BadFile` whose ``reason`` the channel words. The type is decided from the content only,
never from a filename or a declared type (a filename is never even seen here).

All in memory: nothing here touches the disk (the caller seals the result, intake/services.py).
"""

from __future__ import annotations

import io
import logging
import struct
import zipfile
from dataclasses import dataclass

from PIL import Image, ImageOps

from intake.errors import BadFile

# Pillow logs every EXIF tag it reads at DEBUG, values included (GPS position, serial number): with
# a node at DEBUG, a photo's metadata would reach the log that cleaning keeps it out of. Capped here,
# where every channel's files pass (web, API, MMS, WhatsApp, the desk).
logging.getLogger("PIL").setLevel(max(logging.INFO, logging.getLogger("PIL").level))

__all__ = ["MAX_PIXELS", "BadFile", "Evidence", "clean", "downscale", "extension", "sniff"]

#: Largest image accepted, in pixels (a 40 MP photo: 120 MB decoded, 3 copies at most at once).
MAX_PIXELS = 40_000_000
# A cleaned image may be at most twice its upload, or this much if that is more: a small PNG of
# palette noise re-encodes several times larger (a 5 MB upload must not become a 100 MB store row).
GROWTH_FLOOR = 20 * 1024 * 1024
JPEG_QUALITY = 88
#: More members than this in a zip is no office document a worker would send (and ZipFile would
#: spend memory on each): refused as an archive before it is read.
MAX_ZIP_MEMBERS = 5_000

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
ODP = "application/vnd.oasis.opendocument.presentation"

#: What a kept file can be (cleaned images are JPEG or PNG, whatever they came as), and its extension.
TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    DOCX: "docx",
    XLSX: "xlsx",
    PPTX: "pptx",
    ODT: "odt",
    ODS: "ods",
    ODP: "odp",
}
IMAGES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}

# (member that names the document, type); the OOXML part names are fixed by ECMA-376.
_OOXML = (("word/document.xml", DOCX), ("xl/workbook.xml", XLSX), ("ppt/presentation.xml", PPTX))
_ODF = {t.encode(): t for t in (ODT, ODS, ODP)}
# Macros (VBA in OOXML, Basic or scripts in ODF) run when the file is opened: refused as scripts.
_MACROS = ("vbaproject.bin", "activex/", "basic/", "scripts/")

_ARCHIVES = (b"Rar!\x1a\x07", b"7z\xbc\xaf\x27\x1c", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x28\xb5\x2f\xfd")
_EXECUTABLES = (
    b"\x7fELF",
    b"MZ",
    b"#!",
    b"\xca\xfe\xba\xbe",
    b"\xfe\xed\xfa\xce",
    b"\xfe\xed\xfa\xcf",
    b"\xce\xfa\xed\xfe",
    b"\xcf\xfa\xed\xfe",
    b"\x00asm",
)
_MARKUP = (b"<svg", b"<html", b"<script", b"<!doctype", b"<?xml", b"<iframe", b"<body", b"<head", b"javascript:")


@dataclass(frozen=True)
class Evidence:
    """A cleaned file, clear and in memory only. ``type`` is one of :data:`TYPES`; ``warning`` is
    ``"metadata"`` when the file was kept as it came (it may name its author, device or place);
    ``original`` holds the untouched bytes only when the node keeps originals (never relayed)."""

    type: str
    data: bytes
    warning: str | None = None
    original: bytes | None = None

    def __repr__(self) -> str:  # never the content, in a log or a traceback
        return f"Evidence(type={self.type!r}, bytes={len(self.data)}, warning={self.warning!r})"


def extension(type: str) -> str:
    """The file extension for a kept type (``"jpg"``, ``"pdf"``, ...): ValueError for any other."""
    try:
        return TYPES[type]
    except KeyError:
        raise ValueError(f"not a kept file type: {type!r}") from None


def sniff(data: bytes) -> str:
    """What the bytes are, from their magic numbers alone: a MIME type from :data:`TYPES` or
    :data:`IMAGES`, or raise :class:`BadFile`. Nothing is decoded or extracted."""
    if not data:
        raise BadFile("empty", "empty file")
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"%PDF-"):
        return "application/pdf"
    if data.startswith(b"PK\x03\x04"):
        return _zip_type(data)
    if data.startswith(b"PK\x05\x06") or data.startswith(_ARCHIVES) or data[257:262] == b"ustar":
        raise BadFile("archive", "archive")
    if data.startswith(_EXECUTABLES):
        raise BadFile("script", "executable")
    if data[4:8] == b"ftyp":
        raise BadFile("unsupported", "ISO media (HEIC, AVIF or a video)")
    head = data[:2048].replace(b"\x00", b"").lstrip(b"\xef\xbb\xbf\xff\xfe \t\r\n\f").lower()
    if head.startswith(b"<") or any(m in head for m in _MARKUP):
        raise BadFile("script", "markup (HTML, SVG or XML)")
    raise BadFile("unsupported", "unknown file type")


def _zip_type(data: bytes) -> str:
    """An office document is a zip known by the names of its members (read from the central
    directory: nothing is decompressed); any other zip is an archive."""
    eocd = data.rfind(b"PK\x05\x06", max(0, len(data) - 65_557))
    if eocd < 0 or len(data) < eocd + 22:
        raise BadFile("damaged", "zip without its central directory")
    members, directory = struct.unpack_from("<HI", data, eocd + 10)
    # also 0xFFFF, a zip64: no document a phone makes; a directory too big for its count lies about it
    if members > MAX_ZIP_MEMBERS or directory > MAX_ZIP_MEMBERS * 512:
        raise BadFile("archive", f"zip of {members} members")
    try:
        names = [n.lower() for n in zipfile.ZipFile(io.BytesIO(data)).namelist()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error):
        raise BadFile("damaged", "unreadable zip") from None
    kind = ""
    # ODF: a stored first member "mimetype" holding the type, at a fixed offset (ODF 1.2 part 3, 3.3)
    method, size, name_len, extra_len = struct.unpack_from("<H8xI4xHH", data[:30].ljust(30, b"\0"), 8)
    if method == 0 and name_len == 8 and data[30:38] == b"mimetype":
        start = 38 + extra_len
        kind = _ODF.get(data[start : start + size], "")
    if not kind and "[content_types].xml" in names:
        kind = next((t for part, t in _OOXML if part in names), "")
    if not kind:
        raise BadFile("archive", "zip archive")
    if any(m in n for n in names for m in _MACROS):
        raise BadFile("script", "office document with macros")
    return kind


def clean(
    data: bytes, *, keep_original: bool = False, max_pixels: int = MAX_PIXELS, growth_floor: int = GROWTH_FLOOR
) -> Evidence:
    """The file ready to be sealed: an image re-encoded from its pixels (JPEG, or PNG for PNG, GIF
    and any image with transparency; GIF and animations keep their first frame), a PDF or office
    document as it came with ``warning="metadata"``. Raise :class:`BadFile` for anything else,
    and ``too_big_image`` for an image whose cleaned copy is over max(2 x its size, ``growth_floor``)."""
    kind = sniff(data)
    original = data if keep_original else None
    if kind in IMAGES:
        image = _decode(data, IMAGES[kind], max_pixels)
        out_type, out = _encode(image, png=kind in ("image/png", "image/gif"))
        if len(out) > max(2 * len(data), growth_floor):
            raise BadFile("too_big_image", f"image re-encodes to {len(out)} bytes from {len(data)}")
        return Evidence(out_type, out, None, original)
    if kind == "application/pdf" and b"%%EOF" not in data[-1024:]:
        raise BadFile("damaged", "PDF without its end marker (truncated?)")
    # Kept byte for byte: no well-kept cleaner is a dependency here; the desk shows the warning.
    return Evidence(kind, data, "metadata", original)


def downscale(e: Evidence, max_side: int = 1600) -> Evidence:
    """The copy of an image that may leave for a partner: re-encoded again, metadata-free, its longest
    side at most ``max_side``. Never the original. Anything but an image: BadFile("unsupported")."""
    if e.type not in ("image/jpeg", "image/png"):
        raise BadFile("unsupported", "only images can be downscaled")
    image = _decode(e.data, IMAGES[e.type], MAX_PIXELS)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    out_type, out = _encode(image, png=e.type == "image/png")
    return Evidence(out_type, out, None, None)


# Every error a damaged or hostile image can make Pillow raise while opening or decoding it.
_DECODE_ERRORS = (OSError, SyntaxError, EOFError, ValueError, TypeError, IndexError, struct.error)


def _decode(data: bytes, fmt: str, max_pixels: int) -> Image.Image:
    """Open with the one decoder the magic bytes chose, check the size it declares BEFORE any
    pixel is decoded (a 50 KB PNG can declare 100,000 x 100,000 pixels), then decode fully."""
    # Pillow warns above its own limit and refuses above twice it; staying under it means its
    # warning can never fire (no global warnings filter needed, which threads would race on).
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    try:
        image = Image.open(io.BytesIO(data), formats=[fmt])
        width, height = image.size
        if width < 1 or height < 1:
            raise BadFile("damaged", "image without pixels")
        if width * height > limit:
            raise BadFile("too_big_image", f"image of {width}x{height} pixels, over {limit}")
        image.seek(0)  # the first frame of an animation
        image.load()  # a truncated file fails here (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
        ImageOps.exif_transpose(image, in_place=True)  # the picture as the phone showed it
    # the warning only when a filter makes it an error; MemoryError: too big for this machine now
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise BadFile("too_big_image", "image over Pillow's pixel limit") from None
    except _DECODE_ERRORS as exc:
        raise BadFile("damaged", f"image does not decode ({type(exc).__name__})") from None
    return image


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info


def _encode(image: Image.Image, *, png: bool) -> tuple[str, bytes]:
    """Fresh JPEG or PNG bytes from the pixels alone: no EXIF, GPS, XMP, ICC profile, comment,
    maker note or thumbnail (``info`` is emptied and nothing but quality options is passed)."""
    png = png or _has_alpha(image)
    if image.mode in ("I", "F") or image.mode.startswith("I;"):  # 16-bit grey: scale, never clip
        image = image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    if png:
        mode = "RGBA" if _has_alpha(image) else ("L" if image.mode in ("1", "L") else "RGB")
    else:
        mode = "L" if image.mode in ("1", "L") else "RGB"
    try:
        pixels = image.convert(mode) if image.mode != mode else image
        pixels.info = {}  # the source's metadata, which PNG's encoder would otherwise write back
        out = io.BytesIO()
        if png:
            pixels.save(out, "PNG", optimize=False)
        else:
            pixels.save(out, "JPEG", quality=JPEG_QUALITY)
    except MemoryError:
        raise BadFile("too_big_image", "image too big to re-encode here") from None
    except _DECODE_ERRORS as exc:
        raise BadFile("damaged", f"image does not re-encode ({type(exc).__name__})") from None
    return ("image/png" if png else "image/jpeg"), out.getvalue()
