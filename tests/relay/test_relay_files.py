"""Evidence files in the relay (issue 16 item 7): nothing of a file leaves without a coordinator's
approval of that file for that partner, bound to the exact downscaled copy shown; the copy carries
no metadata; a kept original never leaves; a partner refuses a file that is not what it says."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from nacl.public import PublicKey
from PIL import Image

from crypto.envelope import open_envelope, seal
from intake import clock
from intake.errors import NotEligible, Stale
from intake.evidence import clean
from intake.node import load_keyring
from intake.store import attachments
from intake.store.cases import CasesStore
from relay import files
from relay.files import BadFiles, NotRelayable, RelayFile, read_payload
from relay.gate import Relay
from relay.partner.inbox import import_folder
from relay.partner.store import open_pending
from relay.transport import export
from tests.conftest import Node
from tests.relay.conftest import Partner, file_case, make_partner, node_key

EXIF_MARKER = b"EXIFMARKER-0x5e1f"
GPS_IFD = 0x8825


def photo(width: int = 2400, height: int = 1800) -> bytes:
    """A phone photo: EXIF with a description marker and GPS coordinates."""
    image = Image.new("RGB", (width, height))
    for x in range(0, width, 40):
        image.paste((x % 256, (x * 3) % 256, 90), (x, 0, x + 20, height))
    exif = Image.Exif()
    exif[0x010E] = EXIF_MARKER.decode()  # ImageDescription
    exif[0x010F] = "PhoneMaker"
    exif[GPS_IFD] = {1: "N", 2: (22.0, 32.0, 10.0), 3: "E", 4: (114.0, 3.0, 5.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), quality=90)
    return out.getvalue()


def pdf() -> bytes:
    return b"%PDF-1.4\n1 0 obj<</Author (Someone)>>endobj\ntrailer<<>>\n%%EOF\n"


def add_file(store: CasesStore, case_id: int, data: bytes, *, keep_original: bool = False) -> int:
    e = clean(data, keep_original=keep_original)
    with store.transaction() as conn:
        n = attachments.add(conn, case_id, e.data, e.type, warning=e.warning, original=e.original)
    assert n is not None
    return n


@pytest.fixture
def two(tmp_path: Path, node: Node) -> tuple[Partner, Partner]:
    return make_partner(tmp_path / "alpha"), make_partner(tmp_path / "beta")


def pair(relay: Relay, node: Node, partners: tuple[Partner, Partner]) -> dict[str, int]:
    ids = {}
    for name, p in zip(("alpha", "beta"), partners, strict=True):
        inbox = p.home.open_inbox()
        try:
            inbox.add_node(node.settings.home.name, node_key(node))
        finally:
            inbox.close()
        ids[name] = relay.add_partner(name, p.key_string).id
    return ids


def envelopes(relay: Relay, partner: Partner, node: Node, name: str) -> list[tuple[bytes, list[RelayFile]]]:
    """Every envelope queued for partner ``name``, opened with that partner's key: (payload, files)."""
    senders = {bytes(load_keyring(node.settings).verify_key): "node"}
    out = []
    with relay.store._lock:
        rows = relay.store._conn.execute(
            "SELECT o.envelope FROM relay_outbox o JOIN relay_partners p ON p.id = o.partner_id WHERE p.name = ? "
            "ORDER BY o.sequence",
            (name,),
        ).fetchall()
    for (data,) in rows:
        opened = open_envelope(bytes(data), recipient=partner.keys.identity, senders=senders)
        out.append((opened.payload, read_payload(opened.payload)[1]))
    return out


def test_files_leave_only_when_approved_for_that_partner(
    tmp_path: Path, node: Node, relay: Relay, store: CasesStore, two: tuple[Partner, Partner]
) -> None:
    ids = pair(relay, node, two)
    case_id = file_case(node)
    original = photo()
    n = add_file(store, case_id, original)
    assert relay.approve(case_id, relay.review(case_id).content_hash) == 2
    for name, p in zip(("alpha", "beta"), two, strict=True):
        sent = envelopes(relay, p, node, name)
        assert [f for _, f in sent] == [[]], "no file leaves without an approval"
        assert b'"files"' not in sent[0][0]
    # The coordinator sees the copy that would leave and approves it for alpha only.
    rows = relay.files.review(case_id)
    assert [r.info.n for r in rows] == [n] and rows[0].copy is not None and not rows[0].why_not
    shown = rows[0].copy
    assert max(Image.open(io.BytesIO(shown.data)).size) == files.MAX_SIDE
    assert relay.files.approve(case_id, n, ids["alpha"], shown.sha256) == 1, "the summary is approved: it goes now"
    alpha = envelopes(relay, two[0], node, "alpha")
    beta = envelopes(relay, two[1], node, "beta")
    assert [len(f) for _, f in alpha] == [0, 1]
    assert [len(f) for _, f in beta] == [0], "an approval for alpha sends nothing to beta"
    sent_file = alpha[1][1][0]
    assert sent_file.sha256 == shown.sha256 == hashlib.sha256(sent_file.data).hexdigest(), "the previewed copy"
    assert sent_file.n == n and sent_file.type == "image/jpeg"
    image = Image.open(io.BytesIO(sent_file.data))
    assert not image.getexif() and GPS_IFD not in image.getexif(), "no EXIF, no GPS"
    assert "exif" not in image.info and EXIF_MARKER not in sent_file.data
    assert [a.state for a in relay.files.review(case_id)[0].approvals] == ["queued"]
    # Approving it again for beta sends it to beta; nothing is sent twice to alpha by a new summary.
    assert relay.files.approve(case_id, n, ids["beta"], shown.sha256) == 1
    assert [len(f) for _, f in envelopes(relay, two[1], node, "beta")] == [0, 1]
    # The partners open what they received; each stores the file it was sent, checked.
    for name, p in zip(("alpha", "beta"), two, strict=True):
        export(relay, tmp_path / f"usb-{name}", partner=name)
        assert all(why == "" for _, why in import_folder(p.home, tmp_path / f"usb-{name}"))
        db = p.home.open_db(p.keys)
        try:
            outcomes = open_pending(p.home, p.keys, db)
            assert [o.ok for o in outcomes] == [True, True], outcomes
            ref = outcomes[0].case_ref
            got = db.files(ref)
            assert [(f.n, f.sha256) for f in got] == [(n, shown.sha256)]
            found = db.file(ref, n)
            assert found is not None and found[1] == shown.data
        finally:
            db.close()


def test_the_audit_log_records_file_approvals_without_content(
    node: Node, relay: Relay, store: CasesStore, two: tuple[Partner, Partner]
) -> None:
    ids = pair(relay, node, two)
    case_id = file_case(node)
    n = add_file(store, case_id, photo(800, 600))
    copy = relay.files.copy(case_id, n)
    relay.files.approve(case_id, n, ids["beta"], copy.sha256)
    relay.approve(case_id, relay.review(case_id).content_hash)
    assert relay.files.withdraw(case_id, n, ids["beta"]) == 1
    with store._lock:
        rows = store._conn.execute(
            "SELECT action, detail FROM audit WHERE case_id = ? ORDER BY id", (case_id,)
        ).fetchall()
    actions = [a for a, _ in rows]
    assert "relay_file_approve" in actions and "relay_file_seal" in actions and "relay_file_withdraw" in actions
    assert all(copy.sha256 in d for a, d in rows if a in ("relay_file_approve", "relay_file_seal"))


def test_a_kept_original_never_leaves_and_documents_cannot(
    node: Node, relay: Relay, store: CasesStore, two: tuple[Partner, Partner]
) -> None:
    ids = pair(relay, node, two)
    case_id = file_case(node)
    original = photo(1000, 700)
    n = add_file(store, case_id, original, keep_original=True)
    doc = add_file(store, case_id, pdf())
    found = store.attachment(case_id, n, original=True)
    assert found is not None and found[1] == original and EXIF_MARKER in original
    rows = {r.info.n: r for r in relay.files.review(case_id)}
    assert rows[doc].copy is None and rows[doc].why_not == "document"
    with pytest.raises(NotRelayable) as err:
        relay.files.approve(case_id, doc, ids["alpha"], hashlib.sha256(pdf()).hexdigest())
    assert err.value.reason == "document"
    copy = rows[n].copy
    assert copy is not None and copy.data != original
    relay.files.approve(case_id, n, ids["alpha"], copy.sha256)  # waits: the summary is not approved yet
    assert envelopes(relay, two[0], node, "alpha") == [], "nothing leaves before the summary is approved"
    relay.approve(case_id, relay.review(case_id).content_hash)
    sent = envelopes(relay, two[0], node, "alpha")
    assert [[f.n for f in fs] for _, fs in sent] == [[n]], "the waiting file travels with the summary"
    for payload, _ in sent + envelopes(relay, two[1], node, "beta"):
        assert EXIF_MARKER not in payload and files.b64url(original)[:200] not in payload.decode()
        assert b"%PDF" not in payload and files.b64url(pdf())[:40] not in payload.decode()
        assert b"138 0013 8000" not in payload and b"Li Wei" not in payload, "the text is still redacted"


def test_an_approval_is_bound_to_the_copy_shown_and_to_consent(
    node: Node, relay: Relay, store: CasesStore, two: tuple[Partner, Partner]
) -> None:
    ids = pair(relay, node, two)
    case_id = file_case(node)
    n = add_file(store, case_id, photo(600, 400))
    with pytest.raises(Stale):
        relay.files.approve(case_id, n, ids["alpha"], "0" * 64)
    internal = file_case(node, "Internal only.", consent=0)
    m = add_file(store, internal, photo(600, 400))
    with pytest.raises(NotEligible):
        relay.files.approve(internal, m, ids["alpha"], relay.files.copy(internal, m).sha256)
    with store._lock:
        assert store._conn.execute("SELECT COUNT(*) FROM relay_file_approvals").fetchone()[0] == 0


def test_the_partner_refuses_a_file_that_is_not_what_it_says(
    node: Node, relay: Relay, store: CasesStore, two: tuple[Partner, Partner], tmp_path: Path
) -> None:
    pair(relay, node, two)
    case_id = file_case(node)
    relay.approve(case_id, relay.review(case_id).content_hash)
    summary = read_payload(envelopes(relay, two[0], node, "alpha")[0][0])[0]
    good = RelayFile(1, "image/jpeg", clean(photo(300, 200)).data)
    doc = files.payload(summary, [good])
    tampered = doc.replace(files.b64url(good.data)[100:110].encode(), b"A" * 10, 1)
    assert tampered != doc
    with pytest.raises(BadFiles):
        read_payload(tampered)
    keys = node.keys
    partner = two[0]
    usb = tmp_path / "forged"
    usb.mkdir()
    for i, body in enumerate((tampered, doc), start=1):
        envelope = seal(
            body, sender=keys.signing_key, recipient=PublicKey(bytes(partner.keys.identity.public_key)),
            sequence=100 + i, created_at=clock.now_s(),
        )  # fmt: skip
        (usb / f"{i}.envelope").write_bytes(envelope)
    import_folder(partner.home, usb)
    db = partner.home.open_db(partner.keys)
    try:
        outcomes = {o.sequence or o.reason: o for o in open_pending(partner.home, partner.keys, db)}
        assert "bad_file" in outcomes and "SHA-256" in outcomes["bad_file"].message
        assert db.files(summary.case_ref) and db.files(summary.case_ref)[0].sha256 == good.sha256
        assert len(db.files(summary.case_ref)) == 1, "nothing of the tampered envelope was stored"
    finally:
        db.close()


def test_the_files_member_is_strict_and_absent_when_empty(relay: Relay, node: Node) -> None:
    case_id = file_case(node)
    summary = relay.review(case_id).draft.summary
    assert files.payload(summary, []) == summary.to_bytes(), "no files: the summary's bytes as before"
    with pytest.raises(BadFiles):
        files._files([])
    assert files.unb64url("AA==") is None and files.unb64url("AB") is None and files.unb64url("AA") == b"\x00"


def test_the_partner_lists_a_case_s_files_and_writes_one_to_a_pipe(
    tmp_path: Path, node: Node, relay: Relay, store: CasesStore, two: tuple[Partner, Partner]
) -> None:
    import json
    import subprocess
    import sys

    from tests.conftest import PASSPHRASE
    from tests.intake.cli.test_cli import base_env, write_pass

    ids = pair(relay, node, two)
    case_id = file_case(node)
    n = add_file(store, case_id, photo(500, 400))
    relay.approve(case_id, relay.review(case_id).content_hash)
    copy = relay.files.copy(case_id, n)
    relay.files.approve(case_id, n, ids["alpha"], copy.sha256)
    export(relay, tmp_path / "usb", partner="alpha")
    import_folder(two[0].home, tmp_path / "usb")
    db = two[0].home.open_db(two[0].keys)
    try:
        ref = open_pending(two[0].home, two[0].keys, db)[0].case_ref
    finally:
        db.close()
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    env = base_env({"INTAKE_PARTNER_HOME": str(tmp_path / "alpha")})

    def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
        command = [sys.executable, "-m", "intake.cli", "partner", "cases", *args, "--passphrase-file", str(pw)]
        return subprocess.run(command, stdin=subprocess.DEVNULL, capture_output=True, env=env, timeout=60, check=False)

    shown = cli("show", ref, "--json")
    assert shown.returncode == 0, shown.stderr
    versions = json.loads(shown.stdout)
    assert [v.get("files", []) for v in versions][-1][0]["sha256"] == copy.sha256
    assert "files" not in versions[0], "the first envelope carried the summary alone"
    got = cli("file", ref, str(n))
    assert got.returncode == 0 and got.stdout == copy.data
    missing = cli("file", ref, "9")
    assert missing.returncode == 1 and b"Traceback" not in missing.stderr
