"""Retention with the clock moved (issue 17 item 4): a closed case past ``retention_days`` loses
every word, on disk too (its store's pages decrypted and searched), and keeps its statistics; open
and recently closed cases, dry runs and the inbox's young items are left alone; every deletion is
audited; a run during a real drain loses or doubles nothing.

In-process throughout: the clock is intake.clock's FixedClock (CLI subprocesses keep the real one).
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest

from intake import clock, retention, stats
from intake.audit import AuditLog
from intake.domain import Category, Channel, FollowUp, Report
from intake.drain import drain
from intake.errors import SettingsError
from intake.node import IntakeKeys, open_cases, open_inbox
from intake.services import IntakeService, accept_followup, accept_report
from intake.settings import Settings
from intake.store.actions import Actions
from intake.store.cases import CasesStore
from intake.store.casework import CaseWork
from intake.store.inbox import SealedFile
from tests.conftest import Node, make_node
from tests.intake.sqlcipher_pages import holds

DAYS = 365


@pytest.fixture
def fixed() -> Iterator[clock.FixedClock]:
    with clock.use(clock.FixedClock(clock.now_s())) as c:
        yield c  # type: ignore[misc]


@pytest.fixture
def ret_node(tmp_path, fixed) -> Node:  # type: ignore[no-untyped-def]
    return make_node(tmp_path / "node", retention_days=DAYS, inbox_retention_days=30)


def marker(name: str) -> str:
    """A word found nowhere else: its trigrams too (the search index is trigram)."""
    return f"Q{name}X{secrets.token_hex(6).upper()}Z"


@dataclass
class Filed:
    case_id: int
    words: list[str]  # each put somewhere in the case: description, notes, files, ...


def file_case(node: Node, store: CasesStore, work: CaseWork, *, close: bool, factory: str = "") -> Filed:
    """A case through the real paths: sealed into the inbox, a follow-up, drained; then a note, a
    reply (also on the worker's status board), a file, a recording, a CAP step; closed if asked."""
    words = {k: marker(k) for k in ("DESC", "LOC", "FUP", "NOTE", "REPLY", "FILE", "ORIG", "AUDIO", "CAP", "BOARD")}
    service = IntakeService.open(node.settings)
    try:
        report = Report(
            channel=Channel.WEB,
            description=f"Synthetic: {words['DESC']} wages withheld",
            location=f"line {words['LOC']}",
            factory=factory,
            categories=[Category("wages")],
            contact_ok=True,
            phone="+639170000088",
        )
        receipt = accept_report(service, report)
        accept_followup(service, receipt, FollowUp(channel=Channel.WEB, text=f"more: {words['FUP']}"))
        receipt_hash = service.receipts.hash(receipt)
        service.inbox.post_message(receipt_hash, f"reply on board {words['BOARD']}")
        inbox = open_inbox(node.settings)
        try:
            result = drain(inbox, store, node.keys)
        finally:
            inbox.close()
    finally:
        service.close()
    (case_id,) = set(result.case_ids)
    work.add_note(case_id, f"note {words['NOTE']}")
    work.add_reply(case_id, f"reply {words['REPLY']}", sms=False)
    n = store.add_attachment(case_id, f"%PDF-1.4 {words['FILE']}".encode(), "application/pdf")
    with store.transaction() as conn:
        conn.execute(
            "UPDATE attachments SET original = ? WHERE case_id = ? AND n = ?", (words["ORIG"].encode(), case_id, n)
        )
    sid = "RE" + secrets.token_hex(16)
    with store.transaction() as conn:
        conn.execute("INSERT INTO recordings (recording_sid, case_id) VALUES (?, ?)", (sid, case_id))
    store.set_recording_audio(sid, b"RIFF" + words["AUDIO"].encode() * 3, "audio/wav")
    Actions(work).add(
        case_id, f"pay back {words['CAP']}", "employer", (clock.now() + timedelta(days=30)).date().isoformat()
    )
    if close:
        case = store.get_case(case_id)
        work.update(case_id, seen_version=case.version, status="closed_unresolved")
    return Filed(case_id, list(words.values()))


def _stats(store: CasesStore, settings: Settings) -> tuple[object, ...]:
    rows = stats.load_rows(store)
    at = clock.now()
    return stats.dashboard(rows, settings.deadlines(), at), stats.public_export(rows)


def test_a_closed_case_past_retention_loses_every_word_and_keeps_its_statistics(
    ret_node: Node, fixed: clock.FixedClock
) -> None:
    node = ret_node
    store = open_cases(node.settings, node.keys)
    inbox_key = IntakeKeys.load(node.settings.intake_key_path).inbox_db.reveal()
    try:
        work = CaseWork(store, node.keys)
        old = file_case(node, store, work, close=True, factory="Synthetic Electronics Ltd")
        fixed.advance(timedelta(days=DAYS - 10))
        recent = file_case(node, store, work, close=True)
        still_open = file_case(node, store, work, close=False)
        fixed.advance(timedelta(days=11))  # old: closed DAYS + 1 days ago; recent: 11 days ago
        before = _stats(store, node.settings)
        audit_before = store._conn.execute("SELECT count(*) FROM audit").fetchone()[0]

        dry = retention.run(node.settings, store, node.keys, dry_run=True)
        assert (dry.cases, dry.case_ids, dry.notes, dry.replies, dry.followups) == (1, [old.case_id], 1, 1, 1)
        assert (dry.recordings, dry.files, dry.actions, dry.board_messages) == (1, 1, 1, 1)
        assert store.get_case(old.case_id).description.startswith("Synthetic: ")
        assert store._conn.execute("SELECT count(*) FROM audit").fetchone()[0] == audit_before, (
            "a dry run audits nothing"
        )
        assert retention.last_run(node.home) is None
        # the search index forgets a row's words at once, not at a later merge of its segments
        assert store._conn.execute("SELECT v FROM cases_fts_config WHERE k = 'secure-delete'").fetchone() == (1,)

        done = retention.run(node.settings, store, node.keys)
        assert (done.cases, done.case_ids, done.files, done.board_messages) == (1, [old.case_id], 1, 1)
        assert retention.last_run(node.home) == clock.now_s()
        assert _stats(store, node.settings) == before, "the statistics count the same"

        case = store.get_case(old.case_id)
        assert (case.description, case.location, case.followups, case.recordings) == ("", "", [], [])
        assert case.factory == "Synthetic Electronics Ltd", "an unregistered factory is what the statistics count"
        assert (case.status.value, [c.value for c in case.categories], case.channel) == (
            "closed_unresolved", ["wages"], Channel.WEB,
        )  # fmt: skip
        assert store.attachments(old.case_id) == [] and store.contact(old.case_id) is None
        row = store._conn.execute("SELECT expired_at, reporter_link FROM cases WHERE id = ?", (old.case_id,)).fetchone()
        assert row == (clock.now_s().isoformat(), None)
        assert store._conn.execute("SELECT action FROM actions WHERE case_id = ?", (old.case_id,)).fetchone() == ("",)
        for kept in (recent, still_open):
            assert store.get_case(kept.case_id).description.startswith("Synthetic: ")
            assert len(store.attachments(kept.case_id)) == 1

        entries = store._conn.execute(
            "SELECT case_id, detail FROM audit WHERE action = 'retention.expire' ORDER BY id"
        ).fetchall()
        assert [e[0] for e in entries] == [old.case_id]
        assert all(w not in entries[0][1] for w in old.words)
        assert AuditLog(store, node.keys).verify().ok

        # On disk: nothing of the old case in any page of either store, free pages included; the
        # kept cases' words are found the same way (the scan can see words)
        store._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        for word in old.words:
            assert not holds(node.settings.cases_path, node.keys.cases_db_key, word.encode()), word
        assert not holds(node.settings.inbox_path, inbox_key, old.words[-1].encode()), "the board's reply"
        for word in recent.words[:-1]:
            assert holds(node.settings.cases_path, node.keys.cases_db_key, word.encode()), word
        assert holds(node.settings.inbox_path, inbox_key, recent.words[-1].encode())

        again = retention.run(node.settings, store, node.keys)
        assert again.cases == 0, "a case is expired once"
    finally:
        store.close()


def test_inbox_items_never_drained_past_the_limit_go_with_their_files(ret_node: Node, fixed: clock.FixedClock) -> None:
    node = ret_node
    inbox = open_inbox(node.settings)
    try:
        inbox.put("item-old", b"sealed-old", files=[SealedFile(1, [b"hdr-old", b"chunk-old"])])
        inbox.put("item-before-release", b"sealed-earlier")
        with inbox.transaction() as conn:  # as an earlier release stored it: no arrival day
            conn.execute("UPDATE items SET received_at = 0 WHERE id = 'item-before-release'")
        fixed.advance(timedelta(days=20))
        inbox.put("item-young", b"sealed-young", files=[SealedFile(1, [b"hdr", b"c1"]), SealedFile(2, [b"hdr", b"c2"])])
    finally:
        inbox.close()
    store = open_cases(node.settings, node.keys)
    try:
        first = retention.run(node.settings, store, node.keys)  # day 20: nothing is 30 days old yet
        assert first.inbox_items == 0
        fixed.advance(timedelta(days=12))  # day 32: the old item is past 30 full days, the young one 12
        dry = retention.run(node.settings, store, node.keys, dry_run=True)
        assert (dry.inbox_items, dry.inbox_files) == (1, 1)
        assert _items(node) == ["item-old", "item-before-release", "item-young"], "a dry run deletes nothing"
        done = retention.run(node.settings, store, node.keys)
        assert (done.inbox_items, done.inbox_files, done.cases) == (1, 1, 0)
        assert _items(node) == ["item-before-release", "item-young"]
        entries = store._conn.execute("SELECT case_id, detail FROM audit WHERE action = 'retention.inbox'").fetchall()
        assert entries == [(None, '{"days":30,"files":1,"items":1}')]
        fixed.advance(timedelta(days=30))  # the earlier release's item counts from the run that first saw it
        assert retention.run(node.settings, store, node.keys).inbox_items == 2
        assert _items(node) == []
    finally:
        store.close()
    inbox = open_inbox(node.settings)
    try:
        assert inbox.files("item-old") == {} and inbox._conn.execute("SELECT count(*) FROM attachments").fetchone() == (
            0,
        )
    finally:
        inbox.close()


def _items(node: Node) -> list[str]:
    inbox = open_inbox(node.settings)
    try:
        return [i for _s, i, _b in inbox.items()]
    finally:
        inbox.close()


def test_retention_during_a_drain_loses_nothing_and_halves_nothing(ret_node: Node, fixed: clock.FixedClock) -> None:
    """A drain and a retention run at once, each on its own connection (like the desk and the CLI):
    every closed case past retention is expired whole, every new report becomes a case with its
    words or (past the inbox's limit) is destroyed, and the audit chain holds."""
    node = ret_node
    store = open_cases(node.settings, node.keys)
    work = CaseWork(store, node.keys)
    closed = []
    for i in range(45):
        report = Report(channel=Channel.SMS, description=f"Synthetic old case {i}", categories=[Category("wages")])
        case_id = store.add_report(f"old-{i}", report, receipt_hash=None, reporter_link=None, contact=None)
        work.add_note(case_id, f"synthetic note {i}")
        work.update(case_id, seen_version=store.get_case(case_id).version, status="withdrawn")
        closed.append(case_id)
    service = IntakeService.open(node.settings)
    try:
        for i in range(20):  # these will be past the inbox's 30 days when the run starts
            accept_report(service, Report(channel=Channel.WEB, description=f"Synthetic waiting {i}"))
        fixed.advance(timedelta(days=DAYS + 1))
        for i in range(40):
            accept_report(service, Report(channel=Channel.WEB, description=f"Synthetic new {i}"))
    finally:
        service.close()
    start = threading.Barrier(2)
    results: dict[str, object] = {}

    def drain_it() -> None:
        inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
        try:
            start.wait()
            results["drain"] = drain(inbox, cases, node.keys, batch=5)
        finally:
            inbox.close()
            cases.close()

    def expire_it() -> None:
        cases = open_cases(node.settings, node.keys)
        try:
            start.wait()
            results["retention"] = retention.run(node.settings, cases, node.keys)
        finally:
            cases.close()

    threads = [threading.Thread(target=drain_it), threading.Thread(target=expire_it)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        out = results["retention"]
        assert isinstance(out, retention.Outcome)
        assert sorted(out.case_ids) == closed, "every closed case past retention, once"
        assert _items(node) == []
        texts = [c.description for c in store.list_cases()]
        drained_new = sum(t.startswith("Synthetic new") for t in texts)
        drained_waiting = sum(t.startswith("Synthetic waiting") for t in texts)
        assert drained_new == 40, "a report younger than the inbox's limit is never destroyed"
        assert drained_waiting + out.inbox_items >= 20, "a waiting report is a case or was destroyed"
        for case_id in closed:
            case = store.get_case(case_id)
            assert case.description == "" and case.status.value == "withdrawn"
        assert store._conn.execute("SELECT count(*) FROM notes").fetchone() == (0,)
        board = stats.dashboard(stats.load_rows(store), node.settings.deadlines())
        assert board.by_status["withdrawn"] == 45 and board.by_category["wages"] == 45, "expired cases still count"
        assert all(c.description for c in store.list_cases() if c.id not in closed)
        entries = store._conn.execute("SELECT count(*) FROM audit WHERE action = 'retention.expire'").fetchone()
        assert entries == (45,)
        assert AuditLog(store, node.keys).verify().ok
    finally:
        store.close()


def test_a_case_reopened_after_it_was_listed_is_left_alone(ret_node: Node, fixed: clock.FixedClock) -> None:
    node = ret_node
    store = open_cases(node.settings, node.keys)
    try:
        work = CaseWork(store, node.keys)
        report = Report(channel=Channel.WEB, description="Synthetic reopened")
        case_id = store.add_report("item-r", report, receipt_hash=None, reporter_link=None, contact=None)
        work.update(case_id, seen_version=1, status="withdrawn")
        fixed.advance(timedelta(days=DAYS + 1))
        with store._lock:
            assert retention.due_cases(store._conn, DAYS) == [case_id]
        work.update(case_id, seen_version=store.get_case(case_id).version, status="triaged")
        cutoff = retention.case_cutoff(DAYS)
        with store.transaction() as conn:
            assert retention.expire_case(conn, case_id, clock.now_s().isoformat(), cutoff) is None
        assert store.get_case(case_id).description == "Synthetic reopened"
        assert retention.run(node.settings, store, node.keys).cases == 0
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "value"), [("retention_days", 29), ("retention_days", -1), ("inbox_retention_days", 3)]
)
def test_a_retention_period_too_short_to_be_meant_is_refused(tmp_path, name: str, value: int) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingsError, match=name):
        Settings.load(tmp_path, env={}, **{name: value})


def test_retention_is_off_by_default(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings.load(tmp_path, env={})
    assert (settings.retention_days, settings.inbox_retention_days) == (0, 90)


def test_doctor_says_when_retention_is_off_and_when_backups_hold_destroyed_words(
    ret_node: Node, fixed: clock.FixedClock
) -> None:
    from intake.backup_record import record_backup
    from intake.doctor import Level, diagnose

    def finding(settings: Settings) -> tuple[Level, str, str]:
        report = diagnose(settings.home, load=lambda: settings, unlock=None)
        (f,) = [f for f in report.findings if f.check == "retention"]
        return f.level, f.message, f.fix

    off = Settings.load(ret_node.home, env={}, retention_days=0)
    assert finding(off)[0] is Level.OK and "retention_days = 0" in finding(off)[1]
    record_backup(ret_node.home, clock.now_s().isoformat())
    level, message, _ = finding(ret_node.settings)
    assert level is Level.OK and f"{DAYS} days" in message
    fixed.advance(timedelta(days=1))
    retention.record_run(ret_node.home, clock.now_s())  # a run destroyed words after that backup
    level, message, fix = finding(ret_node.settings)
    assert level is Level.WARN and clock.now().date().isoformat() in message
    assert "intake backup" in fix
    fixed.advance(timedelta(hours=1))
    record_backup(ret_node.home, clock.now_s().isoformat())
    assert finding(ret_node.settings)[0] is Level.OK


def test_the_command_prints_counts_and_a_dry_run_changes_nothing(ret_node: Node, fixed: clock.FixedClock) -> None:
    from typer.testing import CliRunner

    from intake.cli.app import app

    store = open_cases(ret_node.settings, ret_node.keys)
    try:
        secret = marker("CLI")
        case_id = store.add_report(
            "item-cli",
            Report(channel=Channel.WEB, description=secret),
            receipt_hash=None,
            reporter_link=None,
            contact=None,
        )
        CaseWork(store, ret_node.keys).update(case_id, seen_version=1, status="closed_unresolved")
    finally:
        store.close()
    fixed.advance(timedelta(days=DAYS + 1))
    runner = CliRunner()
    env = {"INTAKE_PASSPHRASE": ret_node.passphrase, "INTAKE_RETENTION_DAYS": str(DAYS)}
    args = ["--home", str(ret_node.home), "retention", "run"]
    dry = runner.invoke(app, [*args, "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "1 closed case is past 365 days" in dry.output and "Dry run" in dry.output
    assert secret not in dry.output
    done = runner.invoke(app, [*args, "--json"], env=env)
    assert done.exit_code == 0, done.output
    assert '"cases": 1' in done.output and secret not in done.output
    store = open_cases(ret_node.settings, ret_node.keys)
    try:
        assert store.get_case(case_id).description == ""
    finally:
        store.close()


def test_the_desk_runs_retention_after_unlocking_and_says_so_on_the_case(
    ret_node: Node, fixed: clock.FixedClock
) -> None:
    import time

    from fastapi.testclient import TestClient

    from intake.desk.app import create_desk_app
    from tests.intake.desk import login

    store = open_cases(ret_node.settings, ret_node.keys)
    try:
        secret = marker("DESK")
        case_id = store.add_report(
            "item-desk",
            Report(channel=Channel.WEB, description=secret),
            receipt_hash=None,
            reporter_link=None,
            contact=None,
        )
        CaseWork(store, ret_node.keys).update(case_id, seen_version=1, status="withdrawn")
        fixed.advance(timedelta(days=DAYS + 1))
        with TestClient(create_desk_app(ret_node.settings), base_url="http://127.0.0.1:8001") as http:
            assert login(http, ret_node).status_code == 303
            deadline = time.monotonic() + 120  # a bound on waiting for the background run, not a timing
            while store._conn.execute("SELECT expired_at FROM cases WHERE id = ?", (case_id,)).fetchone() == ("",):
                assert time.monotonic() < deadline, "the desk never ran retention"
                time.sleep(0.02)
            page = http.get(f"/cases/{case_id}")
            assert page.status_code == 200
            assert "Words destroyed under the retention policy on " + clock.now().date().isoformat() in page.text
            assert secret not in page.text
    finally:
        store.close()


def test_the_case_list_marks_the_cases_whose_words_were_destroyed(ret_node: Node, fixed: clock.FixedClock) -> None:
    """The list row says so (the case page already does): read for the page's rows by id only, so
    the list's tuned query (intake/store/caselist.py) is the same statement with the same plan."""
    import re

    from fastapi.testclient import TestClient

    from intake.desk.app import create_desk_app
    from intake.store import caselist
    from tests.intake.desk import login

    store = open_cases(ret_node.settings, ret_node.keys)
    try:
        work = CaseWork(store, ret_node.keys)
        gone, kept = (
            store.add_report(f"item-{name}", Report(channel=Channel.WEB, description=f"Synthetic {marker(name)}"),
                             receipt_hash=None, reporter_link=None, contact=None)
            for name in ("GONE", "KEPT")
        )  # fmt: skip
        work.update(gone, seen_version=1, status="withdrawn")
        plans = [
            store._conn.execute("EXPLAIN QUERY PLAN " + q.sql, q.params).fetchall()
            for q in caselist.plan(store._conn, caselist.Filters(), ret_node.settings.deadlines(), clock.now())
        ]
        fixed.advance(timedelta(days=DAYS + 1))
        assert retention.run(ret_node.settings, store, ret_node.keys).case_ids == [gone]
        with TestClient(create_desk_app(ret_node.settings), base_url="http://127.0.0.1:8001") as http:
            assert login(http, ret_node).status_code == 303
            listed = http.get("/cases")
        assert listed.status_code == 200
        rows = {
            int(m[1]): m[2]
            for m in re.finditer(r'<tr class="sev-[^"]*">\s*<td><a href="/cases/(\d+)">(.*?)</tr>', listed.text, re.S)
        }
        assert set(rows) == {gone, kept}
        assert 'class="expired">words destroyed<' in rows[gone]
        assert "words destroyed" not in rows[kept]
        assert plans == [
            store._conn.execute("EXPLAIN QUERY PLAN " + q.sql, q.params).fetchall()
            for q in caselist.plan(store._conn, caselist.Filters(), ret_node.settings.deadlines(), clock.now())
        ], "the list's query is unchanged"
    finally:
        store.close()
