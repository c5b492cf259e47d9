"""The drain writes one transaction per batch: an item that fails is left alone, a store that fails
takes the whole batch back and nothing leaves the inbox (issue 14, "Drain in batches").

Real SQLCipher stores throughout; failures come from the store itself: a receipt hash that another
case holds (a UNIQUE constraint), a database that may not grow (``max_page_count``: disk full), and
a trigger that rolls the whole transaction back.
"""

from __future__ import annotations

import json
import random
import secrets

import pytest

from crypto import seal_item
from intake.domain import MAX_DESCRIPTION, Channel, FollowUp, ReceiptHash, Report
from intake.drain import drain
from intake.errors import StoreError
from intake.node import open_cases, open_inbox
from intake.services import ITEM_VERSION, IntakeService, accept_followup, accept_report, seal_report
from intake.store.cases import CasesStore, NewCase
from intake.store.db import IntegrityError
from tests.conftest import Node


def _report(text: str) -> Report:
    return Report(channel=Channel.WEB, description=text)


def _descriptions(cases: CasesStore) -> list[str]:
    return sorted(c.description for c in cases.list_cases())


def test_progress_comes_once_per_committed_batch(node: Node, service: IntakeService) -> None:
    for i in range(12):
        accept_report(service, _report(f"synthetic batch report {i}"))
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    seen: list[int] = []
    try:
        result = drain(inbox, cases, node.keys, batch=5, progress=seen.append)
        assert cases.count() == 12 and inbox.count() == 0
    finally:
        inbox.close()
        cases.close()
    assert seen == [5, 5, 2]
    assert (result.cases, result.unreadable, result.already) == (12, 0, 0)
    assert len(set(result.case_ids)) == 12


def test_an_item_that_fails_midway_leaves_none_of_its_rows(node: Node) -> None:
    cases = open_cases(node.settings, node.keys)
    try:
        with cases.drain_batch() as writes:
            writes.add_report("item-a", _report("synthetic a"), receipt_hash=None, reporter_link=None, contact=None)
            with pytest.raises(ValueError, match="midway"), writes.item():
                writes.add_report("item-b", _report("synthetic b"), receipt_hash=None, reporter_link=None, contact=None)
                raise ValueError("midway")
            with writes.item():
                writes.add_report("item-c", _report("synthetic c"), receipt_hash=None, reporter_link=None, contact=None)
        assert _descriptions(cases) == ["synthetic a", "synthetic c"]
        assert cases.drained(["item-a", "item-b", "item-c"]) == {"item-a", "item-c"}
    finally:
        cases.close()


def test_a_run_of_reports_is_stored_whole_or_not_at_all(node: Node) -> None:
    taken = ReceiptHash(secrets.token_bytes(32))
    cases = open_cases(node.settings, node.keys)
    try:
        with cases.drain_batch() as writes:
            [first] = writes.add_reports([NewCase("item-1", _report("synthetic one"), taken, "normal")])
            run = [
                NewCase("item-2", _report("synthetic two"), ReceiptHash(secrets.token_bytes(32)), "normal"),
                NewCase("item-3", _report("synthetic three"), taken, "normal"),  # the same receipt hash
            ]
            with pytest.raises(IntegrityError):
                writes.add_reports(run)
            [second] = writes.add_reports(run[:1])
        assert second == first + 1
        assert _descriptions(cases) == ["synthetic one", "synthetic two"]
        assert cases.drained(["item-1", "item-2", "item-3"]) == {"item-1", "item-2"}
    finally:
        cases.close()


def _put_report(service: IntakeService, text: str, receipt_hash: bytes | None = None) -> str:
    """Queue a report as the intake seals it, with a receipt hash of our choosing."""
    item_id, blob, _receipt, made = seal_report(service, _report(text))
    if receipt_hash is not None:  # sealed again with the other hash: what a bug or a forger could queue
        doc = {
            "v": ITEM_VERSION,
            "id": item_id,
            "kind": "report",
            "receipt_hash": receipt_hash.hex(),
            "report": _report(text).model_dump(mode="json"),
        }
        blob = seal_item(json.dumps(doc).encode(), to=service.public_key)
    assert made
    service.inbox.put(item_id, blob)
    return item_id


def test_a_report_that_cannot_be_stored_is_left_and_the_rest_of_its_batch_stored(
    node: Node, service: IntakeService
) -> None:
    taken = secrets.token_bytes(32)
    ids = [
        _put_report(service, "synthetic first", taken),
        _put_report(service, "synthetic second"),
        _put_report(service, "synthetic twin", taken),  # a receipt hash the first case holds
        _put_report(service, "synthetic fourth"),
    ]
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        result = drain(inbox, cases, node.keys)
        assert (result.cases, result.unreadable) == (3, 1)
        assert [item_id for _, item_id, _ in inbox.items()] == [ids[2]]
        assert _descriptions(cases) == ["synthetic first", "synthetic fourth", "synthetic second"]
        again = drain(inbox, cases, node.keys)
        assert (again.cases, again.unreadable, again.already) == (0, 1, 0)
        assert cases.count() == 3
    finally:
        inbox.close()
        cases.close()


def _three_items(service: IntakeService, last: str = "synthetic explode") -> None:
    """A report, a follow-up to it (stored on its own, after the report's run) and one more report."""
    receipt = accept_report(service, _report("synthetic before the failure"))
    accept_followup(service, receipt, FollowUp(channel=Channel.WEB, text="synthetic follow-up"))
    accept_report(service, _report(last))


def test_a_store_failure_midway_takes_back_the_whole_batch(node: Node, service: IntakeService) -> None:
    _three_items(service)
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        # The third item's insert makes SQLite roll back the whole transaction, as it may on an I/O error.
        cases._conn.execute(
            "CREATE TEMP TRIGGER explode BEFORE INSERT ON main.cases WHEN new.description LIKE '%explode%' "
            "BEGIN SELECT RAISE(ROLLBACK, 'synthetic store failure'); END"
        )
        with pytest.raises(StoreError):
            drain(inbox, cases, node.keys)
        assert cases.count() == 0  # the report and its follow-up written before the failure: gone
        assert inbox.count() == 3
        assert cases.drained([item_id for _, item_id, _ in inbox.items()]) == set()
        cases._conn.execute("DROP TRIGGER temp.explode")
        result = drain(inbox, cases, node.keys)
        assert (result.cases, result.followups, result.unreadable) == (2, 1, 0)
        assert inbox.count() == 0
    finally:
        inbox.close()
        cases.close()


def test_a_full_disk_deletes_nothing_from_the_inbox(node: Node, service: IntakeService) -> None:
    rng = random.Random(14)
    _three_items(service, "".join(chr(rng.randint(0x4E00, 0x9FFF)) for _ in range(MAX_DESCRIPTION)))  # 60 kB
    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        pages = cases._conn.execute("PRAGMA page_count").fetchone()[0]
        cases._conn.execute(f"PRAGMA max_page_count = {pages}")  # not one page more: the disk is full
        with pytest.raises(StoreError, match="full"):
            drain(inbox, cases, node.keys)
        assert (cases.count(), inbox.count()) == (0, 3)
        cases._conn.execute("PRAGMA max_page_count = 1073741823")
        result = drain(inbox, cases, node.keys)
        assert (result.cases, result.followups, inbox.count()) == (2, 1, 0)
    finally:
        inbox.close()
        cases.close()
