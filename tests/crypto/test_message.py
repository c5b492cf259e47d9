"""Partner messages (docs/envelope.md#messages): the committed vectors, round trips, every refusal."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey
from nacl.signing import SigningKey

from crypto.envelope import REASONS, EnvelopeError, open_envelope, parse_node_key, parse_partner_key, seal
from crypto.message import (
    MAX_MESSAGE,
    MAX_MESSAGE_PAYLOAD,
    MESSAGE_HEADER_LEN,
    node_box_key,
    open_message,
    read_message_header,
    seal_message,
    sign_fetch,
    verify_fetch,
)
from crypto.push import sign_push, verify_push

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "message-v1"
MANIFEST: dict[str, Any] = json.loads((VECTORS / "vectors.json").read_text("utf-8"))

PARTNER = SigningKey.generate()  # the partner's receipt key
OTHER = SigningKey.generate()
STRANGER = SigningKey.generate()
NODE = SigningKey.generate()
SECOND_NODE = SigningKey.generate()
SENDERS = {bytes(PARTNER.verify_key): "Monitor", bytes(OTHER.verify_key): "Second monitor"}
T0 = datetime(2026, 11, 3, 14, 0, tzinfo=UTC)
FAST = settings(max_examples=40, deadline=None)


def make(
    payload: bytes = b'{"kind":"question"}', *, sequence: int = 1, sender: SigningKey = PARTNER, **kw: Any
) -> bytes:
    kw.setdefault("recipient", NODE.verify_key)
    kw.setdefault("created_at", T0)
    return seal_message(payload, sender=sender, sequence=sequence, **kw)


def reason(data: bytes, *, recipient: SigningKey = NODE, **kw: Any) -> str:
    kw.setdefault("senders", SENDERS)
    with pytest.raises(EnvelopeError) as info:
        open_message(data, recipient=recipient, **kw)
    return info.value.reason


def _seed(name: str) -> bytes:
    return hashlib.sha256(MANIFEST["keys"][name]["label"].encode("utf-8")).digest()


# -- the committed vectors ----------------------------------------------------------------------------------
def test_manifest_lists_every_file_and_each_outcome() -> None:
    assert {v["file"] for v in MANIFEST["vectors"]} == {p.name for p in VECTORS.glob("*.message")}
    wanted = {"ok", "bad_signature", "not_for_this_key", "truncated", "replayed", "unknown_sender", "unknown_version"}
    assert wanted | {"altered", "malformed"} <= {v["expect"] for v in MANIFEST["vectors"]} <= REASONS | {"ok"}


def test_vector_keys_derive_from_their_labels_and_hold_no_secret() -> None:
    for name, entry in MANIFEST["keys"].items():
        assert bytes(SigningKey(_seed(name)).verify_key).hex() == entry["public_hex"]
    for name, box in MANIFEST["node_box_hex"].items():
        assert bytes(node_box_key(SigningKey(_seed(name)).verify_key)).hex() == box
        assert bytes(SigningKey(_seed(name)).to_curve25519_private_key().public_key).hex() == box
    blobs = [p.read_bytes() for p in VECTORS.rglob("*") if p.is_file()]
    for seed in map(_seed, MANIFEST["keys"]):
        for text in (seed, seed.hex().encode(), base64.b64encode(seed), base64.urlsafe_b64encode(seed).rstrip(b"=")):
            assert not any(text in blob for blob in blobs)


def test_vector_key_strings_carry_the_keys_both_directions_use() -> None:
    strings, keys = MANIFEST["key_strings"], MANIFEST["keys"]
    assert bytes(parse_node_key(strings["node"])).hex() == keys["node"]["public_hex"]
    for name in ("partner-receipts", "other-receipts"):
        _box, receipts = parse_partner_key(strings[name])
        assert bytes(receipts).hex() == keys[name]["public_hex"]
    envelope_manifest = json.loads((VECTORS.parent / "envelope-v1" / "vectors.json").read_text("utf-8"))
    assert envelope_manifest["key_strings"]["partner"] == strings["partner-receipts"], "the same test partner"
    assert envelope_manifest["key_strings"]["node"] == strings["node"], "the same test node"


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["file"])
def test_vector_opens_to_its_expected_outcome(vector: dict[str, Any]) -> None:
    opener = MANIFEST["opener"]
    recipient = SigningKey(_seed(opener["recipient"]))
    senders = {bytes(SigningKey(_seed(k)).verify_key): n for k, n in opener["senders"].items()}
    opened_before: set[tuple[bytes, int]] = set()
    ids: set[str] = set()
    for earlier in vector.get("after", []):
        o = open_message((VECTORS / earlier).read_bytes(), recipient=recipient, senders=senders)
        opened_before.add((o.sender, o.sequence))
        ids.add(o.header.envelope_id)
    asked: list[tuple[bytes, int, str]] = []

    def seen(sender: bytes, sequence: int, message_id: str) -> bool:
        asked.append((sender, sequence, message_id))
        return (sender, sequence) in opened_before or message_id in ids

    data = (VECTORS / vector["file"]).read_bytes()
    if vector["expect"] != "ok":
        assert reason(data, recipient=recipient, senders=senders, seen=seen) == vector["expect"]
        return
    opened = open_message(data, recipient=recipient, senders=senders, seen=seen)
    assert opened.payload == bytes.fromhex(vector["payload_hex"])
    assert opened.header.envelope_id == vector["message_id"]
    assert opened.sender.hex() == MANIFEST["keys"][vector["sender"]]["public_hex"]
    assert opened.sequence == vector["sequence"]
    assert opened.created_at == datetime.strptime(vector["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert asked == [(opened.sender, opened.sequence, opened.header.envelope_id)]


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["file"])
def test_vector_header_reads_as_the_manifest_says(vector: dict[str, Any]) -> None:
    data = (VECTORS / vector["file"]).read_bytes()
    if vector["read_header"] == "ok":
        assert read_message_header(data).version == 1
        return
    with pytest.raises(EnvelopeError) as info:
        read_message_header(data)
    assert info.value.reason == vector["read_header"] == vector["expect"]


# -- round trips and refusals -----------------------------------------------------------------------------
@FAST
@given(st.binary(max_size=3000), st.integers(min_value=1, max_value=2**64 - 1))
def test_round_trip(payload: bytes, sequence: int) -> None:
    data = make(payload, sequence=sequence)
    header = read_message_header(data)
    assert header.recipient_hint == hashlib.sha256(bytes(node_box_key(NODE.verify_key))).digest()[:8]
    opened = open_message(data, recipient=NODE, senders=SENDERS)
    assert (opened.payload, opened.sequence, opened.sender_name, opened.created_at) == (
        payload,
        sequence,
        "Monitor",
        T0,
    )
    assert len(data) == MESSAGE_HEADER_LEN + 48 + 256 * ((112 + len(payload)) // 256 + 1)


@pytest.mark.parametrize("hours", [-30, -3, 0, 3, 30])
def test_the_partners_clock_is_told_not_trusted(hours: int) -> None:
    """A partner clock hours ahead or behind opens the same: created_at is information, never a gate."""
    when = T0 + timedelta(hours=hours)
    assert open_message(make(created_at=when), recipient=NODE, senders=SENDERS).created_at == when


def test_only_the_addressed_node_opens_it() -> None:
    data = make()
    assert reason(data, recipient=SECOND_NODE) == "not_for_this_key"
    assert reason(make(recipient=SECOND_NODE.verify_key)) == "not_for_this_key"


def test_every_changed_byte_is_refused() -> None:
    data = make(b"x" * 300)
    for index in range(0, len(data), 7):
        changed = bytearray(data)
        changed[index] ^= 0x40
        with pytest.raises(EnvelopeError):
            open_message(bytes(changed), recipient=NODE, senders=SENDERS)


def test_cut_or_padded_is_refused() -> None:
    data = make()
    for size in (0, 10, 27, 60, MESSAGE_HEADER_LEN, MESSAGE_HEADER_LEN + 100, len(data) - 1):
        assert reason(data[:size]) in {"truncated", "malformed"}
    assert reason(data + b"\n") == "malformed"
    assert reason(data + bytes(256)) == "altered"


def test_unknown_and_forged_senders() -> None:
    assert reason(make(sender=STRANGER)) == "unknown_sender"
    assert reason(make(), senders={}) == "unknown_sender"
    assert open_message(make(sender=OTHER), recipient=NODE, senders=SENDERS).sender_name == "Second monitor"


def test_replay_is_checked_last_and_by_the_caller() -> None:
    data = make(sequence=9)
    assert reason(data, seen=lambda s, n, i: n == 9) == "replayed"
    assert reason(data + b"\n", seen=lambda s, n, i: True) == "malformed", "a broken message never reaches seen()"


def test_size_cap() -> None:
    assert len(make(b"y" * MAX_MESSAGE_PAYLOAD)) <= MAX_MESSAGE
    with pytest.raises(EnvelopeError) as info:
        make(b"y" * (MAX_MESSAGE_PAYLOAD + 1))
    assert info.value.reason == "too_large"
    assert reason(make() + bytes(MAX_MESSAGE)) == "too_large"


def test_the_two_directions_do_not_mix() -> None:
    """An envelope is no message and a message no envelope, even between the same two parties."""
    partner_box = PrivateKey.generate()
    envelope = seal(b"summary", sender=NODE, recipient=partner_box.public_key, sequence=1, created_at=T0)
    assert reason(envelope) == "malformed"
    with pytest.raises(EnvelopeError) as info:
        open_envelope(make(), recipient=partner_box, senders={bytes(PARTNER.verify_key): "Monitor"})
    assert info.value.reason == "malformed"


def test_fetch_signature_is_its_own() -> None:
    body = b'{"ack":[]}'
    proof = sign_fetch(body, key=NODE)
    assert verify_fetch(body, proof, key=NODE.verify_key)
    assert not verify_fetch(body + b" ", proof, key=NODE.verify_key)
    assert not verify_fetch(body, proof, key=SECOND_NODE.verify_key)
    assert not verify_fetch(body, "not base64", key=NODE.verify_key)
    assert not verify_push(body, proof, key=NODE.verify_key), "a fetch proof is no push proof"
    assert not verify_fetch(body, sign_push(body, key=NODE), key=NODE.verify_key), "nor the other way"


@pytest.mark.parametrize("bad", [0, -1, 2**64, True, "1"])
def test_seal_refuses_bad_arguments(bad: Any) -> None:
    with pytest.raises((ValueError, TypeError)):
        make(sequence=bad)
    with pytest.raises((ValueError, TypeError)):
        make(created_at=datetime(2026, 1, 1))  # naive
    with pytest.raises(ValueError):
        make(message_id="ABC")
