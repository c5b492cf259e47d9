"""The in-process parts of bench/bench_files.py (issue 16, item 8): the synthetic files, the timing
helpers, sealing against libsodium's one-shot boxes, cleaning against Pillow alone, and storing a
sealed file with the inbox's table (rowid) against the same table WITHOUT ROWID. See bench/bench_files.py.
"""

from __future__ import annotations

import io
import os
import random
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

MIB = 2**20


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# ---------------------------------------------------------------------------------------------
# Synthetic files
# ---------------------------------------------------------------------------------------------
def photo(width: int, height: int, sigma: float, seed: int) -> Image.Image:
    """A photo-like RGB image: gradients, coloured shapes and per-channel noise (sensor grain)."""
    rnd = random.Random(seed)
    size = (width, height)
    base = Image.merge(
        "RGB",
        (
            Image.linear_gradient("L").rotate(90).resize(size),
            Image.linear_gradient("L").resize(size),
            Image.radial_gradient("L").resize(size),
        ),
    )
    draw = ImageDraw.Draw(base)
    for _ in range(40):
        x, y, s = rnd.randrange(width), rnd.randrange(height), rnd.randrange(width // 20, width // 4)
        draw.ellipse((x, y, x + s, y + s * 2 // 3), fill=(rnd.randrange(256), rnd.randrange(256), rnd.randrange(256)))
    noise = Image.merge("RGB", [Image.effect_noise(size, sigma) for _ in range(3)])
    return ImageChops.add(base, noise, 1.0, -128)


def exif_with_gps(orientation: int = 1) -> bytes:
    """EXIF as a phone writes it: make, model, time, orientation and a GPS position (synthetic)."""
    exif = Image.Exif()
    exif[0x010F] = "BenchPhone"  # Make
    exif[0x0110] = "BP-12 Pro"  # Model
    exif[0x0112] = orientation
    exif[0x0132] = "2026:12:01 10:00:00"  # DateTime
    exif.get_ifd(0x8825).update({1: "N", 2: (22.0, 32.0, 31.5), 3: "E", 4: (113.0, 56.0, 4.2)})
    return exif.tobytes()


def jpeg_near(image: Image.Image, target: int, exif: bytes) -> tuple[bytes, int]:
    """The image as a JPEG at the highest quality (60-97) whose file is at most ``target`` bytes."""
    best: tuple[bytes, int] | None = None
    low, high = 60, 97
    while low <= high:
        quality = (low + high) // 2
        out = io.BytesIO()
        image.save(out, "JPEG", quality=quality, exif=exif)
        if out.tell() <= target:
            best, low = (out.getvalue(), quality), quality + 1
        else:
            high = quality - 1
    if best is None:
        raise RuntimeError("no quality gives a JPEG that small")
    return best


def pdf_of(size: int, seed: int) -> bytes:
    """A PDF of exactly ``size`` bytes: one image-like stream of random bytes (as a scan's
    compressed image is), its xref and trailer, ``%%EOF`` at the end (intake.evidence checks it)."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n2 0 obj\n<< /Length "
    tail = b"\nendstream\nendobj\nxref\n0 3\ntrailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n0\n%%EOF\n"
    length = size - len(head) - len(tail) - len(b" >>\nstream\n") - 10
    body = random.Random(seed).randbytes(length)
    out = head + f"{length:<10d}".encode() + b" >>\nstream\n" + body + tail
    assert len(out) == size, len(out)
    return out


# ---------------------------------------------------------------------------------------------
# Timing
# ---------------------------------------------------------------------------------------------
def interleaved(
    contenders: dict[str, Callable[[], object]], tries: int, clock: Callable[[], float] = time.perf_counter
) -> dict[str, list[float]]:
    """Seconds of each contender by ``clock`` (wall by default; ``time.process_time`` for CPU, which
    other load on the machine hardly changes), ``tries`` times; each try runs all of them, in an
    order that rotates, so a burst of load on the machine falls on all of them alike."""
    names = list(contenders)
    out: dict[str, list[float]] = {n: [] for n in names}
    for t in range(tries):
        for name in names[t % len(names) :] + names[: t % len(names)]:
            start = clock()
            contenders[name]()
            out[name].append(clock() - start)
    return out


def median(xs: list[float]) -> float:
    return statistics.median(xs)


def p95(xs: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    s = sorted(xs)
    return s[max(0, -(-len(s) * 95 // 100) - 1)]


def mibs(nbytes: int, seconds: float) -> float:
    return nbytes / MIB / seconds if seconds > 0 else float("inf")


def table(header: list[str], rows: list[list[str]]) -> None:
    """A Markdown table (pasted into bench/README.md as it is)."""
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join(" --- " if i == 0 else " ---: " for i in range(len(header))) + "|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


# ---------------------------------------------------------------------------------------------
# 1. Sealing, in-process
# ---------------------------------------------------------------------------------------------
def bench_seal(files: list[tuple[str, bytes]], tries: dict[int, int]) -> list[str]:
    """seal_stream / open_stream_bytes against libsodium's one-shot boxes over the same bytes."""
    from nacl.public import PrivateKey, SealedBox
    from nacl.secret import SecretBox
    from nacl.utils import random as nacl_random

    from crypto.stream import open_stream_bytes, seal_stream

    problems: list[str] = []
    identity = PrivateKey.generate()
    to = identity.public_key
    box = SecretBox(nacl_random(SecretBox.KEY_SIZE))
    label = b"bench-item/1"
    rows = []
    for name, data in files:
        sealed = seal_stream(data, to, label=label)
        if open_stream_bytes(sealed, identity, label=label) != data:
            problems.append(f"sealed stream of {name} does not open to its bytes")
        boxed = box.encrypt(data)
        n = tries[len(data) > 2 * MIB]
        t = interleaved(
            {
                "seal_stream": partial(seal_stream, data, to, label=label),
                "SealedBox": partial(SealedBox(to).encrypt, data),
                "SecretBox": partial(box.encrypt, data),
                "open_stream_bytes": partial(open_stream_bytes, sealed, identity, label=label),
                "SecretBox.decrypt": partial(box.decrypt, boxed),
            },
            n,
            time.process_time,
        )
        m = {k: median(v) for k, v in t.items()}
        over = sum(len(c) for c in sealed) - len(data)
        rows.append([
            name, f"{len(data) / MIB:.2f}", f"{len(sealed) - 1} (+{over:,} B)",
            f"{mibs(len(data), m['seal_stream']):,.0f}", f"{mibs(len(data), m['SealedBox']):,.0f}",
            f"{mibs(len(data), m['SecretBox']):,.0f}",
            f"{m['SealedBox'] / m['seal_stream']:.2f}x / {m['SecretBox'] / m['seal_stream']:.2f}x",
            f"{mibs(len(data), m['open_stream_bytes']):,.0f}", f"{mibs(len(data), m['SecretBox.decrypt']):,.0f}",
            f"{m['SecretBox.decrypt'] / m['open_stream_bytes']:.2f}x", str(n),
        ])  # fmt: skip
    print(f"\n## 1. Sealing in-process (MiB per CPU second, median of the tries; load average {load_average()})\n")
    table(
        ["file", "MiB", "chunks (overhead)", "seal_stream", "SealedBox whole", "SecretBox whole",
         "ratio vs SealedBox / SecretBox", "open_stream_bytes", "SecretBox.decrypt", "ratio", "tries"],
        rows,
    )  # fmt: skip
    return problems


# ---------------------------------------------------------------------------------------------
# 2. Cleaning, in-process
# ---------------------------------------------------------------------------------------------
def reencode_floor(data: bytes, quality: int) -> bytes:
    """The least a re-encoding can cost: Pillow decodes the JPEG and encodes its pixels again."""
    image = Image.open(io.BytesIO(data))
    image.load()
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def bench_clean(images: list[tuple[str, bytes]], tries: dict[int, int]) -> list[str]:
    from intake.evidence import JPEG_QUALITY, clean

    problems: list[str] = []
    rows = []
    for name, data in images:
        with Image.open(io.BytesIO(data)) as im:
            width, height = im.size
        cleaned = clean(data)
        with Image.open(io.BytesIO(cleaned.data)) as out:
            exif = out.getexif()
            if len(exif) or exif.get_ifd(0x8825) or b"BenchPhone" in cleaned.data:
                problems.append(f"clean() left metadata in {name}")
        n = tries[len(data) > 2 * MIB]
        t = interleaved(
            {"clean": partial(clean, data), "floor": partial(reencode_floor, data, JPEG_QUALITY)}, n, time.process_time
        )
        c, f = median(t["clean"]), median(t["floor"])
        rows.append([
            name, f"{width}x{height} ({width * height / 1e6:.1f} MP)", f"{len(data) / MIB:.2f}",
            f"{len(cleaned.data) / MIB:.2f}", f"{c:.3f}", f"{mibs(len(data), c):.1f}", f"{f:.3f}",
            f"{mibs(len(data), f):.1f}", f"{f / c:.2f}x", str(n),
        ])  # fmt: skip
    print(f"\n## 2. Cleaning in-process (CPU seconds, median of the tries; load average {load_average()})\n")
    print(f"floor = Pillow decode + encode of the same image at quality {JPEG_QUALITY} (no transpose, no checks)\n")
    table(
        ["image", "pixels", "MiB in", "MiB out", "clean CPU s", "clean MiB/s", "floor CPU s", "floor MiB/s",
         "ratio (floor/clean time)", "tries"],
        rows,
    )  # fmt: skip
    return problems


INBOX_TABLE = """CREATE TABLE attachments (item_id TEXT NOT NULL, n INTEGER NOT NULL, seq INTEGER NOT NULL,
    chunk BLOB NOT NULL, PRIMARY KEY (item_id, n, seq))"""


def store_file(path: Path, chunks: list[bytes], tries: int, *, cipher: bool, rowid: bool) -> tuple[float, float]:
    """(wall, CPU) median seconds of inserting one sealed stream's chunks in one transaction into a fresh
    store with the inbox's pragmas (intake/store/db.py: WAL, synchronous FULL, secure_delete,
    ``cipher_memory_security``) and its ``attachments`` table (schema.py, inbox migration 7)."""
    import sqlcipher3

    conn = sqlcipher3.connect(str(path), isolation_level=None)
    try:
        if cipher:
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = \"x'{os.urandom(32).hex()}'\"")
            conn.execute("PRAGMA cipher_memory_security = ON")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA secure_delete = ON")
        conn.execute(INBOX_TABLE + ("" if rowid else " WITHOUT ROWID"))
        wall, cpu = [], []
        for i in range(tries):
            w, c = time.perf_counter(), time.process_time()
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(
                "INSERT INTO attachments VALUES (?, ?, ?, ?)", [(f"item{i}", 1, s, x) for s, x in enumerate(chunks)]
            )
            conn.execute("COMMIT")
            wall.append(time.perf_counter() - w)
            cpu.append(time.process_time() - c)
    finally:
        conn.close()
    return median(wall), median(cpu)


def bench_store(workdir: Path, sizes: list[int], tries: int) -> None:
    """What storing a sealed file costs with the inbox's table (a rowid table since this bench showed
    WITHOUT ROWID at half the speed), against the same table WITHOUT ROWID and plain SQLite."""
    from nacl.public import PrivateKey

    from crypto.stream import seal_stream

    to = PrivateKey.generate().public_key
    variants = [
        ("inbox: SQLCipher, rowid table (as migration 7)", True, True),
        ("SQLCipher, same table WITHOUT ROWID", True, False),
        ("plain SQLite, rowid table", False, True),
    ]
    rows = []
    for size in sizes:
        chunks = seal_stream(os.urandom(size), to, label=b"bench-item/1")
        for i, (name, cipher, rowid) in enumerate(variants):
            wall, cpu = store_file(workdir / f"store-{size}-{i}.db", chunks, tries, cipher=cipher, rowid=rowid)
            rows.append(
                [f"{size / MIB:.0f} MiB", name, f"{wall:.3f}", f"{cpu:.3f}", f"{mibs(size, wall):.0f}", str(tries)]
            )
    print(f"\nStoring one sealed file in one transaction, in-process (median; load average {load_average()}):\n")
    table(["file", "store", "wall s", "CPU s", "MiB/s", "tries"], rows)
