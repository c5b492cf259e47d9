"""The first severity guess: the worst reports come first in the desk's queue."""

from __future__ import annotations

import pytest

from intake.domain import Category, Channel, Report
from intake.triage import initial_severity
from tests.conftest import Node, drain_node


def r(text: str, **kw: object) -> Report:
    return Report(channel=Channel.WEB, description=text, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "text",
    [
        "Yesterday a press crushed a worker's hand and he lost two fingers.",
        "A worker died on the night shift.",
        "There was a gas leak and three women fainted.",
        "昨天夜班冲压机伤了一个工人，他失去了两根手指。",
        "老板跑路了，三个月工资没发。",
        "车间主任扣押了我们的身份证。",
        "Hubo una explosión en la línea 2.",
        "Công nhân bị thương ở tay.",
    ],
)
def test_urgent(text: str) -> None:
    assert initial_severity(r(text)) == "urgent"


@pytest.mark.parametrize(
    "text",
    [
        "Overtime is paid at the normal rate.",
        "宿舍太挤了，二十个人一间。",
        "The canteen food is bad and expensive.",
        "Fired up about the new schedule",  # "fire" must be a whole word
    ],
)
def test_normal(text: str) -> None:
    assert initial_severity(r(text)) == "normal"


def test_retaliation_is_urgent() -> None:
    assert initial_severity(r("They moved us to the worst line.", categories=[Category.RETALIATION])) == "urgent"


def test_drain_sets_it_and_the_urgent_case_comes_first(node: Node) -> None:
    from intake.services import IntakeService, accept_report
    from intake.store.casework import CaseWork, Filters

    service = IntakeService.open(node.settings)
    try:
        accept_report(service, r("The canteen charges twice."))
        accept_report(service, r("冲压机伤了工人的手指"))
        accept_report(service, r("Overtime is not paid."))
    finally:
        service.close()
    _, cases = drain_node(node)
    assert sorted(c.severity for c in cases) == ["normal", "normal", "urgent"]
    from intake.node import open_cases

    store = open_cases(node.settings, node.keys)
    try:
        first = CaseWork(store, node.keys).find(Filters())[0]
    finally:
        store.close()
    assert first.description == "冲压机伤了工人的手指"
