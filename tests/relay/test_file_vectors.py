"""The envelope-with-files vectors (tests/vectors/envelope-v1-files, docs/envelope.md#files) open to
what their manifest says, through the reference reader and through the partner's opener."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto.envelope import open_envelope
from relay.files import BadFiles, read_payload
from relay.partner.store import PartnerStore, _open_one

HERE = Path(__file__).resolve().parents[1] / "vectors" / "envelope-v1-files"
MANIFEST = json.loads((HERE / "vectors.json").read_text("utf-8"))
LABEL = "grievance-intake test vector: "
RECIPIENT = PrivateKey(hashlib.sha256((LABEL + "partner").encode()).digest())
NODE = bytes(SigningKey(hashlib.sha256((LABEL + "node").encode()).digest()).verify_key)


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["file"])
def test_each_vector_reads_as_its_manifest_says(vector: dict) -> None:  # type: ignore[type-arg]
    opened = open_envelope((HERE / vector["file"]).read_bytes(), recipient=RECIPIENT, senders={NODE: "node"})
    assert opened.header.envelope_id == vector["envelope_id"]
    if vector["expect"] == "bad_file":
        with pytest.raises(BadFiles):
            read_payload(opened.payload)
        return
    summary, files = read_payload(opened.payload)
    assert summary.case_ref == "abcdefghijklmnop"
    assert [{"n": f.n, "type": f.type, "bytes": f.size, "sha256": f.sha256} for f in files] == vector["files"]
    assert all(hashlib.sha256(f.data).hexdigest() == f.sha256 for f in files)
    if not files:
        assert b'"files"' not in opened.payload


def test_the_partner_opener_refuses_every_bad_file_vector(tmp_path: Path) -> None:
    store = PartnerStore(tmp_path / "partner.db", bytes(range(32)), create=True)
    try:
        for v in MANIFEST["vectors"]:
            data = (HERE / v["file"]).read_bytes()
            out = _open_one(store, RECIPIENT, {NODE: "node"}, None, v["envelope_id"], "folder", data)
            assert (out.reason or "ok") == v["expect"], v["file"]
        stored = store.files("abcdefghijklmnop")
        assert sorted((f.n, f.sha256) for f in stored) == sorted(
            {(f["n"], f["sha256"]) for v in MANIFEST["vectors"] if v["expect"] == "ok" for f in v["files"]}
        ), "the files of the good vectors, nothing of the bad ones"
    finally:
        store.close()
