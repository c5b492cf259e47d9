"""intake/panic.py on a real node: what panic destroys, what it keeps, and a drain it interrupts."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from crypto import Keyring
from crypto.errors import KeyringDestroyed
from intake.drain import drain
from intake.errors import InvalidInput
from intake.node import IntakeKeys, open_cases
from intake.panic import is_duress, panic, panicked_at, set_duress
from intake.store.inbox import Inbox
from tests.conftest import PASSPHRASE, TEST_PROFILE, Node, make_node
from tests.intake.desk import report


def test_panic_overwrites_in_place_and_keeps_only_public_keys(node: Node) -> None:
    home = node.home
    (home / "settings.toml").write_text('twilio_auth_token = "secret-token-123"\n')
    set_duress(node.settings, "duress words here", profile=TEST_PROFILE)
    # Hard links see the old inode: what an in-place overwrite must reach, not only the name.
    old_key, old_settings = home / "old-key-link", home / "old-settings-link"
    os.link(node.settings.intake_key_path, old_key)
    os.link(home / "settings.toml", old_settings)
    public = Keyring.load(node.settings.keyring_path).public_keys_b64()
    before_key = old_key.read_bytes()

    result = panic(node.settings)

    assert not result.already
    assert set(result.destroyed) == {"keyring.json", "intake.key", "settings.toml", "duress.json"}
    assert old_key.read_bytes() != before_key and len(old_key.read_bytes()) == len(before_key)
    assert b"secret-token-123" not in old_settings.read_bytes()
    for name in ("intake.key", "settings.toml", "duress.json"):
        assert not (home / name).exists()
    with pytest.raises(KeyringDestroyed):
        Keyring.load(node.settings.keyring_path)
    assert b'"wrapped"' not in node.settings.keyring_path.read_bytes()
    assert public["x25519"].encode() in node.settings.keyring_path.read_bytes()
    assert panicked_at(home) == result.at
    assert (home / "cases.db").exists() and (home / "inbox.db").exists()  # stores stay, their keys go


def test_panic_twice_and_a_cut_off_panic_is_finished(node: Node) -> None:
    first = panic(node.settings)
    again = panic(node.settings)
    assert again.already and again.at == first.at and again.destroyed == ()
    # A panic cut off after its marker: whatever was left is destroyed by the next run.
    other = make_node(node.home.parent / "other")
    (other.home / "panicked").write_text("2030-01-01T00:00:00Z\n")
    finished = panic(other.settings)
    assert not finished.already and "keyring.json" in finished.destroyed and finished.at == "2030-01-01T00:00:00Z"


def test_panic_during_a_drain_ends_it_cleanly(node: Node) -> None:
    """The panic lands between two batches: the first is committed and acknowledged, nothing of
    the second begun, the store closes sound, the rest waits (sealed) in the inbox."""
    for n in range(6):
        report(node, f"Synthetic report number {n}: the canteen food is spoiled.")
    inbox_key = IntakeKeys.load(node.settings.intake_key_path).inbox_db.reveal()
    inbox = Inbox(node.settings.inbox_path, inbox_key)
    cases = open_cases(node.settings, node.keys)
    panics: list[str] = []

    def after_batch(_stored: int) -> None:
        if not panics:
            panics.append(panic(node.settings).at)

    try:
        result = drain(
            inbox, cases, node.keys, batch=2, progress=after_batch, stop=lambda: panicked_at(node.home) is not None
        )
    finally:
        inbox.close()
        cases.close()
    assert panics and result.stopped and result.cases == 2
    # Checked with keys held from before the panic (as a seizer could not): nothing half-written.
    cases = open_cases(node.settings, node.keys)
    try:
        assert cases.count() == 2 and cases.check() == []
    finally:
        cases.close()
    inbox = Inbox(node.settings.inbox_path, inbox_key)
    try:
        assert inbox.count() == 4
    finally:
        inbox.close()


def test_duress_verifier(node: Node) -> None:
    with pytest.raises(InvalidInput):
        set_duress(node.settings, PASSPHRASE, profile=TEST_PROFILE)
    assert not is_duress(node.settings, "anything at all")  # none set
    set_duress(node.settings, "duress words here", profile=TEST_PROFILE)
    assert is_duress(node.settings, "duress words here")
    assert not is_duress(node.settings, PASSPHRASE)
    (node.home / "duress.json").write_text("{broken")
    assert not is_duress(node.settings, "duress words here")  # a broken file never panics anyone


def test_no_node_no_panic(tmp_path: Path) -> None:
    from intake.errors import NodeError
    from intake.settings import Settings

    with pytest.raises(NodeError):
        panic(Settings.load(tmp_path / "nothing", env={}))
