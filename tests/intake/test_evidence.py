"""intake/evidence.py: type from content, metadata stripped, hostile files refused (issue 16)."""

from __future__ import annotations

import inspect
import io
import struct
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from intake import evidence
from intake.errors import BadFile, InvalidInput
from intake.evidence import Evidence, clean, downscale, extension
from tests.intake import hostile_files as h

ROOT = Path(__file__).resolve().parents[2]
PIXEL, EXIF = b"PIXELMARK7", b"EXIFMARK42"
# Segments a fresh JPEG from Pillow has: SOI, APP0 (JFIF), DQT, SOF0, DHT, SOS (then picture, EOI).
PLAIN_JPEG_SEGMENTS = {0xE0, 0xDB, 0xC0, 0xC4, 0xDA}
PLAIN_PNG_CHUNKS = {b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND"}


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's segments up to the start of its picture data."""
    assert data[:2] == b"\xff\xd8"
    pos, seen = 2, []
    while True:
        assert data[pos] == 0xFF
        marker = data[pos + 1]
        seen.append(marker)
        if marker == 0xDA:
            return seen
        pos += 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, seen = 8, []
    while pos < len(data):
        length = struct.unpack(">I", data[pos : pos + 4])[0]
        seen.append(data[pos + 4 : pos + 8])
        pos += 12 + length
    return seen


def assert_no_metadata(out: bytes, *markers: bytes) -> None:
    for marker in markers:
        assert marker not in out
    for trace in (b"Exif", b"http://ns.adobe.com/xap", b"ICC_PROFILE", b"8BIM", b"Photoshop", b"iCCP", b"eXIf"):
        assert trace not in out
    image = Image.open(io.BytesIO(out))
    assert not set(image.info) & {"exif", "xmp", "icc_profile", "comment", "photoshop", "dpi", "XML:com.adobe.xmp"}
    assert not image.getexif()
    assert not image.getexif().get_ifd(h.GPS_IFD)
    if out.startswith(b"\xff\xd8"):
        assert set(jpeg_segments(out)) <= PLAIN_JPEG_SEGMENTS
    else:
        assert set(png_chunks(out)) <= PLAIN_PNG_CHUNKS


# -- hostile files ------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", sorted(h.HOSTILE))
def test_hostile_file_is_refused_with_its_reason(name: str) -> None:
    make, reason = h.HOSTILE[name]
    with pytest.raises(BadFile) as caught:
        clean(make())
    assert caught.value.reason == reason
    assert isinstance(caught.value, InvalidInput) and caught.value.status == 400
    assert caught.value.fields == {"attachments": f"file_{reason}"}
    # the detail goes to logs: it names the problem, never quotes the file
    for quoted in (b"alert", b"script", b"rm -rf", b"MARKER", b"payload", b"paid", b"EXIF"):
        assert quoted.decode() not in caught.value.detail


def test_bad_file_reasons_are_a_closed_set() -> None:
    assert {reason for _, reason in h.HOSTILE.values()} == BadFile.REASONS
    with pytest.raises(ValueError):
        BadFile("nope")


# -- images: metadata gone, pictures kept ----------------------------------------------------------------
def test_phone_photo_loses_exif_gps_xmp_icc_comments_and_keeps_its_picture() -> None:
    data = h.jpeg_with_exif_gps(PIXEL, EXIF)
    # the file really carries all of it: EXIF (GPS, maker note), XMP, ICC, comment, IPTC
    assert data.count(EXIF) >= 8
    source = Image.open(io.BytesIO(data))
    assert source.getexif().get_ifd(h.GPS_IFD)[1] == "N"
    assert {"exif", "xmp", "icc_profile", "comment", "photoshop"} <= set(source.info)
    assert set(jpeg_segments(data)) - PLAIN_JPEG_SEGMENTS  # so the segment check below can fail

    e = clean(data)
    assert e.type == "image/jpeg" and e.warning is None and e.original is None
    assert_no_metadata(e.data, EXIF, b"MAKERNOTE", b"GPS", b"PhoneMaker", b"COMMENT", b"IPTC")
    assert Image.open(io.BytesIO(e.data)).size == source.size
    assert h.read_pixel_marker(e.data, len(PIXEL)) == PIXEL


def test_png_loses_text_exif_xmp_and_icc_chunks() -> None:
    data = h.png_with_metadata(EXIF)
    assert {b"tEXt", b"iTXt", b"zTXt", b"eXIf", b"iCCP"} <= set(png_chunks(data))
    e = clean(data)
    assert e.type == "image/png"
    assert_no_metadata(e.data, EXIF, b"Author", b"Description", b"Comment")
    assert Image.open(io.BytesIO(e.data)).getpixel((3, 3)) == (250, 10, 10)


def test_png_with_transparency_stays_png_with_its_alpha() -> None:
    e = clean(h.png_with_metadata(EXIF, "RGBA"))
    assert e.type == "image/png"
    assert_no_metadata(e.data, EXIF)
    assert Image.open(io.BytesIO(e.data)).getpixel((3, 3)) == (250, 10, 10, 128)
    palette = Image.open(io.BytesIO(clean(h.png_palette_transparent()).data))
    assert palette.mode == "RGBA" and palette.getpixel((0, 0)) == (255, 255, 255, 0)
    assert palette.getpixel((8, 8)) == (200, 0, 0, 255)


@pytest.mark.parametrize("alpha", [False, True])
def test_webp_is_reencoded_without_its_metadata(alpha: bool) -> None:
    data = h.webp_with_metadata(EXIF, alpha=alpha)
    assert EXIF in data and b"EXIF" in data and b"ICCP" in data
    e = clean(data)
    assert e.type == ("image/png" if alpha else "image/jpeg")
    assert_no_metadata(e.data, EXIF)


def test_orientation_is_applied_and_then_dropped() -> None:
    data = h.jpeg_rotated_exif((20, 10), 6)
    assert Image.open(io.BytesIO(data)).size == (20, 10)
    out = Image.open(io.BytesIO(clean(data).data))
    assert out.size == (10, 20)
    assert not out.getexif()  # no Orientation left to turn it a second time
    red, blue = out.getpixel((5, 3)), out.getpixel((5, 16))
    assert isinstance(red, tuple) and isinstance(blue, tuple)
    assert red[0] > 200 > red[2] and blue[2] > 200 > blue[0]  # the left (red) half is now on top


def test_gif_becomes_a_png_of_its_first_frame() -> None:
    data = h.gif_two_frames(b"GIFCOMMENT")
    assert getattr(Image.open(io.BytesIO(data)), "n_frames", 1) == 2 and b"GIFCOMMENT" in data
    e = clean(data)
    assert e.type == "image/png" and b"GIFCOMMENT" not in e.data
    out = Image.open(io.BytesIO(e.data))
    assert getattr(out, "n_frames", 1) == 1
    assert out.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_unusual_modes_become_plain_ones() -> None:
    cmyk = Image.open(io.BytesIO(clean(h.jpeg_cmyk()).data))
    assert cmyk.mode == "RGB"
    grey16 = Image.open(io.BytesIO(clean(h.png_16bit()).data))
    assert grey16.mode == "L" and grey16.getpixel((1, 1)) in range(150, 161)  # 40000 / 65535 scaled, not clipped
    grey = Image.open(io.BytesIO(clean(h.jpeg(mode="L")).data))
    assert grey.mode == "L"


def test_polyglot_keeps_only_its_picture() -> None:
    data = h.polyglot_jpeg_html()
    assert b"<script" in data and b"PK\x03\x04" in data
    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == ["POLYGLOT.html"]  # really also a zip
    e = clean(data)
    assert e.type == "image/jpeg"
    for trace in (b"<script", b"<html", b"POLYGLOT", b"PK\x03\x04", b"PK\x05\x06"):
        assert trace not in e.data
    assert_no_metadata(e.data)


# -- decompression bombs -------------------------------------------------------------------------------
def test_size_is_checked_before_any_pixel_is_decoded() -> None:
    # 8000 x 8000 declared, one row of data: decoding it would fail as damaged, so "too_big_image"
    # can only come from the declared size, checked first
    lying = h.png_bomb(8000, 8000)
    assert len(lying) < 200
    with pytest.raises(BadFile) as caught:
        clean(lying)
    assert caught.value.reason == "too_big_image"
    with pytest.raises(BadFile) as decoded:  # allowed that size, it gets decoded and found short
        clean(lying, max_pixels=8000 * 8000)
    assert decoded.value.reason == "damaged"


def test_max_pixels_is_the_limit() -> None:
    data = h.jpeg((100, 50))
    assert clean(data, max_pixels=5000).type == "image/jpeg"
    with pytest.raises(BadFile) as caught:
        clean(data, max_pixels=4999)
    assert caught.value.reason == "too_big_image"


def palette_noise_png(colours: int = 16, side: int = 256) -> bytes:
    """A PNG of random palette pixels: 4 bits a pixel here, 24 once re-encoded as RGB."""
    import random

    rnd = random.Random(16)  # synthetic pixels, not a secret
    image = Image.new("P", (side, side))
    image.putpalette([rnd.randrange(256) for _ in range(3 * colours)])
    image.putdata([rnd.randrange(colours) for _ in range(side * side)])
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()


def test_an_image_that_grows_past_twice_its_size_is_refused_above_the_floor() -> None:
    data = palette_noise_png()
    grown = clean(data)  # under the 20 MiB floor: kept, though several times larger
    assert len(grown.data) > 2 * len(data)
    with pytest.raises(BadFile) as caught:
        clean(data, growth_floor=0)
    assert caught.value.reason == "too_big_image"
    assert clean(data, growth_floor=len(grown.data)).data == grown.data, "the floor itself is allowed"
    photo = h.jpeg((400, 300))  # an ordinary photo re-encodes to about its size: never refused
    assert clean(photo, growth_floor=0).type == "image/jpeg"
    assert evidence.GROWTH_FLOOR == 20 * 1024 * 1024


_RSS_PROBE = """
import re, sys
sys.path.insert(0, sys.argv[1])
from intake.errors import BadFile
from intake.evidence import clean
from tests.intake.hostile_files import png_zlib_bomb

def peak_kib():  # VmHWM: this process's own peak (ru_maxrss would include the forking parent's)
    with open("/proc/self/status") as f:
        return int(re.search(r"VmHWM:\\s+(\\d+) kB", f.read()).group(1))

data = png_zlib_bomb(8000)
before = peak_kib()
try:
    clean(data, max_pixels=int(sys.argv[2]))
    outcome = "accepted"
except BadFile as exc:
    outcome = exc.reason
print(outcome, peak_kib() - before)
"""


def _peak_growth_kib(max_pixels: int) -> tuple[str, int]:
    done = subprocess.run(  # a fresh process, so that its peak memory is this file's alone
        [sys.executable, "-c", _RSS_PROBE, str(ROOT), str(max_pixels)], capture_output=True, text=True, check=True
    )
    outcome, growth = done.stdout.split()
    return outcome, int(growth)


def test_zlib_bomb_is_refused_without_allocating_its_pixels() -> None:
    outcome, growth = _peak_growth_kib(evidence.MAX_PIXELS)
    assert outcome == "too_big_image"
    assert growth < 8 * 1024, f"peak grew {growth} KiB"
    # the same file allowed: 64 MB of pixels decoded (proves the probe would see an allocation)
    outcome, growth = _peak_growth_kib(10**8)
    assert outcome == "accepted" and growth > 48 * 1024


# -- documents -----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "kind"),
    [
        (h.docx, evidence.DOCX),
        (h.xlsx, evidence.XLSX),
        (h.pptx, evidence.PPTX),
        (h.odf, evidence.ODT),
        (lambda: h.odf("spreadsheet"), evidence.ODS),
        (lambda: h.odf("presentation"), evidence.ODP),
        (h.pdf, "application/pdf"),
    ],
)
def test_documents_are_kept_byte_for_byte_with_a_warning(make: Callable[[], bytes], kind: str) -> None:
    data = make()
    e = clean(data)
    assert (e.type, e.data, e.warning) == (kind, data, "metadata")


def test_odf_template_type_is_not_taken_for_its_document_type() -> None:
    with pytest.raises(BadFile) as caught:
        clean(h.odf("text-template"))
    assert caught.value.reason == "archive"


def test_office_documents_with_macros_are_refused() -> None:
    with pytest.raises(BadFile) as caught:
        clean(h.docx(macros=True))
    assert caught.value.reason == "script"
    odf_basic = h.zip_archive({"Basic/Standard/Module1.xml": b"<m/>"}, stored_first=("mimetype", evidence.ODT.encode()))
    with pytest.raises(BadFile) as caught:
        clean(odf_basic)
    assert caught.value.reason == "script"


def test_zip_with_too_many_members_is_refused_before_it_is_read() -> None:
    members = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<d/>"}
    members.update({f"word/media/{i}.bin": b"" for i in range(evidence.MAX_ZIP_MEMBERS)})
    with pytest.raises(BadFile) as caught:
        clean(h.zip_archive(members))
    assert caught.value.reason == "archive"


def test_zip_whose_count_lies_is_refused_by_the_size_of_its_directory() -> None:
    members = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<d/>"}
    members.update({f"word/media/{i:05d}{'x' * 220}": b"" for i in range(12_000)})
    data = bytearray(h.zip_archive(members))
    eocd = data.rfind(b"PK\x05\x06")
    data[eocd + 8 : eocd + 12] = struct.pack("<HH", 2, 2)  # "2 members", over a 3 MB directory
    with pytest.raises(BadFile) as caught:
        clean(bytes(data))
    assert caught.value.reason == "archive"


def test_pdf_must_end_with_its_end_marker() -> None:
    good = h.pdf()
    assert clean(good + b"\n" * 500).type == "application/pdf"
    with pytest.raises(BadFile) as caught:  # anything after the last 1 KiB: not a PDF that ended
        clean(good + b" " * 2000)
    assert caught.value.reason == "damaged"
    with pytest.raises(BadFile) as caught:
        clean(b"  " + good)  # must start with %PDF-
    assert caught.value.reason == "unsupported"


# -- content decides -----------------------------------------------------------------------------------
def test_the_type_comes_from_the_content_only() -> None:
    # no filename or declared type can even be passed
    assert list(inspect.signature(clean).parameters) == ["data", "keep_original", "max_pixels", "growth_floor"]
    assert clean(h.png_with_metadata(EXIF)).type == "image/png"
    assert clean(h.jpeg()).type == "image/jpeg"
    for disguised in (h.html(), h.svg(), h.pe()):  # whatever name or type they arrived with
        with pytest.raises(BadFile):
            clean(disguised)


def test_keep_original_holds_the_untouched_bytes() -> None:
    data = h.jpeg_with_exif_gps(PIXEL, EXIF)
    kept = clean(data, keep_original=True)
    assert kept.original == data and EXIF not in kept.data
    assert clean(data).original is None
    doc = h.docx()
    assert clean(doc, keep_original=True).original == doc


def test_repr_never_shows_the_content() -> None:
    e = clean(h.docx(b"SECRETAUTHOR"), keep_original=True)
    assert "SECRETAUTHOR" not in repr(e) and "SECRETAUTHOR" not in str(e)


# -- downscale and extension ---------------------------------------------------------------------------
def test_downscale_bounds_the_longest_side_and_strips_again() -> None:
    big = clean(h.jpeg((3000, 1000)))
    small = downscale(big)
    assert small.type == "image/jpeg" and small.original is None
    assert Image.open(io.BytesIO(small.data)).size == (1600, 533)
    assert_no_metadata(small.data)
    assert Image.open(io.BytesIO(downscale(big, max_side=200).data)).size == (200, 67)
    tiny = clean(h.png_with_metadata(EXIF, "RGBA"))
    same = downscale(tiny)
    assert same.type == "image/png" and Image.open(io.BytesIO(same.data)).size == (48, 32)  # never enlarged


def test_downscale_even_of_an_uncleaned_evidence_drops_metadata() -> None:
    raw = Evidence("image/jpeg", h.jpeg_with_exif_gps(PIXEL, EXIF))
    assert_no_metadata(downscale(raw).data, EXIF)


def test_only_images_can_be_downscaled() -> None:
    with pytest.raises(BadFile) as caught:
        downscale(clean(h.pdf()))
    assert caught.value.reason == "unsupported"


def test_extension() -> None:
    assert [extension(t) for t in ("image/jpeg", "image/png", "application/pdf", evidence.DOCX, evidence.ODS)] == [
        "jpg",
        "png",
        "pdf",
        "docx",
        "ods",
    ]
    with pytest.raises(ValueError):
        extension("text/html")
    assert set(evidence.TYPES) >= {clean(make()).type for make in (h.jpeg, h.gif_two_frames, h.pdf, h.docx)}
