"""Keyring: one master wrapped per user; a file that cannot be quietly edited into something else."""

from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from nacl.public import PrivateKey
from nacl.pwhash import argon2id

from crypto import Keyring, KeyringError, NodeKeys, Role, WrongPassphrase, fingerprint, open_item, seal_item
from crypto import files as crypto_files
from crypto.kdf import PROFILES, KdfProfile
from tests.conftest import TEST_PROFILE

PASS = "correct horse battery staple"
PASS_B = "second caseworker phrase"


@pytest.fixture
def ring_path(tmp_path: Path) -> Path:
    return tmp_path / "keyring.json"


@pytest.fixture
def made(ring_path: Path) -> tuple[Keyring, NodeKeys]:
    return Keyring.create(ring_path, user="admin", passphrase=PASS, profile=TEST_PROFILE)


def _doc(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _write(path: Path, doc: Any) -> None:
    path.write_text(json.dumps(doc))


# -- create, load, unlock ------------------------------------------------------------------------------
def test_create_then_load_and_unlock(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    assert keys.user == "admin"
    assert keys.role is Role.COORDINATOR
    loaded = Keyring.load(ring_path)
    assert loaded.node_id == ring.node_id == keys.node_id
    assert loaded.users == {"admin": Role.COORDINATOR}
    assert loaded.default_user() == "admin"
    again = loaded.unlock("admin", PASS)
    assert again.master == keys.master
    assert again.cases_db_key == keys.cases_db_key
    # the public half matches the unlocked secrets: what intake seals, the desk opens
    blob = seal_item(b"report", to=loaded.public_key)
    assert open_item(blob, again.identity) == b"report"
    signed = again.signing_key.sign(b"summary")
    assert loaded.verify_key.verify(signed) == b"summary"


def test_derived_keys_are_distinct(made: tuple[Keyring, NodeKeys]) -> None:
    _, keys = made
    derived = {keys.cases_db_key, keys.contact_key, keys.reporter_key, bytes(keys.identity), bytes(keys.signing_key)}
    assert len(derived) == 5
    assert all(len(k) == 32 for k in derived)
    assert keys.master.reveal() not in derived


def test_node_keys_repr_hides_master(made: tuple[Keyring, NodeKeys]) -> None:
    _, keys = made
    text = repr(keys)
    assert keys.master.reveal().hex() not in text
    assert repr(keys.master.reveal()) not in text


def test_two_nodes_have_different_keys(tmp_path: Path) -> None:
    a, ka = Keyring.create(tmp_path / "a.json", user="admin", passphrase=PASS, profile=TEST_PROFILE)
    b, kb = Keyring.create(tmp_path / "b.json", user="admin", passphrase=PASS, profile=TEST_PROFILE)
    assert a.node_id != b.node_id
    assert ka.master != kb.master
    assert a.public_keys_b64() != b.public_keys_b64()


def test_fingerprints_and_public_keys(made: tuple[Keyring, NodeKeys]) -> None:
    ring, _ = made
    prints = ring.fingerprints()
    assert prints["x25519"] == fingerprint(bytes(ring.public_key), kind="x25519")
    assert prints["ed25519"] == fingerprint(bytes(ring.verify_key), kind="ed25519")
    pub = ring.public_keys_b64()
    assert base64.b64decode(pub["x25519"]) == bytes(ring.public_key)
    assert base64.b64decode(pub["ed25519"]) == bytes(ring.verify_key)


def test_wrong_passphrase(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring = Keyring.load(ring_path)
    for wrong in ["", "correct horse battery stapl", PASS + " ", PASS.upper()]:
        with pytest.raises(WrongPassphrase):
            ring.unlock("admin", wrong)


def test_unknown_user_is_the_same_error(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring = Keyring.load(ring_path)
    with pytest.raises(WrongPassphrase) as unknown:
        ring.unlock("nobody", PASS)
    with pytest.raises(WrongPassphrase) as wrong:
        ring.unlock("admin", "not the passphrase")
    assert str(unknown.value) == str(wrong.value)


@pytest.mark.parametrize("passphrase", ["", "short", "1234567"])
def test_create_refuses_short_passphrase(ring_path: Path, passphrase: str) -> None:
    with pytest.raises(KeyringError, match="at least 8"):
        Keyring.create(ring_path, user="admin", passphrase=passphrase, profile=TEST_PROFILE)
    assert not ring_path.exists()


@pytest.mark.parametrize("user", ["", "Admin", "a b", "-lead", "x" * 33, "ümlaut", "../etc"])
def test_create_refuses_bad_user_names(ring_path: Path, user: str) -> None:
    with pytest.raises(KeyringError, match="user names"):
        Keyring.create(ring_path, user=user, passphrase=PASS, profile=TEST_PROFILE)
    assert not ring_path.exists()


def test_create_refuses_to_overwrite(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    before = ring_path.read_bytes()
    with pytest.raises(KeyringError, match="already exists"):
        Keyring.create(ring_path, user="other", passphrase=PASS, profile=TEST_PROFILE)
    assert ring_path.read_bytes() == before


def test_create_refuses_to_overwrite_any_file(ring_path: Path) -> None:
    ring_path.write_text("something precious")
    with pytest.raises(KeyringError):
        Keyring.create(ring_path, user="admin", passphrase=PASS, profile=TEST_PROFILE)
    assert ring_path.read_text() == "something precious"


# -- users ---------------------------------------------------------------------------------------------
def test_add_user_unlocks_the_same_master(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    loaded = Keyring.load(ring_path)
    assert loaded.users == {"admin": Role.COORDINATOR, "lin": Role.CASEWORKER}
    lin = loaded.unlock("lin", PASS_B)
    assert lin.user == "lin"
    assert lin.role is Role.CASEWORKER
    assert lin.master == keys.master
    assert lin.cases_db_key == keys.cases_db_key
    assert loaded.unlock("admin", PASS).master == keys.master
    # each passphrase only opens its own entry
    with pytest.raises(WrongPassphrase):
        loaded.unlock("lin", PASS)
    with pytest.raises(WrongPassphrase):
        loaded.unlock("admin", PASS_B)


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.VIEWER])
def test_only_a_coordinator_adds_or_removes_users(made: tuple[Keyring, NodeKeys], ring_path: Path, role: Role) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=role, profile=TEST_PROFILE)
    lin = ring.unlock("lin", PASS_B)
    before = ring_path.read_bytes()
    with pytest.raises(KeyringError, match="only a coordinator"):
        ring.add_user(lin, "mallory", "mallory-passphrase", role=Role.COORDINATOR, profile=TEST_PROFILE)
    with pytest.raises(KeyringError, match="only a coordinator"):
        ring.remove_user(lin, "admin")
    assert ring_path.read_bytes() == before
    assert set(Keyring.load(ring_path).users) == {"admin", "lin"}


def test_add_user_refuses_duplicates_bad_names_and_short_passphrases(made: tuple[Keyring, NodeKeys]) -> None:
    ring, keys = made
    with pytest.raises(KeyringError, match="exists"):
        ring.add_user(keys, "admin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    with pytest.raises(KeyringError, match="user names"):
        ring.add_user(keys, "Bad Name", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    with pytest.raises(KeyringError, match="at least 8"):
        ring.add_user(keys, "lin", "short", role=Role.CASEWORKER, profile=TEST_PROFILE)
    assert ring.users == {"admin": Role.COORDINATOR}


def test_add_user_refuses_keys_of_another_node(made: tuple[Keyring, NodeKeys], tmp_path: Path) -> None:
    ring, _ = made
    _other_ring, other_keys = Keyring.create(
        tmp_path / "other.json", user="admin", passphrase=PASS, profile=TEST_PROFILE
    )
    with pytest.raises(KeyringError):
        ring.add_user(other_keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    assert "lin" not in Keyring.load(ring.path).users


def test_change_passphrase(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    ring.change_passphrase("admin", PASS, "a brand new passphrase")
    loaded = Keyring.load(ring_path)
    with pytest.raises(WrongPassphrase):
        loaded.unlock("admin", PASS)
    assert loaded.unlock("admin", "a brand new passphrase").master == keys.master
    assert loaded.unlock("lin", PASS_B).master == keys.master  # other users unaffected
    assert loaded.users == {"admin": Role.COORDINATOR, "lin": Role.CASEWORKER}  # role kept


def test_change_passphrase_needs_the_old_one(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, _ = made
    before = ring_path.read_bytes()
    with pytest.raises(WrongPassphrase):
        ring.change_passphrase("admin", "not the old one", "a brand new passphrase")
    with pytest.raises(KeyringError, match="at least 8"):
        ring.change_passphrase("admin", PASS, "short")
    assert ring_path.read_bytes() == before
    assert Keyring.load(ring_path).unlock("admin", PASS).user == "admin"


def test_change_passphrase_rewraps_with_fresh_salt(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, _ = made
    old = _doc(ring_path)["users"]["admin"]
    ring.change_passphrase("admin", PASS, PASS)  # even the same passphrase gets a new salt and nonce
    new = _doc(ring_path)["users"]["admin"]
    assert old["salt"] != new["salt"]
    assert old["nonce"] != new["nonce"]
    assert old["wrapped"] != new["wrapped"]


def test_remove_user(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    ring.remove_user(keys, "lin")
    loaded = Keyring.load(ring_path)
    assert loaded.users == {"admin": Role.COORDINATOR}
    with pytest.raises(WrongPassphrase):
        loaded.unlock("lin", PASS_B)
    with pytest.raises(KeyringError, match="no user"):
        ring.remove_user(keys, "lin")


def test_remove_refuses_the_last_coordinator(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    with pytest.raises(KeyringError, match="last coordinator"):
        ring.remove_user(keys, "admin")
    assert "admin" in Keyring.load(ring_path).users
    # with a second coordinator, the first may go
    ring.add_user(keys, "mei", "third passphrase", role=Role.COORDINATOR, profile=TEST_PROFILE)
    ring.remove_user(keys, "admin")
    loaded = Keyring.load(ring_path)
    assert set(loaded.users) == {"lin", "mei"}
    assert loaded.default_user() == "lin"
    assert loaded.unlock("mei", "third passphrase").master == keys.master


# -- the file -----------------------------------------------------------------------------------------
def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_file_mode_0600_after_every_write(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    assert _mode(ring_path) == 0o600
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    assert _mode(ring_path) == 0o600
    ring.change_passphrase("lin", PASS_B, "another passphrase")
    assert _mode(ring_path) == 0o600
    ring.remove_user(keys, "lin")
    assert _mode(ring_path) == 0o600


def test_atomic_writes_leave_no_temp_files(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    ring.change_passphrase("lin", PASS_B, "another passphrase")
    ring.remove_user(keys, "lin")
    assert sorted(p.name for p in ring_path.parent.iterdir()) == ["keyring.json"]


def test_failed_write_keeps_the_old_file(
    made: tuple[Keyring, NodeKeys], ring_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ring, keys = made
    before = ring_path.read_bytes()

    def broken_replace(src: object, dst: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(crypto_files.os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space"):
        ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    monkeypatch.undo()
    assert ring_path.read_bytes() == before
    assert sorted(p.name for p in ring_path.parent.iterdir()) == ["keyring.json"]


def test_file_is_versioned_json_with_public_keys(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, _ = made
    doc = _doc(ring_path)
    assert doc["format"] == "grievance-intake-keyring"
    assert doc["version"] == 1
    assert doc["node_id"] == ring.node_id
    assert doc["public"] == ring.public_keys_b64()
    entry = doc["users"]["admin"]
    assert entry["role"] == "coordinator"
    assert entry["kdf"]["alg"] == "argon2id"
    assert entry["kdf"]["profile"] == TEST_PROFILE


def test_file_never_contains_passphrase_or_master(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    raw = ring_path.read_bytes()
    master = keys.master.reveal()
    secrets = [
        PASS.encode(),
        PASS_B.encode(),
        master,
        master.hex().encode(),
        base64.b64encode(master),
        base64.b64encode(master)[:20],  # no prefix of it either
        keys.cases_db_key,
        base64.b64encode(keys.cases_db_key),
        base64.b64encode(bytes(keys.identity)),
        keys.cases_db_key.hex().encode(),
    ]
    for secret in secrets:
        assert secret not in raw


@pytest.mark.parametrize("version", [0, 2, 99, "1", None])
def test_unknown_version(made: tuple[Keyring, NodeKeys], ring_path: Path, version: object) -> None:
    doc = _doc(ring_path)
    doc["version"] = version
    _write(ring_path, doc)
    with pytest.raises(KeyringError, match="version"):
        Keyring.load(ring_path)


def test_missing_version(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    doc = _doc(ring_path)
    del doc["version"]
    _write(ring_path, doc)
    with pytest.raises(KeyringError):
        Keyring.load(ring_path)


@pytest.mark.parametrize(
    "content",
    [b"", b"not json at all", b"{", b"\xff\xfe\x00garbage", b"[]", b"42", b'"keyring"', b'{"format": "other"}'],
)
def test_not_a_keyring(ring_path: Path, content: bytes) -> None:
    ring_path.write_bytes(content)
    with pytest.raises(KeyringError, match=str(ring_path)):
        Keyring.load(ring_path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="intake init"):
        Keyring.load(tmp_path / "nothing.json")


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(KeyringError):
        Keyring.load(tmp_path)


def _drop(doc: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        doc = doc[p]
    del doc[last]


def _set(doc: dict[str, Any], dotted: str, value: Any) -> None:
    *parents, last = dotted.split(".")
    for p in parents:
        doc = doc[p]
    doc[last] = value


@pytest.mark.parametrize(
    "field",
    [
        "users",
        "node_id",
        "public",
        "public.x25519",
        "public.ed25519",
        "users.admin.role",
        "users.admin.kdf",
        "users.admin.kdf.opslimit",
        "users.admin.kdf.memlimit",
        "users.admin.kdf.profile",
        "users.admin.salt",
        "users.admin.nonce",
        "users.admin.wrapped",
    ],
)
def test_missing_fields(made: tuple[Keyring, NodeKeys], ring_path: Path, field: str) -> None:
    doc = _doc(ring_path)
    _drop(doc, field)
    _write(ring_path, doc)
    with pytest.raises(KeyringError):
        Keyring.load(ring_path)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("users", {}),
        ("users", []),
        ("users", "admin"),
        ("public", "key"),
        ("public.x25519", "not base64!"),
        ("public.x25519", base64.b64encode(b"short").decode()),
        ("public.ed25519", 12),
        ("users.admin.role", "god"),
        ("users.admin.kdf.alg", "scrypt"),
        ("users.admin.kdf.opslimit", "many"),
        ("users.admin.kdf.opslimit", 0),
        ("users.admin.kdf.memlimit", 0),
        ("users.admin.kdf.memlimit", 10**30),
        ("users.admin.salt", base64.b64encode(b"short salt").decode()),
        ("users.admin.nonce", base64.b64encode(b"n" * 12).decode()),
        ("users.admin.wrapped", "%%%"),
        ("users.admin", "entry"),
    ],
)
def test_malformed_fields(made: tuple[Keyring, NodeKeys], ring_path: Path, field: str, value: Any) -> None:
    doc = _doc(ring_path)
    _set(doc, field, value)
    _write(ring_path, doc)
    with pytest.raises(KeyringError):
        Keyring.load(ring_path).unlock("admin", PASS)


def test_bad_user_name_in_file(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    doc = _doc(ring_path)
    doc["users"]["Bad Name"] = doc["users"].pop("admin")
    _write(ring_path, doc)
    with pytest.raises(KeyringError):
        Keyring.load(ring_path)


# -- a file edited to deceive ----------------------------------------------------------------------------
def test_swapped_x25519_key_is_detected_on_unlock(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    # An attacker who can write the file wants intake to seal reports to their key.
    doc = _doc(ring_path)
    doc["public"]["x25519"] = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    _write(ring_path, doc)
    ring = Keyring.load(ring_path)
    with pytest.raises(KeyringError, match="altered"):
        ring.unlock("admin", PASS)


def test_swapped_ed25519_key_is_detected_on_unlock(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    doc = _doc(ring_path)
    doc["public"]["ed25519"] = base64.b64encode(os.urandom(32)).decode()
    _write(ring_path, doc)
    with pytest.raises(KeyringError, match="altered"):
        Keyring.load(ring_path).unlock("admin", PASS)


def test_raised_role_does_not_unlock(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.VIEWER, profile=TEST_PROFILE)
    doc = _doc(ring_path)
    doc["users"]["lin"]["role"] = "coordinator"
    _write(ring_path, doc)
    loaded = Keyring.load(ring_path)
    assert loaded.users["lin"] is Role.COORDINATOR  # the file says so ...
    with pytest.raises(WrongPassphrase):  # ... but the wrapped master is bound to "viewer"
        loaded.unlock("lin", PASS_B)
    assert loaded.unlock("admin", PASS).role is Role.COORDINATOR


def test_lowered_role_does_not_unlock(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    doc = _doc(ring_path)
    doc["users"]["admin"]["role"] = "viewer"
    _write(ring_path, doc)
    with pytest.raises(WrongPassphrase):
        Keyring.load(ring_path).unlock("admin", PASS)


def test_wrapped_entry_cannot_move_to_another_name(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    doc = _doc(ring_path)
    # lin's own entry, filed under a new name "mallory" with lin's passphrase
    doc["users"]["mallory"] = dict(doc["users"]["lin"])
    # and admin's wrapped blob (with its salt and nonce) pasted into lin's entry
    for part in ("salt", "nonce", "wrapped", "kdf"):
        doc["users"]["lin"][part] = doc["users"]["admin"][part]
    _write(ring_path, doc)
    loaded = Keyring.load(ring_path)
    with pytest.raises(WrongPassphrase):
        loaded.unlock("mallory", PASS_B)
    with pytest.raises(WrongPassphrase):
        loaded.unlock("lin", PASS)  # admin's passphrase, admin's blob, but bound to "admin"
    assert loaded.unlock("admin", PASS).master == keys.master


def test_entry_cannot_move_to_another_node(tmp_path: Path) -> None:
    a, _ = Keyring.create(tmp_path / "a.json", user="admin", passphrase=PASS, profile=TEST_PROFILE)
    Keyring.create(tmp_path / "b.json", user="admin", passphrase=PASS, profile=TEST_PROFILE)
    doc_a, doc_b = _doc(a.path), _doc(tmp_path / "b.json")
    doc_a["users"]["admin"] = doc_b["users"]["admin"]
    _write(a.path, doc_a)
    with pytest.raises(WrongPassphrase):
        Keyring.load(a.path).unlock("admin", PASS)


def test_changed_node_id_does_not_unlock(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    doc = _doc(ring_path)
    doc["node_id"] = "00" * 8
    _write(ring_path, doc)
    with pytest.raises(WrongPassphrase):
        Keyring.load(ring_path).unlock("admin", PASS)


def test_tampered_wrapped_master_does_not_unlock(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    doc = _doc(ring_path)
    wrapped = bytearray(base64.b64decode(doc["users"]["admin"]["wrapped"]))
    wrapped[0] ^= 1
    doc["users"]["admin"]["wrapped"] = base64.b64encode(bytes(wrapped)).decode()
    _write(ring_path, doc)
    with pytest.raises(WrongPassphrase):
        Keyring.load(ring_path).unlock("admin", PASS)


# -- writing secret files while others write them too (issue 12) -------------------------------------


def test_parallel_writers_of_one_private_file_all_succeed(tmp_path: Path) -> None:
    """One temp name per process made a second writer fail with FileExistsError (a 500 on the desk)."""
    import threading

    path = tmp_path / "unlock-failures"
    start = threading.Barrier(16)
    errors: list[BaseException] = []
    written = {str(n).encode() for n in range(16 * 20)}

    def write(worker: int) -> None:
        start.wait()
        for k in range(20):
            try:
                crypto_files.write_private_file(path, str(worker * 20 + k).encode())
            except BaseException as exc:  # the test reports every failure
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert path.read_bytes() in written, "the file holds one whole write, never a mix"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unlock-failures"], "no temp file left behind"


def test_a_user_stamp_changes_when_the_entry_does(made: tuple[Keyring, NodeKeys], ring_path: Path) -> None:
    ring, keys = made
    ring.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile=TEST_PROFILE)
    first = Keyring.load(ring_path).user_stamp("lin")
    assert first is not None and first == Keyring.load(ring_path).user_stamp("lin"), "stable while unchanged"
    ring.add_user(keys, "ana", PASS_B, role=Role.VIEWER, profile=TEST_PROFILE)
    assert Keyring.load(ring_path).user_stamp("lin") == first, "another user's change is not lin's"
    ring.change_passphrase("lin", PASS_B, "lin's new passphrase")
    second = Keyring.load(ring_path).user_stamp("lin")
    assert second not in (None, first)
    ring.remove_user(keys, "lin")
    assert Keyring.load(ring_path).user_stamp("lin") is None
    ring.add_user(keys, "lin", "lin's new passphrase", role=Role.CASEWORKER, profile=TEST_PROFILE)
    assert Keyring.load(ring_path).user_stamp("lin") not in (None, first, second), "added again: a new entry"


# -- KDF costs are stored per user (issue 14: the 'sensitive' profile changed) ------------------------
def test_an_entry_unlocks_with_its_stored_cost_after_the_profile_table_changes(
    ring_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small stand-ins for the old and new 'sensitive' values: the real ones take seconds and a GiB.
    old = KdfProfile("sensitive", argon2id.OPSLIMIT_MIN + 1, argon2id.MEMLIMIT_MIN * 4)
    new = KdfProfile("sensitive", argon2id.OPSLIMIT_MIN + 2, argon2id.MEMLIMIT_MIN * 2)
    monkeypatch.setitem(PROFILES, "sensitive", old)
    _ring, keys = Keyring.create(ring_path, user="admin", passphrase=PASS, profile="sensitive")
    monkeypatch.setitem(PROFILES, "sensitive", new)  # a release with other 'sensitive' values

    loaded = Keyring.load(ring_path)
    assert loaded.unlock("admin", PASS).master == keys.master  # the entry's own cost, not the table's
    loaded.add_user(keys, "lin", PASS_B, role=Role.CASEWORKER, profile="sensitive")
    kdf = _doc(ring_path)["users"]
    assert (kdf["admin"]["kdf"]["opslimit"], kdf["admin"]["kdf"]["memlimit"]) == (old.opslimit, old.memlimit)
    assert (kdf["lin"]["kdf"]["opslimit"], kdf["lin"]["kdf"]["memlimit"]) == (new.opslimit, new.memlimit)
    assert Keyring.load(ring_path).unlock("admin", PASS).master == keys.master

    # A new passphrase takes the profile's current values.
    loaded.change_passphrase("admin", PASS, PASS + " anew")
    admin = _doc(ring_path)["users"]["admin"]["kdf"]
    assert (admin["opslimit"], admin["memlimit"]) == (new.opslimit, new.memlimit)
    assert Keyring.load(ring_path).unlock("admin", PASS + " anew").master == keys.master


def test_an_entry_with_the_old_sensitive_cost_loads_and_keeps_it(
    made: tuple[Keyring, NodeKeys], ring_path: Path
) -> None:
    # libsodium's SENSITIVE (opslimit 4, 1 GiB), as 'sensitive' keyrings before issue 14 stored it.
    # Unlocking one takes seconds and a GiB: bench/bench_memory.py does, from a keyring it makes.
    doc = _doc(ring_path)
    doc["users"]["admin"]["kdf"].update(profile="sensitive", opslimit=4, memlimit=1 << 30)
    _write(ring_path, doc)
    _ring, keys = made
    loaded = Keyring.load(ring_path)
    loaded.add_user(keys, "lin", PASS_B, role=Role.VIEWER, profile=TEST_PROFILE)  # rewrites the file
    kdf = _doc(ring_path)["users"]["admin"]["kdf"]
    assert (kdf["profile"], kdf["opslimit"], kdf["memlimit"]) == ("sensitive", 4, 1 << 30)
