"""What the test-vector generators share (scripts/make_envelope_vectors.py, scripts/make_message_vectors.py).

Not a script: the two generators import it. Keys come from public labels, vector ids from vector
names, and both open what they wrote with the same loop and the same command line.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from crypto.envelope import EnvelopeError

LABEL_PREFIX = "grievance-intake test vector: "

# Opens one vector's bytes, given the ``seen`` callback; raises EnvelopeError on refusal.
Opener = Callable[..., Any]


def seed(label: str) -> bytes:
    return hashlib.sha256(label.encode("utf-8")).digest()


def vector_id(name: str) -> str:
    """A fixed id per vector, so regenerating changes only the sealed bytes."""
    return hashlib.sha256(b"grievance-intake test vector id: " + name.encode()).digest()[:16].hex()


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def remembered(opened: set[tuple[bytes, int]], ids: set[str]) -> Callable[[bytes, int, str], bool]:
    """The ``seen`` callback of an opener that has opened exactly these envelopes or messages."""
    return lambda sender, sequence, item_id: (sender, sequence) in opened or item_id in ids


def load_manifest(folder: Path) -> dict[str, Any]:
    manifest: dict[str, Any] = json.loads((folder / "vectors.json").read_text("utf-8"))
    return manifest


def opener_seed(manifest: dict[str, Any]) -> bytes:
    """The seed of the manifest's opener key (its ``opener.recipient``)."""
    return seed(manifest["keys"][manifest["opener"]["recipient"]]["label"])


def opener_senders(manifest: dict[str, Any]) -> dict[bytes, str]:
    keys = manifest["keys"]
    return {bytes.fromhex(keys[k]["public_hex"]): name for k, name in manifest["opener"]["senders"].items()}


def open_vectors(folder: Path, manifest: dict[str, Any], open_one: Opener) -> list[str]:
    """Open every entry of ``manifest["vectors"]`` after those it names in ``after``; the mismatches."""
    by_file = {v["file"]: v for v in manifest["vectors"]}
    problems: list[str] = []
    for vector in manifest["vectors"]:
        missing = [a for a in vector.get("after", []) if a not in by_file]
        if missing:
            problems.append(f"{vector['file']}: 'after' names {missing}, which are not vectors")
            continue
        opened: set[tuple[bytes, int]] = set()
        ids: set[str] = set()
        for earlier in vector.get("after", []):
            o = open_one((folder / earlier).read_bytes())
            opened.add((o.sender, o.sequence))
            ids.add(o.header.envelope_id)
        try:
            open_one((folder / vector["file"]).read_bytes(), seen=remembered(opened, ids))
            got = "ok"
        except EnvelopeError as exc:
            got = exc.reason
        if got != vector["expect"]:
            problems.append(f"{vector['file']}: expected {vector['expect']}, got {got}")
    return problems


def fail_on(problems: list[str]) -> None:
    if problems:
        raise SystemExit("vectors do not match their manifest:\n  " + "\n  ".join(problems))


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    (out / "vectors.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", "utf-8")


def run(
    argv: list[str] | None,
    *,
    doc: str,
    default_out: Path,
    root: Path,
    write: Callable[[Path], str],
    check: Callable[[Path], None],
) -> int:
    """The generators' command line: ``write(out)`` (returns what it wrote) unless ``--check``, then ``check(out)``."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=default_out, help=f"folder to write (default {default_out.relative_to(root)})"
    )
    parser.add_argument("--check", action="store_true", help="only check the vectors already in --out")
    args = parser.parse_args(argv)
    out: Path = args.out
    if not args.check:
        print(write(out))
    check(out)
    print("every vector opens to its expected outcome")
    return 0
