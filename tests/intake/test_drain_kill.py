"""A drain killed with SIGKILL in the middle of a batch loses nothing and stores nothing twice.

A real process drains a few thousand sealed synthetic reports (and follow-ups to some of them)
in batches of one write transaction each, printing the progress each committed batch reports.
The test kills it with SIGKILL at several points: right after a progress line (between a batch's
commit and its inbox delete, or just after), and at fractions of a batch's time after one (while
items are opened, or inside the batch's transaction). After each kill every item gone from the
inbox must be in cases.db, and no report may be there twice. A last drain then leaves every
report exactly once (by its unique marker), every follow-up once on its own report's case, and
the inbox empty.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from crypto import seal_item
from intake import clock
from intake.domain import Channel, FollowUp, Report
from intake.drain import drain
from intake.node import load_keyring, open_cases, open_inbox
from intake.services import ITEM_VERSION
from tests.conftest import Node, make_node

pytestmark = pytest.mark.slow

REPORTS = 3000
FOLLOWUP_EVERY = 40  # every 40th report gets a follow-up, queued a little later
BATCH = 200
# (progress lines to wait for, fraction of a batch's time to wait after the last one)
KILLS = [(2, 0.0), (2, 0.3), (1, 0.6), (2, 0.9), (1, 0.0), (1, 0.45)]
ROUND_TIMEOUT = 120.0

CHILD = """
import sys
from intake.drain import drain
from intake.node import open_cases, open_inbox, unlock
from intake.settings import Settings
from tests.conftest import PASSPHRASE, USER
settings = Settings.load(sys.argv[1], env={})
keys = unlock(settings, USER, PASSPHRASE)
inbox, cases = open_inbox(settings), open_cases(settings, keys)
print("ready", flush=True)
result = drain(inbox, cases, keys, batch=int(sys.argv[2]), progress=lambda n: print(n, flush=True))
inbox.close()
cases.close()
print("done", result.cases, result.followups, result.already, result.unreadable, flush=True)
"""


def sealed_items(node: Node) -> tuple[list[tuple[str, bytes]], dict[str, str]]:
    """(item id, sealed blob) in queue order, and each follow-up's text -> its report's marker."""
    public = load_keyring(node.settings).public_key
    start = clock.now_s() - timedelta(days=1)
    items: list[tuple[str, bytes]] = []
    followups: dict[str, str] = {}
    waiting: list[tuple[str, str]] = []  # (receipt hash, marker) of reports whose follow-up comes later

    def seal(doc: dict[str, object]) -> None:
        item_id = secrets.token_hex(16)
        payload = json.dumps({"v": ITEM_VERSION, "id": item_id, **doc}, ensure_ascii=False).encode()
        items.append((item_id, seal_item(payload, to=public)))

    for i in range(REPORTS):
        marker = f"mk{i:05d}"
        receipt_hash = secrets.token_bytes(32).hex()
        report = Report(
            channel=Channel.WEB if i % 3 else Channel.SMS,
            received_at=start + timedelta(seconds=i),
            locale="zh_Hans" if i % 4 == 0 else "en",
            factory=f"Synthetic Factory {i % 37}",
            categories=["wages"] if i % 2 else ["working_hours", "dormitory"],  # type: ignore[list-item]
            description=f"Synthetic drain report {marker}: overtime unpaid on line {i % 11}. 工资拖欠。",
        )
        seal({"kind": "report", "receipt_hash": receipt_hash, "report": report.model_dump(mode="json")})
        if i % FOLLOWUP_EVERY == FOLLOWUP_EVERY - 1:
            waiting.append((receipt_hash, marker))
        if waiting and i % FOLLOWUP_EVERY == 5:  # a few items after its report: sometimes in the next batch
            receipt_hash, of = waiting.pop(0)
            text = f"synthetic follow-up fu{i:05d}"
            followups[text] = of
            followup = FollowUp(channel=Channel.SMS, received_at=start + timedelta(seconds=i), text=text)
            seal({"kind": "followup", "receipt_hash": receipt_hash, "followup": followup.model_dump(mode="json")})
    return items, followups


def queue(node: Node, items: list[tuple[str, bytes]]) -> None:
    """Put every item in the inbox, a thousand per commit (the inbox's many-items write)."""
    inbox = open_inbox(node.settings)
    try:
        for start in range(0, len(items), 1000):
            chunk = [(item_id, blob, None) for item_id, blob in items[start : start + 1000]]
            inbox.sms_commit(reporter=b"test-queue", session=None, seen=None, items=chunk)
    finally:
        inbox.close()


def child_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INTAKE_")}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def drain_and_kill(node: Node, lines: int, fraction: float, log: Path) -> bool:
    """Start a drain; SIGKILL it ``fraction`` of a batch's time after its ``lines``-th progress
    line. False if it finished first."""
    root = Path(__file__).resolve().parents[2]
    with log.open("ab") as err:
        proc = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(node.home), str(BATCH)],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
            env=child_env(),
            text=True,
        )
    assert proc.stdout is not None
    watchdog = threading.Timer(ROUND_TIMEOUT, proc.kill)  # a hung child fails the test, not the run
    watchdog.start()
    try:
        seen: list[float] = []
        deadline = time.monotonic() + ROUND_TIMEOUT
        while len(seen) < lines + 1:  # "ready", then the progress lines
            line = proc.stdout.readline()
            if not line or line.startswith("done"):
                proc.wait(timeout=ROUND_TIMEOUT)
                assert proc.returncode == 0, log.read_text(errors="replace")[-2000:]
                return False
            assert line.strip() == "ready" if not seen else int(line) > 0, line
            seen.append(time.monotonic())
            assert time.monotonic() < deadline, "the drain made no progress"
        time.sleep(fraction * (seen[-1] - seen[-2]))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=ROUND_TIMEOUT)
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    # It may have finished in the last moment before the signal; then there is nothing to check.
    return proc.returncode == -signal.SIGKILL


def markers(descriptions: list[str]) -> Counter[str]:
    return Counter(w.rstrip(":") for d in descriptions for w in d.split() if w.startswith("mk"))


def test_a_drain_killed_mid_batch_loses_nothing_and_stores_nothing_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    node = make_node(tmp_path / "home")
    items, followups = sealed_items(node)
    queue(node, items)
    all_ids = [item_id for item_id, _ in items]
    log = tmp_path / "drain.log"

    kills, between, drained_before = 0, 0, 0
    for lines, fraction in KILLS:
        if not drain_and_kill(node, lines, fraction, log):
            break
        kills += 1
        inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
        try:
            left = {item_id for _, item_id, _ in inbox.items(limit=len(items) + 1)}
            drained = cases.drained(all_ids)
            found = markers([c.description for c in cases.list_cases()])
        finally:
            inbox.close()
            cases.close()
        assert set(all_ids) - left <= drained, "an item left the inbox before its batch was committed"
        assert not [m for m, n in found.items() if n > 1], "a report stored twice"
        assert len(drained) > drained_before, "no batch was committed between two kills"
        drained_before = len(drained)
        between += bool(left & drained)  # killed after a commit, before its inbox delete
    assert kills >= 3, f"the drain finished after {kills} kills: nothing was tested"

    inbox, cases = open_inbox(node.settings), open_cases(node.settings, node.keys)
    try:
        result = drain(inbox, cases, node.keys, batch=BATCH)
        left_over = inbox.count()
        drained = cases.drained(all_ids)
        rows = cases.list_cases()
        texts = Counter(f.text for c in rows for f in cases.get_case(c.id).followups)
        attached = {f.text: c.description for c in rows for f in cases.get_case(c.id).followups}
    finally:
        inbox.close()
        cases.close()

    assert result.unreadable == 0 and left_over == 0
    assert drained == set(all_ids)
    assert markers([c.description for c in rows]) == Counter({f"mk{i:05d}": 1 for i in range(REPORTS)})
    assert len(rows) == REPORTS, "a follow-up became a case of its own: its report was not there first"
    assert texts == Counter(dict.fromkeys(followups, 1))
    assert all(f"{marker}:" in attached[text] for text, marker in followups.items())
    with capsys.disabled():
        print(
            f"\n[drain kill -9] {len(items)} items, {kills} kills ({between} between a commit and its inbox "
            f"delete), last drain: {result.cases} cases, {result.followups} follow-ups, {result.already} "
            "already in; every report once, nothing left"
        )
