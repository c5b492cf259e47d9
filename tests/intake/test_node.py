"""The node home (init, key files, unlock with growing delay) and the drain into cases.db."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from nacl.public import PrivateKey

from crypto import CannotOpen, NodeKeys, WrongPassphrase, seal_item
from crypto.fields import decrypt_field
from crypto.keyring import CASES_DB
from intake.domain import Channel, FollowUp, Report
from intake.drain import drain, reporter_link
from intake.errors import NodeError, StoreError
from intake.node import (
    MAX_DELAY,
    IntakeKeys,
    failure_delay,
    init_node,
    load_keyring,
    open_cases,
    open_inbox,
    unlock,
)
from intake.receipts import ReceiptCode
from intake.services import IntakeService, accept_followup, accept_report, normalize_phone
from intake.settings import Settings
from intake.store.cases import CasesStore
from intake.store.inbox import Inbox
from tests.conftest import PASSPHRASE, TEST_PROFILE, USER, Node, make_node


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# init_node fsyncs every file it makes; most tests here get a copy of one node made per module.
@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Node:
    return make_node(tmp_path_factory.mktemp("template") / "node")


@pytest.fixture
def node(template: Node, tmp_path: Path) -> Node:
    home = tmp_path / "node"
    shutil.copytree(template.home, home)
    return Node(Settings.load(home, env={}, rate_limit_per_minute=0), template.keys)


@pytest.fixture(scope="module")
def other_keys(tmp_path_factory: pytest.TempPathFactory) -> NodeKeys:
    """The keys of a second, unrelated node."""
    return make_node(tmp_path_factory.mktemp("other") / "node").keys


# -- init ------------------------------------------------------------------------------------------
def test_init_node_creates_a_private_home(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    home = node.home
    assert _mode(home) == 0o700
    assert _mode(node.settings.keyring_path) == 0o600
    assert _mode(node.settings.intake_key_path) == 0o600
    assert node.settings.inbox_path.is_file()
    assert node.settings.cases_path.is_file()
    ring = load_keyring(node.settings)
    assert ring.users == {USER: "coordinator"}
    assert bytes(ring.public_key) == bytes(node.keys.identity.public_key)
    # both stores open with their keys
    open_inbox(node.settings).close()
    open_cases(node.settings, node.keys).close()


def test_init_node_tightens_an_existing_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    os.chmod(home, 0o755)  # noqa: S103 - a too-open home, which init must tighten
    n = make_node(home)
    assert _mode(n.home) == 0o700


def test_init_node_refuses_an_existing_node(tmp_path: Path) -> None:
    node = make_node(tmp_path / "node")
    before = {p.name: p.read_bytes() for p in node.home.iterdir()}
    with pytest.raises(NodeError, match="already holds a node"):
        init_node(node.settings, user="other", passphrase="another passphrase", profile=TEST_PROFILE)
    assert {p.name: p.read_bytes() for p in node.home.iterdir()} == before


def test_init_node_refuses_a_short_passphrase(tmp_path: Path) -> None:
    settings = Settings.load(tmp_path / "n", env={})
    with pytest.raises(NodeError, match="at least"):
        init_node(settings, user=USER, passphrase="short", profile=TEST_PROFILE)
    assert not settings.keyring_path.exists()


def test_stores_are_keyed_separately(node: Node) -> None:
    ikeys = IntakeKeys.load(node.settings.intake_key_path)
    assert ikeys.inbox_db.reveal() != node.keys.cases_db_key
    # the inbox key does not open cases.db and the cases key does not open inbox.db
    with pytest.raises(StoreError, match=re.escape(str(node.settings.cases_path))):
        CasesStore(node.settings.cases_path, ikeys.inbox_db.reveal())
    with pytest.raises(StoreError, match=re.escape(str(node.settings.inbox_path))):
        Inbox(node.settings.inbox_path, node.keys.cases_db_key)


def test_cases_store_refuses_keys_of_another_node(node: Node, other_keys: NodeKeys) -> None:
    with pytest.raises(StoreError, match=re.escape(str(node.settings.cases_path))):
        open_cases(node.settings, other_keys)


def test_inbox_refuses_a_replaced_key_file(node: Node) -> None:
    node.settings.intake_key_path.unlink()
    IntakeKeys.create(node.settings.intake_key_path)
    with pytest.raises(StoreError, match=re.escape(str(node.settings.inbox_path))):
        open_inbox(node.settings)


# -- intake.key -----------------------------------------------------------------------------------------
def test_intake_keys_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "intake.key"
    made = IntakeKeys.create(path)
    assert _mode(path) == 0o600
    loaded = IntakeKeys.load(path)
    assert loaded.inbox_db == made.inbox_db
    assert loaded.secret == made.secret
    assert len(loaded.inbox_db.reveal()) == 32
    assert loaded.inbox_db != loaded.secret
    assert loaded.key("intake/v1/receipt-hash") != loaded.key("intake/v1/csrf")
    assert made.secret.reveal().hex() not in repr(loaded)


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o644, 0o660, 0o666, 0o610, 0o601])
def test_intake_keys_refuse_a_readable_key_file(tmp_path: Path, mode: int) -> None:
    path = tmp_path / "intake.key"
    IntakeKeys.create(path)
    os.chmod(path, mode)
    with pytest.raises(NodeError, match="chmod 600") as info:
        IntakeKeys.load(path)
    assert str(path) in str(info.value)


def test_intake_keys_accept_0400(tmp_path: Path) -> None:
    path = tmp_path / "intake.key"
    made = IntakeKeys.create(path)
    os.chmod(path, 0o400)
    assert IntakeKeys.load(path).secret == made.secret


def test_open_inbox_refuses_a_readable_key_file(node: Node) -> None:
    os.chmod(node.settings.intake_key_path, 0o644)
    with pytest.raises(NodeError):
        open_inbox(node.settings)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not json",
        b"[]",
        b"{}",
        json.dumps({"version": 2, "inbox_db": "00" * 32, "secret": "00" * 32}).encode(),
        json.dumps({"version": 1, "inbox_db": "00" * 31, "secret": "00" * 32}).encode(),
        json.dumps({"version": 1, "inbox_db": "zz" * 32, "secret": "00" * 32}).encode(),
        json.dumps({"version": 1, "inbox_db": "00" * 32}).encode(),
        json.dumps({"version": 1, "inbox_db": 5, "secret": "00" * 32}).encode(),
    ],
)
def test_intake_keys_refuse_malformed_files(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "intake.key"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with pytest.raises(NodeError, match=re.escape(str(path))):
        IntakeKeys.load(path)


def test_intake_keys_missing(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="intake init"):
        IntakeKeys.load(tmp_path / "intake.key")


# -- unlock and the growing delay --------------------------------------------------------------------------
def test_unlock_success(node: Node) -> None:
    sleeps: list[float] = []
    keys = unlock(node.settings, None, PASSPHRASE, sleep=sleeps.append)
    assert keys.user == USER
    assert keys.master == node.keys.master
    assert sleeps == [0.0]
    assert not node.settings.unlock_failures_path.exists()


def test_wrong_passphrases_slow_later_tries(node: Node) -> None:
    path = node.settings.unlock_failures_path
    sleeps: list[float] = []
    for attempt in range(1, 5):
        with pytest.raises(WrongPassphrase):
            unlock(node.settings, USER, f"wrong guess {attempt}", sleep=sleeps.append)
        assert path.read_text().strip() == str(attempt)
        assert _mode(path) == 0o600
    assert sleeps[0] == 0.0  # the first try of all is not delayed
    delays = sleeps[1:]
    assert all(d > 0 for d in delays)
    assert delays == sorted(delays)
    assert delays[-1] > delays[0]
    assert delays == [failure_delay(n) for n in range(1, 4)]

    # the right passphrase still waits for the delay it earned, then resets the counter
    keys = unlock(node.settings, USER, PASSPHRASE, sleep=sleeps.append)
    assert keys.master == node.keys.master
    assert sleeps[-1] == failure_delay(4) > delays[-1]
    assert not path.exists()
    unlock(node.settings, USER, PASSPHRASE, sleep=sleeps.append)
    assert sleeps[-1] == 0.0


def test_parallel_wrong_passphrases_each_count_and_wait_in_turn(node: Node) -> None:
    """Threads of one desk guessing at once: none fails, each is counted, no two share a delay."""
    n = 24
    start = threading.Barrier(n)
    delays: list[float] = []
    outcomes: list[str] = []

    def record(seconds: float) -> None:
        delays.append(seconds)
        time.sleep(0.005)  # hold the turn a moment, so guesses that could overlap do

    def guess(i: int) -> None:
        start.wait()
        try:
            unlock(node.settings, USER, f"wrong guess {i}", sleep=record)
        except WrongPassphrase:
            outcomes.append("wrong")
        except Exception as exc:  # the test names every other outcome
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=guess, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["wrong"] * n
    assert node.settings.unlock_failures_path.read_text() == str(n)
    assert delays == [failure_delay(k) for k in range(n)]


GUESSER = """
import sys, threading
from intake.node import unlock
from intake.settings import Settings
settings = Settings.load(sys.argv[1], env={})
def guess(i):
    for k in range(3):
        try:
            unlock(settings, "admin", f"wrong {sys.argv[2]} {i} {k}", sleep=lambda s: None)
        except Exception as exc:
            if type(exc).__name__ != "WrongPassphrase":
                print(type(exc).__name__, flush=True)
threads = [threading.Thread(target=guess, args=(i,)) for i in range(4)]
[t.start() for t in threads]
[t.join() for t in threads]
"""


def test_guesses_from_several_processes_are_all_counted(node: Node) -> None:
    """The desk and a CLI (or two CLIs) guessing at the same time share one counter, under a lock."""
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", GUESSER, str(node.home), str(p)], cwd=root, stdout=subprocess.PIPE, text=True
        )
        for p in range(3)
    ]
    outputs = [proc.communicate(timeout=120)[0] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0, 0]
    assert "".join(outputs) == "", "every failure was a wrong passphrase, nothing else"
    assert node.settings.unlock_failures_path.read_text() == str(3 * 4 * 3)


def test_unknown_user_counts_as_a_failure(node: Node) -> None:
    sleeps: list[float] = []
    with pytest.raises(WrongPassphrase):
        unlock(node.settings, "nobody", PASSPHRASE, sleep=sleeps.append)
    assert node.settings.unlock_failures_path.read_text().strip() == "1"
    with pytest.raises(WrongPassphrase):
        unlock(node.settings, "nobody", PASSPHRASE, sleep=sleeps.append)
    assert sleeps[-1] > 0


def test_failure_counter_survives_a_restart(node: Node) -> None:
    with pytest.raises(WrongPassphrase):
        unlock(node.settings, USER, "wrong guess", sleep=lambda _s: None)
    # a new process: same home, settings loaded again
    sleeps: list[float] = []
    settings = Settings.load(node.home, env={})
    with pytest.raises(WrongPassphrase):
        unlock(settings, USER, "wrong again", sleep=sleeps.append)
    assert sleeps == [failure_delay(1)]


@pytest.mark.parametrize("content", ["", "garbage", "-5"])
def test_unreadable_counter_means_no_delay(node: Node, content: str) -> None:
    node.settings.unlock_failures_path.write_text(content)
    sleeps: list[float] = []
    unlock(node.settings, USER, PASSPHRASE, sleep=sleeps.append)
    assert sleeps == [0.0]


def test_unlock_detects_a_swapped_public_key(node: Node) -> None:
    doc = json.loads(node.settings.keyring_path.read_text())
    doc["public"]["x25519"] = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    node.settings.keyring_path.write_text(json.dumps(doc))
    with pytest.raises(NodeError, match="altered"):
        unlock(node.settings, USER, PASSPHRASE, sleep=lambda _s: None)


def test_unlock_without_a_node(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="intake init"):
        unlock(Settings.load(tmp_path, env={}), None, PASSPHRASE, sleep=lambda _s: None)


def test_failure_delay_is_monotonic_and_capped() -> None:
    assert failure_delay(0) == 0.0
    assert failure_delay(-3) == 0.0
    assert failure_delay(1) > 0
    delays = [failure_delay(n) for n in range(0, 200)]
    assert all(a <= b for a, b in itertools.pairwise(delays))
    assert all(0 <= d <= MAX_DELAY for d in delays)
    assert delays[-1] == MAX_DELAY
    assert failure_delay(10**6) == MAX_DELAY
    assert failure_delay(3) > failure_delay(2) > failure_delay(1)


# -- drain ---------------------------------------------------------------------------------------------------
def _report(description: str, **extra: object) -> Report:
    return Report(channel=Channel.WEB, description=description, **extra)  # type: ignore[arg-type]


def _drain(node: Node, **kw: object):  # type: ignore[no-untyped-def]
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        return drain(inbox, cases, node.keys, **kw)  # type: ignore[arg-type]
    finally:
        inbox.close()
        cases.close()


def _with_stores(node: Node):  # type: ignore[no-untyped-def]
    return open_inbox(node.settings), open_cases(node.settings, node.keys)


def test_drain_opens_each_report_into_a_case(node: Node, service: IntakeService) -> None:
    texts = ["synthetic one", "synthetic two", "合成的第三份报告"]
    for text in texts:
        accept_report(service, _report(text, factory="Synthetic Factory", categories=["wages"]))
    seen: list[int] = []
    result = _drain(node, progress=seen.append)
    assert (result.cases, result.followups, result.already, result.unreadable) == (3, 0, 0, 0)
    assert sum(seen) == 3
    assert service.inbox.count() == 0
    inbox, cases = _with_stores(node)
    try:
        by_id = {c.id: c for c in cases.list_cases()}
        assert sorted(by_id) == sorted(result.case_ids)
        assert sorted(c.description for c in by_id.values()) == sorted(texts)
        assert {c.factory for c in by_id.values()} == {"Synthetic Factory"}
        # nothing left to do: a second drain changes nothing
        again = drain(inbox, cases, node.keys)
        assert (again.cases, again.already, again.unreadable) == (0, 0, 0)
        assert cases.count() == 3
    finally:
        inbox.close()
        cases.close()


def test_drain_in_small_batches(node: Node, service: IntakeService) -> None:
    for i in range(5):
        accept_report(service, _report(f"synthetic {i}"))
        service.inbox.put(f"junk-{i}", os.urandom(600))
    result = _drain(node, batch=2)
    assert (result.cases, result.unreadable) == (5, 5)
    assert sorted(i for _, i, _ in service.inbox.items()) == [f"junk-{i}" for i in range(5)]


def test_crash_between_commit_and_delete(node: Node, service: IntakeService, monkeypatch: pytest.MonkeyPatch) -> None:
    accept_report(service, _report("synthetic crash test"))
    original = Inbox.delete
    calls = {"n": 0}

    def crash_once(self: Inbox, item_ids: list[str]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("power cut")
        original(self, item_ids)

    monkeypatch.setattr(Inbox, "delete", crash_once)
    with pytest.raises(RuntimeError, match="power cut"):
        _drain(node)
    assert service.inbox.count() == 1  # not deleted ...
    inbox, cases = _with_stores(node)
    try:
        assert cases.count() == 1  # ... but committed
        result = drain(inbox, cases, node.keys)
        assert (result.cases, result.already) == (0, 1)
        assert cases.count() == 1  # no duplicate
        assert inbox.count() == 0  # and the inbox is empty
    finally:
        inbox.close()
        cases.close()


def test_same_item_again_is_not_duplicated(node: Node, service: IntakeService) -> None:
    accept_report(service, _report("synthetic once"))
    [(_, item_id, blob)] = service.inbox.items()
    first = _drain(node)
    assert first.cases == 1
    service.inbox.put(item_id, blob)  # e.g. restored from a backup of the inbox
    second = _drain(node)
    assert (second.cases, second.already) == (0, 1)
    assert service.inbox.count() == 0
    inbox, cases = _with_stores(node)
    try:
        assert [c.description for c in cases.list_cases()] == ["synthetic once"]
    finally:
        inbox.close()
        cases.close()


def _seal_doc(service: IntakeService, doc: object) -> bytes:
    return seal_item(json.dumps(doc).encode(), to=service.public_key)


def test_unreadable_items_are_counted_and_left(node: Node, service: IntakeService, tmp_path: Path) -> None:
    good = {"v": 1, "kind": "report", "receipt_hash": "00" * 32, "report": {"channel": "web", "description": "x"}}
    bad = {
        "garbage": os.urandom(700),
        "other-key": seal_item(json.dumps({**good, "id": "other-key"}).encode(), to=PrivateKey.generate().public_key),
        "not-json": seal_item(b"\xff\x00 not json", to=service.public_key),
        "id-mismatch": _seal_doc(service, {**good, "id": "some-other-id"}),
        "bad-version": _seal_doc(service, {**good, "id": "bad-version", "v": 99}),
        "bad-kind": _seal_doc(service, {**good, "id": "bad-kind", "kind": "sermon"}),
        "bad-report": _seal_doc(service, {**good, "id": "bad-report", "report": {"channel": "carrier-pigeon"}}),
        "bad-hash": _seal_doc(service, {**good, "id": "bad-hash", "receipt_hash": "not hex"}),
        "a-list": _seal_doc(service, ["v", 1]),
    }
    for item_id, blob in bad.items():
        service.inbox.put(item_id, blob)
    accept_report(service, _report("synthetic readable"))
    service.inbox.put("good-by-hand", _seal_doc(service, {**good, "id": "good-by-hand"}))

    result = _drain(node)
    assert result.unreadable == len(bad)
    assert result.cases == 2
    assert sorted(i for _, i, _ in service.inbox.items()) == sorted(bad)
    # still there, still counted, never turned into cases on a second run
    again = _drain(node)
    assert (again.unreadable, again.cases) == (len(bad), 0)
    inbox, cases = _with_stores(node)
    try:
        assert cases.count() == 2
    finally:
        inbox.close()
        cases.close()


def test_followups_attach_by_receipt(node: Node, service: IntakeService) -> None:
    r1 = accept_report(service, _report("synthetic first worker"))
    r2 = accept_report(service, _report("synthetic second worker"))
    first = _drain(node)
    case1, case2 = first.case_ids
    accept_followup(service, r2, FollowUp(channel=Channel.SMS, text="more from the second worker"))
    accept_followup(service, r1, FollowUp(channel=Channel.WEB, text="more from the first worker"))
    accept_followup(service, r2, FollowUp(channel=Channel.WEB, text="second again"))
    result = _drain(node)
    assert (result.cases, result.followups) == (0, 3)
    assert result.case_ids == [case2, case1, case2]
    inbox, cases = _with_stores(node)
    try:
        assert cases.count() == 2
        c1, c2 = cases.get_case(case1), cases.get_case(case2)
        assert c1.description == "synthetic first worker"
        assert [f.text for f in c1.followups] == ["more from the first worker"]
        assert [(f.text, f.channel) for f in c2.followups] == [
            ("more from the second worker", Channel.SMS),
            ("second again", Channel.WEB),
        ]
    finally:
        inbox.close()
        cases.close()


def test_followup_in_the_same_drain_as_its_report(node: Node, service: IntakeService) -> None:
    receipt = accept_report(service, _report("synthetic report"))
    accept_followup(service, receipt, FollowUp(channel=Channel.WEB, text="added at once"))
    result = _drain(node)
    assert (result.cases, result.followups) == (1, 1)
    inbox, cases = _with_stores(node)
    try:
        [case] = cases.list_cases()
        assert [f.text for f in cases.get_case(case.id).followups] == ["added at once"]
    finally:
        inbox.close()
        cases.close()


def test_followup_with_unknown_receipt_becomes_its_own_case(node: Node, service: IntakeService) -> None:
    accept_report(service, _report("synthetic unrelated"))
    stray = ReceiptCode("1111222233334440")  # well-formed (its check digit matches), held by nobody
    accept_followup(service, stray, FollowUp(channel=Channel.WEB, locale="zh_Hans", text="我输错了号码"))
    accept_followup(service, stray, FollowUp(channel=Channel.WEB, text="and once more"))
    result = _drain(node)
    assert (result.cases, result.followups, result.unreadable) == (2, 1, 0)
    assert service.inbox.count() == 0
    inbox, cases = _with_stores(node)
    try:
        orphan = next(c for c in cases.list_cases() if c.description == "我输错了号码")
        assert orphan.locale == "zh_Hans"
        assert [f.text for f in cases.get_case(orphan.id).followups] == ["and once more"]
        assert cases.receipt_hash(orphan.id) == service.receipts.hash(stray)
    finally:
        inbox.close()
        cases.close()


# -- contact: encrypted, only with consent, shreddable ---------------------------------------------------------
PHONE = "+86 139 1234 5678"


def _row(cases: CasesStore, case_id: int) -> tuple[bytes | None, bytes | None, bytes | None, str]:
    link, ckey, contact = cases._conn.execute(
        "SELECT reporter_link, contact_key, contact FROM cases WHERE id = ?", (case_id,)
    ).fetchone()
    item_id = cases._conn.execute("SELECT item_id FROM drained_items WHERE case_id = ?", (case_id,)).fetchone()[0]
    return link, ckey, contact, item_id


def _open_contact(node: Node, wrapped: bytes, blob: bytes, item_id: str) -> dict[str, str]:
    case_key = decrypt_field(node.keys.contact_key, wrapped, context=b"case-key:" + item_id.encode())
    return json.loads(decrypt_field(case_key, blob, context=item_id.encode()))


def _all_columns(cases: CasesStore, case_id: int) -> bytes:
    row = cases._conn.execute("SELECT * FROM cases WHERE id = ?", (case_id,)).fetchone()
    return b"|".join(v if isinstance(v, bytes) else str(v).encode() for v in row)


def test_contact_stored_only_encrypted_with_consent(node: Node, service: IntakeService, other_keys: NodeKeys) -> None:
    accept_report(service, _report("synthetic with contact", phone=PHONE, name="Test Worker", contact_ok=True))
    [case_id] = _drain(node).case_ids
    inbox, cases = _with_stores(node)
    try:
        link, ckey, contact, item_id = _row(cases, case_id)
        assert isinstance(link, bytes)
        assert len(link) == 32
        assert link == reporter_link(node.keys, PHONE)
        assert ckey is not None
        assert contact is not None
        assert _open_contact(node, ckey, contact, item_id) == {"phone": PHONE, "name": "Test Worker"}
        raw = _all_columns(cases, case_id)
        for clear in [b"13912345678", b"139 1234 5678", b"Test Worker"]:
            assert clear not in raw
        assert cases.get_case(case_id).has_contact
        record = cases.contact(case_id)
        assert record is not None
        assert (record.wrapped_key, record.blob) == (ckey, contact)
        # another node's contact key opens nothing
        with pytest.raises(CannotOpen):
            decrypt_field(other_keys.contact_key, ckey, context=b"case-key:" + item_id.encode())
    finally:
        inbox.close()
        cases.close()


def test_no_contact_without_consent(node: Node, service: IntakeService) -> None:
    accept_report(service, _report("synthetic no contact", phone=PHONE, contact_ok=False))
    [case_id] = _drain(node).case_ids
    inbox, cases = _with_stores(node)
    try:
        link, ckey, contact, _ = _row(cases, case_id)
        assert link is not None
        assert len(link) == 32  # still linkable to other reports from the same number
        assert ckey is None
        assert contact is None
        assert cases.contact(case_id) is None
        case = cases.get_case(case_id)
        assert not case.has_contact
        assert not case.contact_ok
        assert b"13912345678" not in _all_columns(cases, case_id)
    finally:
        inbox.close()
        cases.close()


def test_name_without_contact_consent_keeps_no_phone(node: Node, service: IntakeService) -> None:
    accept_report(service, _report("synthetic named", phone=PHONE, name="Test Worker", contact_ok=False))
    [case_id] = _drain(node).case_ids
    inbox, cases = _with_stores(node)
    try:
        _, ckey, contact, item_id = _row(cases, case_id)
        assert ckey is not None
        assert contact is not None
        assert _open_contact(node, ckey, contact, item_id) == {"phone": "", "name": "Test Worker"}
    finally:
        inbox.close()
        cases.close()


def test_no_phone_no_link(node: Node, service: IntakeService) -> None:
    accept_report(service, _report("synthetic anonymous", contact_ok=True))
    [case_id] = _drain(node).case_ids
    inbox, cases = _with_stores(node)
    try:
        assert _row(cases, case_id)[:3] == (None, None, None)
    finally:
        inbox.close()
        cases.close()


def test_reporter_link_normalises_and_is_keyed(node: Node, other_keys: NodeKeys) -> None:
    assert normalize_phone(PHONE) == "+8613912345678"
    assert reporter_link(node.keys, PHONE) == reporter_link(node.keys, "+8613912345678")
    assert reporter_link(node.keys, PHONE) != reporter_link(node.keys, "+8613912345679")
    assert reporter_link(node.keys, PHONE) != reporter_link(other_keys, PHONE)


def test_shred_contact(node: Node, service: IntakeService) -> None:
    accept_report(service, _report("synthetic shred", phone=PHONE, name="Test Worker", contact_ok=True))
    [case_id] = _drain(node).case_ids
    inbox, cases = _with_stores(node)
    try:
        assert cases.contact(case_id) is not None
        cases.shred_contact(case_id)
        _, ckey, contact, _ = _row(cases, case_id)
        assert (ckey, contact) == (None, None)
        assert cases.contact(case_id) is None
        assert not cases.get_case(case_id).has_contact
        assert cases.get_case(case_id).description == "synthetic shred"  # the case itself stays
    finally:
        inbox.close()
        cases.close()
    # still gone after reopening
    cases = open_cases(node.settings, node.keys)
    try:
        assert cases.contact(case_id) is None
    finally:
        cases.close()


def test_cases_key_is_the_labelled_derivation(node: Node) -> None:
    assert node.keys.cases_db_key == node.keys.key(CASES_DB)
