"""Evidence files drained from the inbox into cases.db (issue 16): with their item, whole, once.

Real SQLCipher stores and real sealed streams throughout; faults are made in inbox.db itself (a
chunk changed, a chunk row gone), as a damaged disk or a hostile intake host would leave them.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from crypto import open_item, seal_item
from crypto.stream import seal_stream
from intake import drain as drain_module
from intake.domain import Channel, FollowUp, Report
from intake.drain import DrainResult, drain
from intake.evidence import Evidence
from intake.node import open_cases, open_inbox
from intake.services import IntakeService, accept_followup, accept_media, accept_report, file_label, seal_report
from intake.store.inbox import Inbox
from tests.conftest import Node, make_node

MARK = b"DRAIN-FILE-MARKER-c41e"
JPEG = b"\xff\xd8" + MARK * 50 + b"\xff\xd9"
PDF = b"%PDF-1.4 " + MARK * 9000 + b"\n%%EOF"  # ~200 KB: four sealed chunks


def _files() -> list[Evidence]:
    return [Evidence("image/jpeg", JPEG), Evidence("application/pdf", PDF, warning="metadata", original=b"orig")]


def _drain(node: Node) -> DrainResult:
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        return drain(inbox, cases, node.keys)
    finally:
        inbox.close()
        cases.close()


def _stored(node: Node, case_id: int) -> list[tuple[int, str, bytes, str]]:
    cases = open_cases(node.settings, node.keys)
    try:
        out = []
        for info in cases.attachments(case_id):
            found = cases.attachment(case_id, info.n)
            assert found is not None
            out.append((info.n, info.type, found[1], info.sha256))
        return out
    finally:
        cases.close()


def _attachment_rows(node: Node) -> int:
    cases = open_cases(node.settings, node.keys)
    try:
        with cases._lock:
            return int(cases._conn.execute("SELECT count(*) FROM attachments").fetchone()[0])
    finally:
        cases.close()


def _chunk_rows(inbox: Inbox) -> int:
    with inbox._lock:
        return int(inbox._conn.execute("SELECT count(*) FROM attachments").fetchone()[0])


def test_a_report_with_two_files_becomes_a_case_with_both(node: Node, service: IntakeService) -> None:
    accept_report(service, Report(channel=Channel.WEB, description="synthetic: pay slips attached"), files=_files())
    result = _drain(node)
    assert (result.cases, result.files, result.unreadable) == (1, 2, 0)
    [(n1, t1, d1, h1), (n2, t2, d2, h2)] = _stored(node, result.case_ids[0])
    assert (n1, t1, d1, h1) == (1, "image/jpeg", JPEG, hashlib.sha256(JPEG).hexdigest())
    assert (n2, t2, d2, h2) == (2, "application/pdf", PDF, hashlib.sha256(PDF).hexdigest())
    cases = open_cases(node.settings, node.keys)
    try:
        infos = cases.attachments(result.case_ids[0])
        assert infos[1].warning == "metadata" and not infos[1].has_original  # keep_originals is off
    finally:
        cases.close()
    assert service.inbox.count() == 0 and _chunk_rows(service.inbox) == 0


def test_reports_without_files_around_one_with_files_all_drain(node: Node, service: IntakeService) -> None:
    accept_report(service, Report(channel=Channel.WEB, description="synthetic one"))
    accept_report(service, Report(channel=Channel.WEB, description="synthetic two"), files=_files()[:1])
    accept_report(service, Report(channel=Channel.WEB, description="synthetic three"))
    result = _drain(node)
    assert (result.cases, result.files) == (3, 1)
    assert [len(_stored(node, case_id)) for case_id in sorted(result.case_ids)] == [0, 1, 0]


def test_a_kept_original_is_drained_with_its_cleaned_copy(tmp_path: Path) -> None:
    node = make_node(tmp_path / "n", keep_originals=1)
    svc = IntakeService.open(node.settings)
    try:
        accept_report(svc, Report(channel=Channel.WEB), files=_files())
    finally:
        svc.close()
    result = _drain(node)
    cases = open_cases(node.settings, node.keys)
    try:
        assert [i.has_original for i in cases.attachments(result.case_ids[0])] == [False, True]
        found = cases.attachment(result.case_ids[0], 2, original=True)
        assert found is not None and found[1] == b"orig"
    finally:
        cases.close()


def _tamper(inbox: Inbox, sql: str) -> None:
    with inbox._write() as conn:
        assert conn.execute(sql).rowcount == 1


@pytest.mark.parametrize(
    "fault",
    [
        "UPDATE attachments SET chunk = CAST(substr(chunk, 1, 100)"  # one byte changed
        " || iif(substr(chunk, 101, 1) = X'00', X'01', X'00') || substr(chunk, 102) AS BLOB) WHERE n = 2 AND seq = 2",
        "DELETE FROM attachments WHERE n = 2 AND seq = 2",  # a chunk row gone
        "DELETE FROM attachments WHERE n = 2 AND seq = 4",  # the FINAL chunk gone: cut short
        "UPDATE attachments SET n = 3 WHERE n = 2 AND seq = 0",  # a header moved to another file
    ],
)
def test_a_damaged_stream_leaves_the_item_in_the_inbox_and_stores_nothing(
    node: Node, service: IntakeService, fault: str
) -> None:
    accept_report(service, Report(channel=Channel.WEB, description="synthetic damaged"), files=_files())
    _tamper(service.inbox, fault)
    result = _drain(node)
    assert (result.cases, result.files, result.unreadable) == (0, 0, 1)
    assert service.inbox.count() == 1
    cases = open_cases(node.settings, node.keys)
    try:
        assert cases.count() == 0
    finally:
        cases.close()
    assert _attachment_rows(node) == 0


def test_a_stream_of_another_length_than_described_is_refused(node: Node, service: IntakeService) -> None:
    accept_report(service, Report(channel=Channel.WEB), files=_files()[:1])
    [(_seq, item_id, _blob)] = service.inbox.items()
    streams = service.inbox.files(item_id)
    # the stream of a longer file, sealed to the same item and place: opens, but is not what was described
    longer = seal_stream(JPEG + b"x", node.keys.identity.public_key, label=file_label(item_id, 1))
    with service.inbox._write() as conn:
        conn.execute("DELETE FROM attachments WHERE item_id = ?", (item_id,))
        conn.executemany(
            "INSERT INTO attachments (item_id, n, seq, chunk) VALUES (?, 1, ?, ?)",
            [(item_id, seq, chunk) for seq, chunk in enumerate(longer)],
        )
    assert len(streams[1]) == len(longer)
    result = _drain(node)
    assert (result.cases, result.unreadable) == (0, 1) and service.inbox.count() == 1


SID = "MM" + "a1" * 16


def _sms_report(service: IntakeService, text: str, *sids: str) -> None:
    """An SMS conversation's report whose sealed parts name the messages that carried media."""
    parts = [seal_item(json.dumps({"field": "media", "media_sid": s}).encode(), to=service.public_key) for s in sids]
    item_id, blob, _receipt, receipt_hash = seal_report(service, Report(channel=Channel.SMS, description=text), parts)
    service.inbox.put(item_id, blob, board=receipt_hash)


def _media(service: IntakeService, sid: str, files: list[Evidence] | None, reason: str = "") -> None:
    assert accept_media(service, sid, hashlib.sha256(sid.encode()).digest(), files, reason)


@pytest.mark.parametrize("media_first", [True, False])
def test_mms_files_link_to_their_report_whichever_is_drained_first(
    node: Node, service: IntakeService, media_first: bool
) -> None:
    other = "MM" + "b2" * 16
    if media_first:
        _media(service, SID, _files())
        _media(service, other, _files()[:1])
        first = _drain(node)
        assert (first.media, first.files, first.cases) == (2, 3, 0)
        assert service.inbox.count() == 0 and _attachment_rows(node) == 3  # waiting for their case
    _sms_report(service, "synthetic sms with photos", SID, other)
    if not media_first:
        assert _drain(node).cases == 1
        _media(service, other, _files()[:1])
        _media(service, SID, _files())
    _drain(node)
    cases = open_cases(node.settings, node.keys)
    try:
        [case] = cases.list_cases()
    finally:
        cases.close()
    stored = _stored(node, case.id)
    assert [n for n, *_ in stored] == [1, 2, 3]
    assert sorted(data for _n, _t, data, _h in stored) == sorted([JPEG, PDF, JPEG])


def test_media_that_could_not_be_fetched_shows_as_missing(node: Node, service: IntakeService) -> None:
    _sms_report(service, "synthetic sms", SID)
    _media(service, SID, None, "too_big")
    result = _drain(node)
    assert (result.cases, result.media, result.files) == (1, 1, 0)
    cases = open_cases(node.settings, node.keys)
    try:
        [info] = cases.attachments(result.case_ids[0])
        assert (info.n, info.missing, info.bytes) == (1, "too_big", 0)
        assert cases.attachment(result.case_ids[0], 1) is None  # no content to hand out
    finally:
        cases.close()


def test_a_message_with_some_files_kept_and_one_refused_shows_both(node: Node, service: IntakeService) -> None:
    _sms_report(service, "synthetic sms", SID)
    _media(service, SID, _files()[:1], "file 2: damaged")
    result = _drain(node)
    cases = open_cases(node.settings, node.keys)
    try:
        kept, refused = cases.attachments(result.case_ids[0])
        assert (kept.n, kept.missing, kept.bytes > 0) == (1, "", True)
        assert (refused.n, refused.missing, refused.bytes) == (2, "file 2: damaged", 0)
    finally:
        cases.close()


def test_a_followup_file_joins_the_case_of_its_receipt(node: Node, service: IntakeService) -> None:
    accept_report(service, Report(channel=Channel.WEB, description="synthetic first"), files=_files()[:1])
    receipt = accept_report(service, Report(channel=Channel.WEB, description="synthetic second"))
    accept_report(service, Report(channel=Channel.WEB, description="synthetic third"))
    accept_followup(service, receipt, FollowUp(channel=Channel.WEB, text="synthetic more"), files=_files()[1:])
    result = _drain(node)
    assert (result.cases, result.followups, result.files) == (3, 1, 2)
    cases = open_cases(node.settings, node.keys)
    try:
        by_text = {c.description: c.id for c in cases.list_cases()}
    finally:
        cases.close()
    assert [(n, data) for n, _t, data, _h in _stored(node, by_text["synthetic second"])] == [(1, PDF)]
    assert [(n, data) for n, _t, data, _h in _stored(node, by_text["synthetic first"])] == [(1, JPEG)]
    assert _stored(node, by_text["synthetic third"]) == []


def test_an_sms_followup_links_its_media_to_the_case(node: Node, service: IntakeService) -> None:
    receipt = accept_report(service, Report(channel=Channel.WEB, description="synthetic"))
    _drain(node)
    _media(service, SID, _files()[:1])
    doc_parts = [seal_item(json.dumps({"field": "media", "media_sid": SID}).encode(), to=service.public_key)]
    followup = FollowUp(channel=Channel.SMS, text="synthetic photo sent")
    accept_followup(service, receipt, followup)
    # the SMS engine seals media parts into the follow-up doc: rebuild this one's doc with them
    [(_seq, item_id, _blob)] = [row for row in service.inbox.items() if not service.inbox.files(row[1])]
    doc = json.loads(open_item(_blob, node.keys.identity))
    doc["parts"] = [base64.b64encode(p).decode() for p in doc_parts]
    with service.inbox._write() as conn:
        conn.execute(
            "UPDATE items SET blob = ? WHERE id = ?",
            (seal_item(json.dumps(doc).encode(), to=service.public_key), item_id),
        )
    result = _drain(node)
    assert (result.followups, result.media, result.files) == (1, 1, 1)
    assert [(n, data) for n, _t, data, _h in _stored(node, 1)] == [(1, JPEG)]


class _LostDelete:
    """The inbox, with the deletes after a commit lost (a drain killed between commit and delete)."""

    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    def items(self, limit: int = 200, after_seq: int = 0) -> list[tuple[int, str, bytes]]:
        return self.inbox.items(limit, after_seq)

    def files(self, item_id: str) -> dict[int, list[bytes]]:
        return self.inbox.files(item_id)

    def delete(self, item_ids: list[str]) -> None:
        pass


def test_a_drain_run_again_after_a_lost_delete_stores_no_file_twice(node: Node, service: IntakeService) -> None:
    accept_report(service, Report(channel=Channel.WEB), files=_files())
    _media(service, SID, _files()[:1])
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        first = drain(_LostDelete(inbox), cases, node.keys)
        assert (first.cases, first.media, first.files) == (1, 1, 3)
        assert inbox.count() == 2  # still there, as after a kill
        again = drain(inbox, cases, node.keys)
        assert (again.cases, again.media, again.files, again.already) == (0, 0, 0, 2)
        assert inbox.count() == 0 and _chunk_rows(inbox) == 0
    finally:
        inbox.close()
        cases.close()
    assert _attachment_rows(node) == 3


def test_files_past_the_memory_budget_are_stored_in_more_transactions(
    node: Node, service: IntakeService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(drain_module, "FILE_BYTES_PER_BATCH", len(PDF))  # each report's files pass it
    for i in range(5):
        accept_report(service, Report(channel=Channel.WEB, description=f"synthetic {i}"), files=_files())
    batches: list[int] = []
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    real = cases.drain_batch

    def counted():  # type: ignore[no-untyped-def]
        batches.append(1)
        return real()

    monkeypatch.setattr(cases, "drain_batch", counted)
    try:
        result = drain(inbox, cases, node.keys)
    finally:
        inbox.close()
        cases.close()
    assert (result.cases, result.files, len(batches)) == (5, 10, 5)
    assert _attachment_rows(node) == 10


def test_no_clear_byte_of_a_file_on_disk_before_or_after_the_drain(node: Node, service: IntakeService) -> None:
    accept_report(service, Report(channel=Channel.WEB), files=_files())
    _media(service, SID, _files()[:1])

    def raw() -> bytes:
        return b"".join(p.read_bytes() for p in node.home.rglob("*") if p.is_file())

    assert MARK not in raw()
    result = _drain(node)
    assert result.files == 3
    assert MARK not in raw()  # cases.db, its WAL and inbox.db: all encrypted
    assert {p.name for p in node.home.rglob("*.db")} >= {"cases.db", "inbox.db"}
