"""Regenerate the test vectors of envelopes carrying evidence files, tests/vectors/envelope-v1-files/
(docs/envelope.md#files): a case summary with a ``files`` member, sealed as in tests/vectors/envelope-v1/.

    .venv/bin/python scripts/make_envelope_file_vectors.py [--out DIR] [--check]

Same keys as envelope-v1 (derived from public labels; they protect nothing). Every envelope here opens
(it is signed and sealed correctly); ``expect`` is what reading its payload must give: ``ok`` or
``bad_file``. The files are tiny images written byte for byte by this script (no encoder), so the
manifest is the same every run; only the sealed boxes change.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import struct
import sys
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey
from nacl.signing import SigningKey

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from crypto.envelope import open_envelope, seal  # noqa: E402
from relay.files import BadFiles, b64url, read_payload  # noqa: E402

OUT = ROOT / "tests" / "vectors" / "envelope-v1-files"
LABEL_PREFIX = "grievance-intake test vector: "
T0 = datetime(2026, 11, 2, 9, 30, 0, tzinfo=UTC)
SUMMARY: dict[str, Any] = {
    "format": "grievance-intake/summary/v1", "node_id": "test-node", "case_ref": "abcdefghijklmnop",
    "language": "en", "factory": {"name": "Example Garments", "address": "", "country": "BD", "parent_company": "",
    "brands": [], "public_buyers": [], "open_supply_hub_id": "", "registered": True}, "categories": ["wages"],
    "severity": "high", "first_reported": "2026-10", "workers_affected": "10-49", "status": "investigating",
    "remedy": [], "narrative": "Wages are paid two months late; the pay slip is attached.",
}  # fmt: skip


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A PNG of one colour, written chunk by chunk (PNG spec, ISO/IEC 15948)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b"")


def canonical(doc: Any) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry(n: int, kind: str, data: bytes) -> dict[str, Any]:
    return {"n": n, "type": kind, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest(), "data": b64url(data)}


def make() -> tuple[dict[str, bytes], list[dict[str, Any]]]:
    node = SigningKey(seed(LABEL_PREFIX + "node"))
    partner = PrivateKey(seed(LABEL_PREFIX + "partner")).public_key
    red, blue = png(4, 3, (200, 30, 30)), png(2, 2, (20, 40, 220))
    jpeg_head = b"\xff\xd8\xff\xe0" + bytes(60)  # a JPEG's first bytes only: what a partner checks
    cases: list[tuple[str, list[Any] | None, str, str]] = [
        ("01-ok-one-file", [entry(1, "image/png", red)], "ok", "the summary with one PNG"),
        ("02-ok-two-files", [entry(1, "image/png", red), entry(3, "image/png", blue)], "ok", "two files, numbers 1 and 3"),
        ("03-ok-no-files", None, "ok", "a summary without 'files': byte for byte a summary as before"),
        ("10-bad_file-sha256", [{**entry(1, "image/png", red), "sha256": hashlib.sha256(blue).hexdigest()}],
         "bad_file", "the bytes do not match the SHA-256 (a changed file)"),
        ("11-bad_file-bytes", [{**entry(1, "image/png", red), "bytes": len(red) + 1}], "bad_file", "wrong length"),
        ("12-bad_file-type", [entry(1, "image/svg+xml", b"<svg/>")], "bad_file", "a type that never travels"),
        ("13-bad_file-magic", [entry(1, "image/jpeg", red)], "bad_file", "type says JPEG, bytes are PNG"),
        ("14-bad_file-padding", [{**entry(1, "image/png", red), "data": b64url(red) + "=="}], "bad_file",
         "base64url with padding"),
        ("15-bad_file-empty-list", [], "bad_file", "'files' present but empty: left out instead"),
        ("16-bad_file-duplicate-n", [entry(1, "image/png", red), entry(1, "image/png", blue)], "bad_file",
         "two files numbered 1"),
        ("17-bad_file-extra-member", [{**entry(1, "image/png", red), "name": "IMG_0001.png"}], "bad_file",
         "a member the format does not have (a file name)"),
        ("18-bad_file-order", [entry(3, "image/png", blue), entry(1, "image/png", red)], "bad_file",
         "not in the order of their numbers"),
        ("19-ok-jpeg-head", [entry(2, "image/jpeg", jpeg_head)], "ok",
         "a JPEG's first bytes: the format checks the type's magic, not the whole image"),
    ]  # fmt: skip
    files: dict[str, bytes] = {}
    manifest: list[dict[str, Any]] = []
    for i, (name, listed, expect, comment) in enumerate(cases, start=1):
        doc = dict(SUMMARY)
        if listed is not None:
            doc["files"] = listed
        payload = canonical(doc)
        eid = hashlib.sha256(f"file vector {name}".encode()).hexdigest()[:32]
        files[f"{name}.envelope"] = seal(
            payload, sender=node, recipient=partner, sequence=i, created_at=T0, envelope_id=eid
        )
        item: dict[str, Any] = {"file": f"{name}.envelope", "expect": expect, "comment": comment, "envelope_id": eid}
        if expect == "ok":
            item["files"] = [{k: f[k] for k in ("n", "type", "bytes", "sha256")} for f in listed or []]
        manifest.append(item)
    return files, manifest


def outcome(data: bytes) -> tuple[str, list[dict[str, Any]]]:
    recipient = PrivateKey(seed(LABEL_PREFIX + "partner"))
    senders = {bytes(SigningKey(seed(LABEL_PREFIX + "node")).verify_key): "node"}
    opened = open_envelope(data, recipient=recipient, senders=senders)
    try:
        _summary, got = read_payload(opened.payload)
    except BadFiles:
        return "bad_file", []
    return "ok", [{"n": f.n, "type": f.type, "bytes": f.size, "sha256": f.sha256} for f in got]


def check(folder: Path) -> None:
    doc = json.loads((folder / "vectors.json").read_text("utf-8"))
    problems = []
    for v in doc["vectors"]:
        got, listed = outcome((folder / v["file"]).read_bytes())
        if got != v["expect"] or (got == "ok" and listed != v["files"]):
            problems.append(f"{v['file']}: expected {v['expect']}, got {got}")
    if problems:
        raise SystemExit("vectors do not match their manifest:\n  " + "\n  ".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--check", action="store_true", help="only check the vectors already in --out")
    args = parser.parse_args(argv)
    out: Path = args.out
    if not args.check:
        files, vectors = make()
        out.mkdir(parents=True, exist_ok=True)
        for old in out.glob("*.envelope"):
            old.unlink()
        for name, data in files.items():
            (out / name).write_bytes(data)
        manifest = {
            "format": "grievance-intake/envelope/v1 carrying grievance-intake/summary/v1 with files",
            "spec": "docs/envelope.md#files", "generator": "scripts/make_envelope_file_vectors.py",
            "keys": "as tests/vectors/envelope-v1/vectors.json: opener 'partner', sender 'node'",
            "vectors": vectors,
        }  # fmt: skip
        (out / "vectors.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")
        print(f"wrote {len(files)} envelopes to {out}")
    check(out)
    print("every vector opens to its expected outcome")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
