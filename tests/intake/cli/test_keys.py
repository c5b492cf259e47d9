"""Panic and recovery through the ``intake`` command, real processes on real SQLCipher stores (issue 17).

The round trip of the Done-when: escrow a kit -> back up -> panic -> the stores no longer open with
the passphrase -> on a fresh folder, kit + holder's key + backup -> the same cases with a new
passphrase. Then every bad input of the issue: a damaged kit, the wrong trusted key, a kit of
another node, panic twice; each a clear line, exit 1 (0 for the second panic), nothing written.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from crypto import Keyring
from crypto.errors import KeyringDestroyed
from crypto.escrow import make_kit, parse_kit, to_paper
from intake.node import open_cases, unlock
from intake.settings import Settings
from tests.conftest import PASSPHRASE, TEST_PROFILE, USER, drain_node, make_node
from tests.intake.cli.test_cli import intake, one_line_error, write_pass
from tests.intake.desk import report

INSECURE = ["--kdf-profile", TEST_PROFILE, "--allow-insecure-kdf"]
NEW_PASSPHRASE = "a new passphrase after the raid"
WORDS = ["Wages for March were paid three weeks late.", "The fire exit on floor 2 is locked at night."]


def descriptions(settings: Settings, passphrase: str, user: str = USER) -> list[str]:
    keys = unlock(settings, user, passphrase, sleep=lambda _s: None)
    store = open_cases(settings, keys)
    try:
        return sorted(c.description for c in store.list_cases())
    finally:
        store.close()


@pytest.fixture
def kit_setup(tmp_path: Path) -> dict[str, Path]:
    """A node with two cases, a trusted person's identity, a kit (file and paper) and a backup."""
    node = make_node(tmp_path / "node")
    for words in WORDS:
        report(node, words)
    drain_node(node)
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    new_pw = write_pass(tmp_path / "new-pw", NEW_PASSPHRASE)
    ident = tmp_path / "trusted.id"
    assert intake("keys", "identity", "--to", ident).code == 0
    assert (ident.stat().st_mode & 0o777) == 0o600
    home = ["--home", node.home]
    made = intake(*home, "keys", "escrow", "--to", tmp_path / "kit.json", "--recipient", f"{ident}.pub", "--passphrase-file", pw)  # fmt: skip
    assert made.code == 0, made
    assert (tmp_path / "kit.json").stat().st_mode & 0o777 == 0o600
    public = (tmp_path / "trusted.id.pub").read_text().strip()
    paper = intake(*home, "keys", "escrow", "--paper", "--to", tmp_path / "kit.txt", "--recipient", public, "--passphrase-file", pw)  # fmt: skip
    assert paper.code == 0, paper
    assert intake(*home, "backup", "--to", tmp_path / "node.backup", "--passphrase-file", pw).code == 0
    return {"tmp": tmp_path, "node": node.home, "pw": pw, "new_pw": new_pw, "id": ident}


def recover(s: dict[str, Path], kit: Path | str, *, ident: Path | None = None, target: str = "new", **more: str):  # type: ignore[no-untyped-def]
    extra = [x for k, v in more.items() for x in (f"--{k.replace('_', '-')}", v)]
    return intake(
        "keys", "recover", kit, "--identity", ident or s["id"], "--backup", s["tmp"] / "node.backup",
        "--home", s["tmp"] / target, "--new-passphrase-file", s["new_pw"], *INSECURE, *extra,
    )  # fmt: skip


def test_escrow_panic_recover_round_trip(kit_setup: dict[str, Path]) -> None:
    s = kit_setup
    settings = Settings.load(s["node"], env={})
    before = descriptions(settings, PASSPHRASE)
    assert before == sorted(WORDS)
    keyring_before = (s["node"] / "keyring.json").read_bytes()

    done = intake("--home", s["node"], "panic", "--yes")
    assert done.code == 0, done
    assert "keyring.json" in done.out and "intake.key" in done.out
    # The stores on this machine cannot be opened, not even with the passphrase.
    with pytest.raises(KeyringDestroyed):
        Keyring.load(settings.keyring_path)
    assert not settings.intake_key_path.exists()
    after = json.loads(settings.keyring_path.read_bytes())
    assert after["users"] == {} and after["public"] == json.loads(keyring_before)["public"]  # still recognised
    assert b"wrapped" not in settings.keyring_path.read_bytes()
    refused = intake("--home", s["node"], "drain", "--passphrase-file", s["pw"])
    assert "destroyed" in one_line_error(refused)
    assert (s["node"] / "panicked").read_text().strip() == after["destroyed_at"]  # the time, nothing else

    # A week later, on a new machine: the paper kit typed back, the holder's key, the backup.
    result = recover(s, s["tmp"] / "kit.txt")
    assert result.code == 0, result
    assert "Recovered node" in result.out
    restored = Settings.load(s["tmp"] / "new", env={})
    assert descriptions(restored, NEW_PASSPHRASE) == before
    # The file form of the kit works as well (into another folder).
    assert recover(s, s["tmp"] / "kit.json", target="new2").code == 0
    assert descriptions(Settings.load(s["tmp"] / "new2", env={}), NEW_PASSPHRASE) == before


def test_recover_can_name_a_new_coordinator(kit_setup: dict[str, Path]) -> None:
    s = kit_setup
    result = recover(s, s["tmp"] / "kit.json", user="desk2")
    assert result.code == 0, result
    ring = Keyring.load(s["tmp"] / "new" / "keyring.json")
    assert ring.users["desk2"].value == "coordinator" and USER in ring.users
    assert descriptions(Settings.load(s["tmp"] / "new", env={}), NEW_PASSPHRASE, user="desk2") == sorted(WORDS)


def test_wrong_trusted_key_is_refused_and_nothing_written(kit_setup: dict[str, Path]) -> None:
    s = kit_setup
    other = s["tmp"] / "other.id"
    assert intake("keys", "identity", "--to", other).code == 0
    line = one_line_error(recover(s, s["tmp"] / "kit.json", ident=other))
    assert "does not open with that key" in line and "Nothing was written" in line
    assert not (s["tmp"] / "new").exists()
    not_identity = one_line_error(recover(s, s["tmp"] / "kit.json", ident=s["tmp"] / "trusted.id.pub"))
    assert "not a recovery identity file" in not_identity


@pytest.mark.parametrize("damage", ["paper line", "paper line missing", "truncated", "not a kit", "altered"])
def test_damaged_kit_is_refused_and_nothing_written(kit_setup: dict[str, Path], damage: str) -> None:
    s = kit_setup
    bad = s["tmp"] / "bad-kit"
    paper = (s["tmp"] / "kit.txt").read_text()
    if damage == "paper line":  # one letter mistyped on line 3
        lines = paper.splitlines()
        i = next(n for n, ln in enumerate(lines) if ln.strip().startswith("3:"))
        flip = "B" if lines[i][5] != "B" else "C"
        lines[i] = lines[i][:5] + flip + lines[i][6:]
        bad.write_text("\n".join(lines))
    elif damage == "paper line missing":
        bad.write_text("\n".join(ln for ln in paper.splitlines() if not ln.strip().startswith("2:")))
    elif damage == "truncated":
        bad.write_bytes((s["tmp"] / "kit.json").read_bytes()[:200])
    elif damage == "not a kit":
        bad.write_bytes(b"hello")
    else:  # the clear node id and time no longer match the sealed ones
        doc = json.loads((s["tmp"] / "kit.json").read_text())
        raw = bytearray(parse_kit((s["tmp"] / "kit.json").read_bytes()).raw)
        raw[19] ^= 1  # the last byte of the clear time
        doc["kit"] = base64.b64encode(bytes(raw)).decode()
        bad.write_text(json.dumps(doc))
    line = one_line_error(recover(s, bad))
    assert "Nothing was written" in line
    if damage == "paper line":
        assert "line 3" in line
    if damage == "paper line missing":
        assert "line 2" in line
    assert not (s["tmp"] / "new").exists()


def test_kit_of_another_node_is_refused(kit_setup: dict[str, Path], tmp_path: Path) -> None:
    s = kit_setup
    other = make_node(tmp_path / "other")
    made = intake(
        "--home", other.home, "keys", "escrow", "--to", tmp_path / "other-kit", "--recipient", f"{s['id']}.pub",
        "--passphrase-file", s["pw"],
    )  # fmt: skip
    assert made.code == 0, made
    line = one_line_error(recover(s, tmp_path / "other-kit"))
    assert "This kit is for node " + other.keys.node_id in line and "Nothing was written" in line
    # A kit that claims this node's id but holds another master (anyone can seal to a public key).
    from crypto.escrow import load_identity

    holder = load_identity(s["id"].read_bytes()).public_key
    node_id = this_node_id(s)
    forged = make_kit(bytes(32), node_id=node_id, made=0, to=holder)
    (tmp_path / "forged.txt").write_text(to_paper(forged, made_text="-", recipient=holder))
    line = one_line_error(recover(s, tmp_path / "forged.txt"))
    assert "belongs to another node" in line
    assert not (s["tmp"] / "new").exists()


def this_node_id(s: dict[str, Path]) -> str:
    return str(json.loads((s["node"] / "keyring.json").read_text())["node_id"])


def test_panic_twice_says_already_done(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    first = intake("--home", node.home, "panic", "--yes")
    assert first.code == 0, first
    second = intake("--home", node.home, "panic", "--yes")
    assert second.code == 0, second
    assert "already done" in second.out
    third = intake("--home", node.home, "panic")  # no --yes needed for nothing left to destroy
    assert third.code == 0 and "already done" in third.out


def test_panic_without_yes_and_without_terminal_destroys_nothing(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    line = one_line_error(intake("--home", node.home, "panic"))
    assert "--yes" in line
    assert node.settings.intake_key_path.exists()
    unlock(node.settings, USER, PASSPHRASE, sleep=lambda _s: None)  # still opens


def test_escrow_needs_a_usable_recipient_and_a_coordinator(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    home = ["--home", node.home]
    for bad in ["not a key", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="]:  # the second: all zero, low order
        line = one_line_error(intake(*home, "keys", "escrow", "--to", tmp_path / "kit", "--recipient", bad, "--passphrase-file", pw))  # fmt: skip
        assert "not a usable public key" in line
    assert not (tmp_path / "kit").exists()
    (tmp_path / "precious").write_text("not a kit")
    recipient = "k0qH+89Yim+0jIkraM9xsCoGMFfrzVWb93sqS1pjikI="
    line = one_line_error(intake(*home, "keys", "escrow", "--to", tmp_path / "precious", "--recipient", recipient, "--passphrase-file", pw))  # fmt: skip
    assert "refusing to overwrite" in line and (tmp_path / "precious").read_text() == "not a kit"
    worker_pw = write_pass(tmp_path / "cw", "caseworker passphrase")
    added = intake(*home, "users", "add", "cw", "--kdf-profile", TEST_PROFILE, "--new-passphrase-file", worker_pw, "--passphrase-file", pw)  # fmt: skip
    assert added.code == 0, added
    line = one_line_error(intake(*home, "keys", "escrow", "--to", tmp_path / "kit", "--recipient", recipient, "--user", "cw", "--passphrase-file", worker_pw))  # fmt: skip
    assert "Only a coordinator" in line and not (tmp_path / "kit").exists()


def test_a_partner_can_hold_the_kit(tmp_path: Path) -> None:
    """The partner's key as `intake partner keys show` prints it; its home folder opens the kit."""
    node = make_node(tmp_path / "node")
    report(node, WORDS[0])
    drain_node(node)
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    partner = ["partner", "--home", tmp_path / "partner"]
    assert intake(*partner, "init", *INSECURE, "--passphrase-file", pw).code == 0
    key = next(ln for ln in intake(*partner, "keys", "show").out.splitlines() if ln.startswith("intake-partner1:"))
    (tmp_path / "partner.key").write_text(key + "\n")
    home = ["--home", node.home]
    assert intake(*home, "keys", "escrow", "--to", tmp_path / "kit", "--recipient", tmp_path / "partner.key", "--passphrase-file", pw).code == 0  # fmt: skip
    assert intake(*home, "backup", "--to", tmp_path / "node.backup", "--passphrase-file", pw).code == 0
    assert intake(*home, "panic", "--yes").code == 0
    new_pw = write_pass(tmp_path / "new-pw", NEW_PASSPHRASE)
    result = intake(
        "keys", "recover", tmp_path / "kit", "--identity", tmp_path / "partner", "--identity-passphrase-file", pw,
        "--backup", tmp_path / "node.backup", "--home", tmp_path / "new", "--new-passphrase-file", new_pw, *INSECURE,
    )  # fmt: skip
    assert result.code == 0, result
    assert descriptions(Settings.load(tmp_path / "new", env={}), NEW_PASSPHRASE) == [WORDS[0]]


def test_duress_passphrase_is_never_a_real_one(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    pw = write_pass(tmp_path / "pw", PASSPHRASE)
    home = ["--home", node.home]
    line = one_line_error(intake(*home, "keys", "duress", "--duress-passphrase-file", pw, "--passphrase-file", pw))
    assert "must differ" in line and not (node.home / "duress.json").exists()
    duress_pw = write_pass(tmp_path / "duress", "the duress words")
    assert intake(*home, "keys", "duress", "--duress-passphrase-file", duress_pw, "--passphrase-file", pw).code == 0
    stored = (node.home / "duress.json").read_text()
    assert "the duress words" not in stored and "$argon2id$" in stored
    line = one_line_error(intake(*home, "passphrase", "change", "--passphrase-file", pw, "--new-passphrase-file", duress_pw))  # fmt: skip
    assert "duress passphrase" in line
    unlock(node.settings, USER, PASSPHRASE, sleep=lambda _s: None)  # unchanged
