"""The provider-independent SMS layer: abandoned conversations, RESTART, STOP, sweeping."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from channels.sms.service import SmsDesk, SmsInbound, handle_inbound
from intake.services import IntakeService
from tests.conftest import Node, drain_node, make_node

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
PHONE = "+8613800138000"


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[Node, SmsDesk]]:
    node = make_node(tmp_path / "node")
    service = IntakeService.open(node.settings)
    try:
        yield node, SmsDesk(service)
    finally:
        service.close()


def say(desk: SmsDesk, texts: list[str], start: datetime = T0, sender: str = PHONE) -> datetime:
    now = start
    for i, text in enumerate(texts):
        handle_inbound(desk, SmsInbound("smssync", f"{start.timestamp()}-{i}", sender, text), now=now)
        now += timedelta(minutes=1)
    return now


def test_a_conversation_abandoned_for_a_day_is_kept_internally(env) -> None:
    node, desk = env
    say(desk, ["hello", "Acme", "they hit a worker on line 3", "DONE", "9"])
    # A day later the same number starts over: the old words are stored, not dropped.
    say(desk, ["hello again"], start=T0 + timedelta(days=2))
    _, cases = drain_node(node)
    assert len(cases) == 1
    case = cases[0]
    assert "they hit a worker on line 3" in case.description and case.factory == "Acme"
    assert int(case.consent) == 0 and not case.contact_ok and not case.has_contact


def test_sweep_stores_abandoned_conversations_without_a_new_message(env) -> None:
    node, desk = env
    say(desk, ["hello", "Acme", "unpaid wages for two months"])
    desk._last_sweep = float("-inf")
    desk.sweep(T0 + timedelta(days=2))
    assert desk.service.inbox.stale_sessions(2**62) == []
    _, cases = drain_node(node)
    assert len(cases) == 1 and "unpaid wages" in cases[0].description


def test_nothing_written_means_nothing_kept(env) -> None:
    node, desk = env
    say(desk, ["hello", "Acme"])
    desk._last_sweep = float("-inf")
    desk.sweep(T0 + timedelta(days=2))
    result, _ = drain_node(node)
    assert result.cases == 0


def test_restart_forgets_earlier_text(env) -> None:
    node, desk = env
    say(desk, ["hello", "Acme", "first version", "RESTART", "Bravo", "second version", "DONE", "1", "0", "no"])
    _, cases = drain_node(node)
    assert len(cases) == 1
    assert cases[0].factory == "Bravo" and "first version" not in cases[0].description


def test_stop_forgets_everything(env) -> None:
    node, desk = env
    say(desk, ["hello", "Acme", "something", "STOP"])
    assert desk.service.inbox.sms_session(desk.reporter(PHONE)) is None
    desk._last_sweep = float("-inf")
    desk.sweep(T0 + timedelta(days=3))
    result, _ = drain_node(node)
    assert result.cases == 0
