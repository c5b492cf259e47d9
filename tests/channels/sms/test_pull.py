"""The polling logic over the gateway interface (the gateway itself is checked against Prism
in test_twilio_contract.py). The in-memory gateway here plays Twilio's part: messages waiting,
deletions refused, 429s, a number Twilio rejects."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from channels.sms.pull import CURSOR, MAX_DELAY, backoff, pull
from channels.sms.service import SmsChannel, SmsInbound, handle_inbound
from channels.sms.twilio_rest import RemoteMessage
from intake.errors import GatewayError, StoreUnavailable
from intake.services import IntakeService
from tests.conftest import Node, drain_node, make_node

NUMBER = "+15550001111"
WORKER = "+8613800138000"


class MemoryTwilio:
    def __init__(self) -> None:
        self.waiting: dict[str, RemoteMessage] = {}
        self.sent: list[tuple[str, str]] = []
        self.refuse_delete: set[str] = set()
        self.redacted: set[str] = set()
        self.send_errors: list[GatewayError] = []
        self._n = 0

    def text(self, body: str, sender: str = WORKER) -> str:
        self._n += 1
        sid = f"SM{self._n:032x}"
        when = datetime(2026, 11, 21, tzinfo=UTC) + timedelta(minutes=self._n)
        self.waiting[sid] = RemoteMessage(sid, "inbound", sender, NUMBER, body, "received", when)
        return sid

    def inbound(self, since: datetime | None) -> list[RemoteMessage]:
        return sorted(self.waiting.values(), key=lambda m: m.sid)

    def finished_outbound(self) -> list[RemoteMessage]:
        return []

    def delete(self, sid: str) -> bool:
        if sid in self.refuse_delete:
            return False
        self.waiting.pop(sid, None)
        return True

    def redact(self, sid: str) -> None:
        self.redacted.add(sid)
        self.waiting.pop(sid, None)

    def send(self, to: str, body: str) -> str:
        if self.send_errors:
            raise self.send_errors.pop(0)
        self.sent.append((to, body))
        return f"SM{len(self.sent):032x}"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Node, SmsChannel, MemoryTwilio]]:
    node = make_node(tmp_path / "node")
    service = IntakeService.open(node.settings)
    try:
        yield node, SmsChannel(service), MemoryTwilio()
    finally:
        service.close()


def test_a_pulled_conversation_becomes_a_case_and_leaves_nothing_at_twilio(env) -> None:
    node, desk, tw = env
    for body in ["hello", "Acme Electronics", "no pay for overtime", "DONE", "1 2", "1", "no"]:
        tw.text(body)
    result = pull(desk, tw)  # type: ignore[arg-type]
    assert result.received == 7 and result.deleted == 7 and tw.waiting == {}
    assert result.sent == len(tw.sent) >= 6
    assert all(to == WORKER for to, _ in tw.sent)
    assert re.search(r"\d{4}-\d{4}-\d{4}-\d{4}", tw.sent[-1][1])
    assert desk.service.inbox.get_meta(CURSOR) is not None
    _, cases = drain_node(node)
    assert len(cases) == 1 and cases[0].factory == "Acme Electronics" and cases[0].channel.value == "sms"


def test_refused_deletion_is_redacted(env) -> None:
    _, desk, tw = env
    sid = tw.text("hello")
    tw.refuse_delete.add(sid)
    result = pull(desk, tw)  # type: ignore[arg-type]
    assert result.redacted == 1 and sid in tw.redacted


def test_rate_limited_send_backs_off_and_is_sent_later(env) -> None:
    _, desk, tw = env
    tw.text("hello")
    tw.send_errors.append(GatewayError("send: HTTP 429 code 20429", retry=True, http_status=429, twilio_code=20429))
    now = time.time()
    first = pull(desk, tw, now=now)  # type: ignore[arg-type]
    assert first.retrying == 1 and first.sent == 0 and tw.sent == []
    assert desk.service.inbox.outbox_due("twilio", int(now)) == [], "not retried at once"
    later = pull(desk, tw, now=now + MAX_DELAY + 1)  # type: ignore[arg-type]
    assert later.sent == 1 and len(tw.sent) == 1


def test_a_number_twilio_rejects_is_given_up(env) -> None:
    _, desk, tw = env
    tw.text("hello")
    tw.send_errors.append(GatewayError("send: HTTP 400 code 21211", retry=False, http_status=400, twilio_code=21211))
    result = pull(desk, tw)  # type: ignore[arg-type]
    assert result.dropped == 1 and desk.service.inbox.outbox_due("twilio", 2**62) == []


def test_full_inbox_deletes_nothing_at_twilio(env) -> None:
    _, desk, tw = env
    sid = tw.text("hello")
    conn = desk.service.inbox._conn
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")
    with pytest.raises(StoreUnavailable):
        for i in range(50):  # fill what little room is left, then the pull cannot store
            tw.text("x" * 1500 + str(i))
            pull(desk, tw)  # type: ignore[arg-type]
    assert sid in tw.waiting or desk.service.inbox.sms_session(desk.reporter(WORKER)) is not None
    assert any(m.body.startswith("x") for m in tw.waiting.values()), "what could not be stored stays at Twilio"


def test_messages_already_taken_by_webhook_are_only_deleted(env) -> None:
    _, desk, tw = env
    sid = tw.text("hello")
    webhook_replies = handle_inbound(desk, SmsInbound("twilio", sid, WORKER, "hello"))
    assert webhook_replies
    result = pull(desk, tw)  # type: ignore[arg-type]
    assert result.deleted == 1 and tw.sent == [], "the webhook already answered; nothing is sent twice"


@given(st.integers(min_value=0, max_value=10_000))
def test_backoff_is_bounded_and_grows(attempts: int) -> None:
    delay = backoff(attempts)
    assert 0 < delay <= MAX_DELAY
    assert backoff(0) <= 30
