"""Relay envelope v1 (docs/envelope.md): the committed vectors, round trips, and every refusal."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import nacl.bindings
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import PrivateKey, PublicKey, SealedBox
from nacl.signing import SigningKey, VerifyKey

from crypto.envelope import (
    BUCKET,
    HEADER_LEN,
    MAX_ENVELOPE,
    MAX_PAYLOAD,
    NODE_KEY_PREFIX,
    PARTNER_KEY_PREFIX,
    REASONS,
    SIGNATURE_CONTEXT,
    EnvelopeError,
    Header,
    Opened,
    node_key_string,
    open_envelope,
    parse_node_key,
    parse_partner_key,
    partner_key_string,
    read_header,
    recipient_hint,
    seal,
    sign_receipt,
    verify_receipt,
)
from crypto.errors import CryptoError

VECTORS = Path(__file__).resolve().parents[1] / "vectors" / "envelope-v1"
MANIFEST: dict[str, Any] = json.loads((VECTORS / "vectors.json").read_text("utf-8"))
SEAL = nacl.bindings.crypto_box_SEALBYTES

PARTNER = PrivateKey.generate()
OTHER_PARTNER = PrivateKey.generate()
NODE = SigningKey.generate()
SECOND_NODE = SigningKey.generate()
STRANGER = SigningKey.generate()
RECEIPTS = SigningKey.generate()
SENDERS = {bytes(NODE.verify_key): "Node one", bytes(SECOND_NODE.verify_key): "Node two"}
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)

FAST = settings(max_examples=40, deadline=None)
payloads = st.binary(min_size=0, max_size=3000)


def make(payload: bytes = b"a case summary", *, sequence: int = 1, sender: SigningKey = NODE, **kw: Any) -> bytes:
    kw.setdefault("recipient", PARTNER.public_key)
    kw.setdefault("created_at", T0)
    return seal(payload, sender=sender, sequence=sequence, **kw)


def refuse(data: bytes, *, recipient: PrivateKey = PARTNER, **kw: Any) -> EnvelopeError:
    kw.setdefault("senders", SENDERS)
    with pytest.raises(EnvelopeError) as info:
        open_envelope(data, recipient=recipient, **kw)
    return info.value


def reason(data: bytes, **kw: Any) -> str:
    return refuse(data, **kw).reason


class Seen:
    """What a partner store remembers: opened (sender, sequence) pairs and envelope ids."""

    def __init__(self) -> None:
        self.pairs: set[tuple[bytes, int]] = set()
        self.ids: set[str] = set()
        self.asked: list[tuple[bytes, int, str]] = []

    def __call__(self, sender: bytes, sequence: int, envelope_id: str) -> bool:
        self.asked.append((sender, sequence, envelope_id))
        return (sender, sequence) in self.pairs or envelope_id in self.ids

    def record(self, opened: Opened) -> Opened:
        self.pairs.add((opened.sender, opened.sequence))
        self.ids.add(opened.header.envelope_id)
        return opened


# -- the committed vectors ----------------------------------------------------------------------------------
def _seed(name: str) -> bytes:
    return hashlib.sha256(MANIFEST["keys"][name]["label"].encode("utf-8")).digest()


def _vector_opener() -> tuple[PrivateKey, dict[bytes, str]]:
    opener = MANIFEST["opener"]
    recipient = PrivateKey(_seed(opener["recipient"]))
    senders = {bytes(SigningKey(_seed(k)).verify_key): name for k, name in opener["senders"].items()}
    return recipient, senders


def test_manifest_lists_every_file_and_each_outcome() -> None:
    listed = {v["file"] for v in MANIFEST["vectors"]}
    assert listed == {p.name for p in VECTORS.glob("*.envelope")}
    assert {r["file"] for r in MANIFEST["receipts"]} == {p.name for p in (VECTORS / "receipts").glob("*.json")}
    wanted = {"ok", "bad_signature", "not_for_this_key", "truncated", "replayed", "unknown_sender", "unknown_version"}
    assert wanted <= {v["expect"] for v in MANIFEST["vectors"]}
    assert {v["expect"] for v in MANIFEST["vectors"]} <= REASONS | {"ok"}


@pytest.mark.parametrize("name", sorted(MANIFEST["keys"]))
def test_manifest_keys_derive_from_their_labels(name: str) -> None:
    entry = MANIFEST["keys"][name]
    assert entry["label"].startswith("grievance-intake test vector: ")
    seed = _seed(name)
    public = bytes(PrivateKey(seed).public_key) if entry["type"] == "x25519" else bytes(SigningKey(seed).verify_key)
    assert public.hex() == entry["public_hex"]


def test_vectors_hold_no_private_key() -> None:
    seeds = [_seed(name) for name in MANIFEST["keys"]]
    blobs = [p.read_bytes() for p in VECTORS.rglob("*") if p.is_file()]
    for seed in seeds:
        for text in (seed, seed.hex().encode(), base64.b64encode(seed), base64.urlsafe_b64encode(seed).rstrip(b"=")):
            assert not any(text in blob for blob in blobs)


def test_manifest_key_strings_parse_to_the_labelled_keys() -> None:
    strings, keys = MANIFEST["key_strings"], MANIFEST["keys"]
    box, receipts = parse_partner_key(strings["partner"])
    assert bytes(box).hex() == keys["partner"]["public_hex"]
    assert bytes(receipts).hex() == keys["partner-receipts"]["public_hex"]
    for node in ("node", "second-node"):
        assert bytes(parse_node_key(strings[node])).hex() == keys[node]["public_hex"]


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["file"])
def test_vector_opens_to_its_expected_outcome(vector: dict[str, Any]) -> None:
    recipient, senders = _vector_opener()
    seen = Seen()
    for earlier in vector.get("after", []):
        seen.record(open_envelope((VECTORS / earlier).read_bytes(), recipient=recipient, senders=senders))
    if vector["expect"] == "replayed":
        assert vector["after"], "a replayed vector names the vector opened before it"
    data = (VECTORS / vector["file"]).read_bytes()
    if vector["expect"] != "ok":
        assert reason(data, recipient=recipient, senders=senders, seen=seen) == vector["expect"]
        return
    opened = open_envelope(data, recipient=recipient, senders=senders, seen=seen)
    assert opened.payload == bytes.fromhex(vector["payload_hex"])
    assert opened.header == Header(1, vector["envelope_id"], recipient_hint(recipient.public_key))
    assert opened.sender.hex() == MANIFEST["keys"][vector["sender"]]["public_hex"]
    assert opened.sender_name == MANIFEST["opener"]["senders"][vector["sender"]]
    assert opened.sequence == vector["sequence"]
    assert opened.created_at == datetime.strptime(vector["created_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert seen.asked == [(opened.sender, opened.sequence, opened.header.envelope_id)]


@pytest.mark.parametrize("vector", MANIFEST["vectors"], ids=lambda v: v["file"])
def test_vector_header_reads_as_the_manifest_says(vector: dict[str, Any]) -> None:
    data = (VECTORS / vector["file"]).read_bytes()
    if vector["read_header"] == "ok":
        header = read_header(data)
        assert header.version == 1
        if "envelope_id" in vector:
            assert header.envelope_id == vector["envelope_id"]
    else:
        with pytest.raises(EnvelopeError) as info:
            read_header(data)
        assert info.value.reason == vector["read_header"] == vector["expect"]


@pytest.mark.parametrize("item", MANIFEST["receipts"], ids=lambda r: r["file"])
def test_receipt_vectors(item: dict[str, Any]) -> None:
    key = SigningKey(_seed(item["key"])).verify_key
    data = (VECTORS / "receipts" / item["file"]).read_bytes()
    if item["expect"] == "ok":
        got = verify_receipt(data, envelope_id=item["envelope_id"], key=key)
        assert got == datetime.strptime(item["received_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    else:
        with pytest.raises(EnvelopeError) as info:
            verify_receipt(data, envelope_id=item["envelope_id"], key=key)
        assert info.value.reason == item["expect"]


# -- round trips ------------------------------------------------------------------------------------------
@FAST
@given(
    payloads,
    st.integers(min_value=1, max_value=2**64 - 1),
    st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59), timezones=st.just(UTC)),
)
def test_round_trip(payload: bytes, sequence: int, created: datetime) -> None:
    data = seal(payload, sender=NODE, recipient=PARTNER.public_key, sequence=sequence, created_at=created)
    header = read_header(data)
    opened = open_envelope(data, recipient=PARTNER, senders=SENDERS)
    assert opened.header == header
    assert (opened.payload, opened.sequence, opened.sender) == (payload, sequence, bytes(NODE.verify_key))
    assert opened.sender_name == "Node one"
    assert opened.created_at == created.replace(microsecond=0)
    assert opened.created_at.tzinfo is UTC


def test_defaults_random_id_and_the_time_is_the_callers() -> None:
    a, b = make(), make()
    ha, hb = read_header(a), read_header(b)
    assert ha.envelope_id != hb.envelope_id
    assert len(ha.envelope_id) == 32 and int(ha.envelope_id, 16) >= 0
    assert open_envelope(a, recipient=PARTNER, senders=SENDERS).created_at == T0
    with pytest.raises(ValueError, match="timezone-aware"):
        make(created_at=None)  # crypto never reads a clock: the caller passes intake.clock's time


def test_header_is_readable_text_and_names_the_recipient() -> None:
    data = make(envelope_id="0123456789abcdef0123456789abcdef")
    hint = recipient_hint(PARTNER.public_key)
    assert hint == hashlib.sha256(bytes(PARTNER.public_key)).digest()[:8]
    expected = f"grievance-intake/envelope/v1\nid 0123456789abcdef0123456789abcdef\nto {hint.hex()}\n---\n"
    assert data[:HEADER_LEN] == expected.encode()
    assert read_header(data) == Header(1, "0123456789abcdef0123456789abcdef", hint)


def test_time_is_stored_as_whole_utc_seconds() -> None:
    plus8 = timezone(timedelta(hours=8))
    data = make(created_at=datetime(2026, 11, 2, 17, 30, 5, 999_999, tzinfo=plus8))
    assert open_envelope(data, recipient=PARTNER, senders=SENDERS).created_at == datetime(
        2026, 11, 2, 9, 30, 5, tzinfo=UTC
    )


@FAST
@given(st.integers(min_value=0, max_value=3 * BUCKET))
def test_length_reveals_only_the_bucket(size: int) -> None:
    data = make(b"z" * size)
    buckets = (size + 112) // BUCKET + 1  # sender, sequence, time, signature: 112 bytes; padding >= 1
    assert len(data) == HEADER_LEN + SEAL + BUCKET * buckets


def test_payload_is_not_visible() -> None:
    data = make(b"distinctive-complaint-words " * 8)
    assert b"distinctive" not in data


def test_opened_repr_hides_the_payload() -> None:
    opened = open_envelope(make(b"distinctive-complaint-words"), recipient=PARTNER, senders=SENDERS)
    assert "distinctive" not in repr(opened)


def test_bytes_like_inputs() -> None:
    data = make(bytearray(b"abc"))
    assert open_envelope(memoryview(data), recipient=PARTNER, senders=SENDERS).payload == b"abc"
    assert read_header(bytearray(data)) == read_header(data)


# -- seal refuses bad arguments ------------------------------------------------------------------------------
@pytest.mark.parametrize("sequence", [0, -1, 2**64, True, 1.0, "1", None])
def test_seal_refuses_bad_sequence(sequence: Any) -> None:
    with pytest.raises(ValueError, match="sequence"):
        make(sequence=sequence)


@pytest.mark.parametrize(
    "created",
    [datetime(2026, 11, 2, 9, 30), datetime(1969, 12, 31, 23, 59, 59, tzinfo=UTC), "2026-11-02T09:30:00Z"],
)
def test_seal_refuses_bad_time(created: Any) -> None:
    with pytest.raises(ValueError, match="created_at"):
        make(created_at=created)


@pytest.mark.parametrize("eid", ["0123456789ABCDEF0123456789ABCDEF", "0123", "g" * 32, "0" * 33, 5])
def test_seal_refuses_bad_envelope_id(eid: Any) -> None:
    with pytest.raises(ValueError, match="envelope id"):
        make(envelope_id=eid)


@pytest.mark.parametrize("payload", ["text", 123, None])
def test_seal_refuses_non_bytes(payload: Any) -> None:
    with pytest.raises(TypeError):
        make(payload)


def test_seal_refuses_a_small_order_partner_key() -> None:
    with pytest.raises(ValueError, match="X25519"):
        make(recipient=PublicKey(bytes(32)))


def test_payload_limit_is_exact() -> None:
    biggest = make(b"\x00" * MAX_PAYLOAD)
    assert len(biggest) <= MAX_ENVELOPE
    assert open_envelope(biggest, recipient=PARTNER, senders=SENDERS).payload == b"\x00" * MAX_PAYLOAD
    with pytest.raises(EnvelopeError) as info:
        make(b"\x00" * (MAX_PAYLOAD + 1))
    assert info.value.reason == "too_large"


def test_oversize_data_is_refused_before_anything_else() -> None:
    data = make() + bytes(MAX_ENVELOPE)
    assert reason(data, recipient=OTHER_PARTNER) == "too_large"
    with pytest.raises(EnvelopeError) as info:
        read_header(b"not even an envelope" * (MAX_ENVELOPE // 20 + 1))
    assert info.value.reason == "too_large"


# -- tampering, truncation, other partners ------------------------------------------------------------------
@FAST
@given(payloads, st.data())
def test_changing_any_byte_is_refused(payload: bytes, data: st.DataObject) -> None:
    env = bytearray(make(payload))
    index = data.draw(st.integers(min_value=0, max_value=len(env) - 1), label="index")
    env[index] ^= data.draw(st.integers(min_value=1, max_value=255), label="xor")
    got = reason(bytes(env))
    if index >= HEADER_LEN:
        assert got == "altered"
    else:
        assert got in {"malformed", "unknown_version", "not_for_this_key", "bad_signature"}


@FAST
@given(payloads, st.data())
def test_cutting_anywhere_is_refused(payload: bytes, data: st.DataObject) -> None:
    env = make(payload)
    keep = data.draw(st.integers(min_value=0, max_value=len(env) - 1), label="keep")
    body = keep - HEADER_LEN
    if body < SEAL + BUCKET:
        expected = "truncated"
    elif (body - SEAL) % BUCKET:
        expected = "malformed"
    else:
        expected = "altered"  # a whole bucket shorter: the length is plausible, the box does not open
    assert reason(env[:keep]) == expected


@FAST
@given(payloads, st.binary(min_size=1, max_size=600))
def test_appended_bytes_are_refused(payload: bytes, extra: bytes) -> None:
    assert reason(make(payload) + extra) == ("altered" if len(extra) % BUCKET == 0 else "malformed")


def test_other_partner_cannot_open() -> None:
    err = refuse(make(), recipient=OTHER_PARTNER)
    assert err.reason == "not_for_this_key"
    assert recipient_hint(PARTNER.public_key).hex() in str(err)


def test_forged_hint_but_sealed_to_another_is_altered() -> None:
    sealed_elsewhere = make(recipient=OTHER_PARTNER.public_key)
    ours = make()  # same layout, addressed to us
    assert reason(ours[:HEADER_LEN] + sealed_elsewhere[HEADER_LEN:]) == "altered"


def test_header_body_swap_between_envelopes_fails() -> None:
    a, b = make(b"first", sequence=1), make(b"second", sequence=2)
    assert reason(a[:HEADER_LEN] + b[HEADER_LEN:]) == "bad_signature"
    assert reason(b[:HEADER_LEN] + a[HEADER_LEN:]) == "bad_signature"


def test_changed_envelope_id_fails_the_signature() -> None:
    env = make(envelope_id="a" * 32)
    assert reason(env.replace(b"a" * 32, b"b" * 32, 1)) == "bad_signature"


def test_resealing_a_signed_body_to_another_partner_fails() -> None:
    # The other partner opens what was sealed to it and re-seals the signed contents to us under a
    # header addressed to us: the signature covers the header and the intended partner's key.
    original = make(recipient=OTHER_PARTNER.public_key, envelope_id="c" * 32)
    padded = SealedBox(OTHER_PARTNER).decrypt(original[HEADER_LEN:])
    ours = make(envelope_id="c" * 32)
    assert reason(ours[:HEADER_LEN] + SealedBox(PARTNER.public_key).encrypt(padded)) == "bad_signature"


def test_unknown_sender() -> None:
    err = refuse(make(sender=STRANGER))
    assert err.reason == "unknown_sender"
    assert node_key_string(STRANGER.verify_key) in str(err)
    assert reason(make(sender=NODE), senders={}) == "unknown_sender"


def test_claiming_a_known_key_without_its_secret_fails() -> None:
    inner = bytes(NODE.verify_key) + (1).to_bytes(8, "big") + (0).to_bytes(8, "big") + b"forged"
    head = make()[:HEADER_LEN]
    signature = STRANGER.sign(SIGNATURE_CONTEXT + head + bytes(PARTNER.public_key) + inner).signature
    body = SealedBox(PARTNER.public_key).encrypt(nacl.bindings.sodium_pad(inner + signature, BUCKET))
    assert reason(head + body) == "bad_signature"


def test_signature_needs_the_domain_prefix() -> None:
    inner = bytes(NODE.verify_key) + (1).to_bytes(8, "big") + (0).to_bytes(8, "big") + b"x"
    head = make()[:HEADER_LEN]
    signature = NODE.sign(head + bytes(PARTNER.public_key) + inner).signature  # no SIGNATURE_CONTEXT
    body = SealedBox(PARTNER.public_key).encrypt(nacl.bindings.sodium_pad(inner + signature, BUCKET))
    assert reason(head + body) == "bad_signature"


def test_inner_layout_is_checked_before_the_sender() -> None:
    head = make()[:HEADER_LEN]
    short = SealedBox(PARTNER.public_key).encrypt(nacl.bindings.sodium_pad(b"\x01" * 100, BUCKET))
    assert reason(head + short) == "malformed"
    unpadded = SealedBox(PARTNER.public_key).encrypt(b"\x00" * BUCKET)
    assert reason(head + unpadded) == "malformed"


# -- replay -------------------------------------------------------------------------------------------------
def test_replay_by_id_and_by_sequence() -> None:
    seen = Seen()
    first = make(b"one", sequence=1)
    opened = seen.record(open_envelope(first, recipient=PARTNER, senders=SENDERS, seen=seen))
    assert seen.asked == [(bytes(NODE.verify_key), 1, opened.header.envelope_id)]
    assert reason(first, seen=seen) == "replayed"  # delivered again
    assert reason(make(b"two", sequence=1), seen=seen) == "replayed"  # same sender and sequence, new id
    same_id = make(b"three", sequence=9, envelope_id=opened.header.envelope_id)
    assert reason(same_id, seen=seen) == "replayed"
    # Per sender: another node's sequence 1 is new; a gap (1 then 5) is not an error.
    seen.record(open_envelope(make(sender=SECOND_NODE, sequence=1), recipient=PARTNER, senders=SENDERS, seen=seen))
    assert open_envelope(make(sequence=5), recipient=PARTNER, senders=SENDERS, seen=seen).sequence == 5


def test_seen_is_asked_only_after_the_signature_verifies() -> None:
    seen = Seen()
    a, b = make(b"first", sequence=1), make(b"second", sequence=2)
    for bad in (a[:HEADER_LEN] + b[HEADER_LEN:], make(sender=STRANGER), a[:-1]):
        refuse(bad, seen=seen)
    assert seen.asked == []


# -- errors -------------------------------------------------------------------------------------------------
def _all_failures(payload: bytes) -> list[EnvelopeError]:
    env = make(payload, envelope_id="d" * 32)
    other = make(payload, sequence=2)
    seen = Seen()
    seen.record(open_envelope(env, recipient=PARTNER, senders=SENDERS))
    failures = [
        refuse(env[:50]),
        refuse(env.replace(b"/v1\n", b"/v7\n", 1)),
        refuse(env.replace(b"d" * 32, b"D" * 32, 1)),
        refuse(env, recipient=OTHER_PARTNER),
        refuse(env[:-1] + bytes([env[-1] ^ 1])),
        refuse(make(payload, sender=STRANGER)),
        refuse(other[:HEADER_LEN] + env[HEADER_LEN:]),
        refuse(env, seen=seen),
        refuse(env + bytes(MAX_ENVELOPE)),
    ]
    return failures


def test_every_reason_has_a_clear_message_without_payload() -> None:
    payload = b"distinctive-complaint-words"
    failures = _all_failures(payload)
    assert {e.reason for e in failures} == REASONS
    for err in failures:
        text = str(err)
        assert text and "\n" not in text and len(text) < 300
        assert "distinctive" not in text and payload.hex() not in text
        assert isinstance(err, CryptoError)
        assert err.__cause__ is None


def test_error_knows_the_envelope_id_once_the_header_was_read() -> None:
    env = make(envelope_id="e" * 32)
    assert refuse(env, recipient=OTHER_PARTNER).envelope_id == "e" * 32
    assert refuse(env[:40]).envelope_id is None


def test_unknown_reason_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        EnvelopeError("whatever")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"", "truncated"),
        (b"grievance-intake/env", "truncated"),
        (b"grievance-intake/envelope/v", "truncated"),
        (b"grievance-intake/envelope/v1", "truncated"),
        (b"grievance-intake/envelope/v1\nid 01", "truncated"),
        (b"grievance-intake/envelope/v1\nid 0X", "malformed"),
        (b"grievance-intake/envelope/x1\n", "malformed"),
        (b"grievance-intake/envelope/v0\n" + bytes(400), "malformed"),
        (b"grievance-intake/envelope/v1 \n" + bytes(400), "malformed"),
        (b"grievance-intake/envelope/v12345678901\n", "malformed"),
        (b"grievance-intake/envelope/v2\n", "unknown_version"),
        (b"grievance-intake/envelope/v999999999\nanything", "unknown_version"),
        (b"GRIEVANCE-INTAKE/envelope/v1\n", "malformed"),
        (b"\xef\xbb\xbfgrievance-intake/envelope/v1\n", "malformed"),
    ],
)
def test_header_grammar(data: bytes, expected: str) -> None:
    with pytest.raises(EnvelopeError) as info:
        read_header(data)
    assert info.value.reason == expected


@pytest.mark.parametrize(
    "edit",
    [
        lambda h: h.replace(b"\nto ", b"\nTo ", 1),
        lambda h: h.replace(b"\n---\n", b"\n--- \n", 1)[:HEADER_LEN],
        lambda h: h.replace(b"id ", b"id  ", 1)[:HEADER_LEN],
        lambda h: h[:-1] + b"\r",
    ],
)
def test_header_lines_are_exact(edit: Callable[[bytes], bytes]) -> None:
    env = make()
    head = edit(env[:HEADER_LEN])
    assert len(head) == HEADER_LEN
    assert reason(head + env[HEADER_LEN:]) == "malformed"


@FAST
@given(st.data())
def test_quick_header_read_takes_exactly_what_the_full_grammar_takes(data: st.DataObject) -> None:
    # read_header/open_envelope read a well-formed v1 header with one comparison and one match
    # (issue 14); the long path, which names what is wrong, must agree on every header.
    from crypto import envelope

    env = make()
    head = bytearray(env[:HEADER_LEN])
    for _ in range(data.draw(st.integers(min_value=0, max_value=2), label="edits")):
        index = data.draw(st.integers(min_value=0, max_value=HEADER_LEN - 1), label="index")
        head[index] = data.draw(st.sampled_from(b"01v9afgx-\n :id"), label="byte")
    raw = bytes(head) + env[HEADER_LEN:]
    try:
        got: Header | None = envelope._parse(raw)[0]
    except EnvelopeError:
        got = None
    try:
        envelope_id, hint = envelope._parse_slow(raw).groups()
        expected: Header | None = Header(1, envelope_id.decode("ascii"), bytes.fromhex(hint.decode("ascii")))
    except EnvelopeError:
        expected = None
    assert got == expected


@pytest.mark.parametrize("data", ["text", None, 12])
def test_non_bytes_are_a_type_error(data: Any) -> None:
    with pytest.raises(TypeError):
        read_header(data)
    with pytest.raises(TypeError):
        open_envelope(data, recipient=PARTNER, senders=SENDERS)


# -- receipts -----------------------------------------------------------------------------------------------
EID = "0f" * 16


def test_receipt_round_trip() -> None:
    when = datetime(2026, 11, 2, 9, 31, 5, 123456, tzinfo=timezone(timedelta(hours=-6)))
    receipt = sign_receipt(EID, key=RECEIPTS, received_at=when)
    assert len(receipt) < 300
    doc = json.loads(receipt)
    assert doc["envelope_id"] == EID and doc["received_at"] == "2026-11-02T15:31:05Z"
    assert verify_receipt(receipt, envelope_id=EID, key=RECEIPTS.verify_key) == datetime(
        2026, 11, 2, 15, 31, 5, tzinfo=UTC
    )


def test_receipt_time_is_the_callers_to_the_second() -> None:
    when = T0 + timedelta(days=3650, microseconds=900_000)
    got = verify_receipt(sign_receipt(EID, key=RECEIPTS, received_at=when), envelope_id=EID, key=RECEIPTS.verify_key)
    assert got == when.replace(microsecond=0)


def test_receipt_for_another_envelope_or_from_another_key_fails() -> None:
    receipt = sign_receipt(EID, key=RECEIPTS, received_at=T0)
    for kwargs in ({"envelope_id": "1" * 32, "key": RECEIPTS.verify_key}, {"envelope_id": EID, "key": NODE.verify_key}):
        with pytest.raises(EnvelopeError) as info:
            verify_receipt(receipt, **kwargs)
        assert info.value.reason == "bad_signature"


def _resign(doc: dict[str, Any]) -> bytes:
    return json.dumps(doc).encode()


def _edited(**changes: Any) -> bytes:
    doc = json.loads(sign_receipt(EID, key=RECEIPTS, received_at=T0))
    doc.update(changes)
    return _resign({k: v for k, v in doc.items() if v is not None})


@pytest.mark.parametrize(
    "receipt",
    [
        b"",
        b"not json",
        b"[]",
        b"\xff\xfe",
        _edited(note="extra"),
        _edited(signature=None),
        _edited(receipt="grievance-intake/receipt/v2"),
        _edited(envelope_id=EID.upper()),
        _edited(received_at="2026-11-02T09:30:00+00:00"),
        _edited(received_at="2026-02-30T09:30:00Z"),
        _edited(received_at="２０２６-11-02T09:30:00Z"),
        _edited(received_at=1793611800),
        _edited(signature="A" * 85),
        _edited(signature="A" * 85 + "B"),  # non-zero unused bits: not canonical
        _edited(signature="+" * 86),
        b'{"receipt":"grievance-intake/receipt/v1","receipt":"x","envelope_id":"'
        + EID.encode()
        + b'","received_at":"2026-11-02T09:30:00Z","signature":"'
        + b"A" * 86
        + b'"}',
        b" " * 2000,
    ],
)
def test_malformed_receipts(receipt: bytes) -> None:
    with pytest.raises(EnvelopeError) as info:
        verify_receipt(receipt, envelope_id=EID, key=RECEIPTS.verify_key)
    assert info.value.reason == "malformed"


def test_receipt_whitespace_does_not_matter_but_fields_do() -> None:
    doc = json.loads(sign_receipt(EID, key=RECEIPTS, received_at=T0))
    assert verify_receipt(json.dumps(doc, indent=2).encode(), envelope_id=EID, key=RECEIPTS.verify_key) == T0
    doc["received_at"] = "2026-11-02T09:30:01Z"
    with pytest.raises(EnvelopeError) as info:
        verify_receipt(_resign(doc), envelope_id=EID, key=RECEIPTS.verify_key)
    assert info.value.reason == "bad_signature"


def test_sign_receipt_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError):
        sign_receipt("nope", key=RECEIPTS, received_at=T0)
    with pytest.raises(ValueError):
        sign_receipt(EID, key=RECEIPTS, received_at=datetime(2026, 1, 1))


# -- key strings --------------------------------------------------------------------------------------------
@FAST
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_key_strings_round_trip(box_seed: bytes, sign_seed: bytes) -> None:
    box, receipts = PrivateKey(box_seed).public_key, SigningKey(sign_seed).verify_key
    text = partner_key_string(box, receipts)
    assert text.startswith(PARTNER_KEY_PREFIX) and len(text) == len(PARTNER_KEY_PREFIX) + 86
    assert parse_partner_key(text) == (box, receipts)
    assert parse_partner_key(f"  {text}\n") == (box, receipts)
    node = node_key_string(receipts)
    assert node.startswith(NODE_KEY_PREFIX) and len(node) == len(NODE_KEY_PREFIX) + 43
    assert parse_node_key(node) == receipts
    assert parse_node_key(node + "\r\n") == receipts


PARTNER_STRING = partner_key_string(PARTNER.public_key, RECEIPTS.verify_key)
NODE_STRING = node_key_string(NODE.verify_key)


def _non_canonical_tail(text: str, size: int) -> str:
    """A body of the right length whose last character has non-zero unused bits."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    assert len(raw) == size
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    return text[:-1] + alphabet[alphabet.index(text[-1]) + 1]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (NODE_STRING, "node key"),
        ("INTAKE-PARTNER1:" + PARTNER_STRING[len(PARTNER_KEY_PREFIX) :], "starts with"),
        ("intake-partner2:" + PARTNER_STRING[len(PARTNER_KEY_PREFIX) :], "starts with"),
        (PARTNER_STRING[len(PARTNER_KEY_PREFIX) :], "starts with"),
        (PARTNER_STRING[:-1], "86 characters"),
        (PARTNER_STRING + "A", "86 characters"),
        (PARTNER_STRING + "==", "characters"),
        (PARTNER_STRING[:30] + "+" + PARTNER_STRING[31:], "characters"),
        (PARTNER_STRING[:30] + "/" + PARTNER_STRING[31:], "characters"),
        (PARTNER_STRING[:30] + " " + PARTNER_STRING[31:], "characters"),
        (PARTNER_STRING[:30] + "é" + PARTNER_STRING[31:], "characters"),
        (PARTNER_STRING[:-1] + "\x00", "characters"),
        (PARTNER_KEY_PREFIX + _non_canonical_tail(PARTNER_STRING[len(PARTNER_KEY_PREFIX) :], 64), "last character"),
        (partner_key_string(PublicKey(bytes(32)), RECEIPTS.verify_key), "X25519"),
        (partner_key_string(PARTNER.public_key, VerifyKey(bytes(32))), "Ed25519"),
        ("", "starts with"),
    ],
    ids=lambda value: "",  # the keys are random per process: ids by position, the same in every xdist worker
)
def test_bad_partner_keys(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_partner_key(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PARTNER_STRING, "partner key"),
        ("intake-node2:" + NODE_STRING[len(NODE_KEY_PREFIX) :], "starts with"),
        ("intake-node1 " + NODE_STRING[len(NODE_KEY_PREFIX) :], "starts with"),
        (NODE_STRING[:-2], "43 characters"),
        (NODE_STRING + "AAAA", "43 characters"),
        (NODE_STRING[:-1] + ".", "characters"),
        (NODE_KEY_PREFIX + _non_canonical_tail(NODE_STRING[len(NODE_KEY_PREFIX) :], 32), "last character"),
        (node_key_string(VerifyKey(bytes(32))), "Ed25519"),
    ],
    ids=lambda value: "",  # random keys: ids by position, the same in every xdist worker
)
def test_bad_node_keys(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_node_key(text)


def test_key_parsers_refuse_non_text() -> None:
    for parse in (parse_partner_key, parse_node_key):
        with pytest.raises(ValueError):
            parse(PARTNER_STRING.encode())  # type: ignore[arg-type]


def test_a_node_key_string_is_what_the_opener_maps() -> None:
    senders = {bytes(parse_node_key(node_key_string(NODE.verify_key))): "from the string"}
    opened = open_envelope(make(), recipient=PARTNER, senders=senders)
    assert (opened.sender, opened.sender_name) == (bytes(NODE.verify_key), "from the string")


# -- the spec and the vectors' README keep up -----------------------------------------------------------------
DOCS = Path(__file__).resolve().parents[2] / "docs" / "envelope.md"


def test_readme_lists_every_label() -> None:
    readme = (VECTORS / "README.md").read_text("utf-8")
    for name, entry in MANIFEST["keys"].items():
        assert f"| `{name}` | {entry['type']} | `{entry['label']}` |" in readme


def test_spec_examples_are_the_vectors() -> None:
    spec = DOCS.read_text("utf-8")
    header = (VECTORS / "01-ok.envelope").read_bytes()[:HEADER_LEN].decode("ascii")
    assert f"```\n{header}```" in spec
    receipt = (VECTORS / "receipts" / "receipt-01-ok.json").read_text("utf-8")
    assert receipt in spec
    assert f"`{MANIFEST['key_strings']['node']}`" in spec
    assert f"The header of version 1 is always exactly {HEADER_LEN} bytes." in spec
    assert f"largest payload {MAX_PAYLOAD:,}" in spec
    assert f"The first {len(SIGNATURE_CONTEXT)} bytes are a domain-separation prefix" in spec
