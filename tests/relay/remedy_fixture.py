"""Synthetic case summaries for the remedy record, sealed by synthetic nodes to a real partner home and
opened through the real inbox and partner store (relay.partner.store.open_pending).

``FIXTURE`` is hand-computed: three factories, two nodes, twenty-two cases (see EXPECTED in
tests/relay/test_remedy_record.py for the figures, worked out by hand in its comments).
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from nacl.signing import SigningKey

from crypto.envelope import node_key_string, read_header, seal
from intake.domain import RemedyKind, RemedyState, Verification
from relay.partner.store import open_pending
from relay.summary import CaseSummary, FactoryRecord, OutcomeRecord, RemedyAction
from tests.relay.conftest import Partner

JAN = date(2031, 1, 1)
LONG_AGO = date(2020, 1, 1)  # a due date every test's "today" (and the real clock's) is past: overdue
_refs = itertools.count(1)


def ref() -> str:
    return base64.b32encode(next(_refs).to_bytes(10, "big")).decode().lower()


ALPHA = FactoryRecord(name="Alpha Electronics", country="CN", open_supply_hub_id="CN2031AAAA1",
                      parent_company="Apex Holdings", brands=["BrandX"], public_buyers=["City of Lyon"],
                      registered=True)  # fmt: skip
BETA = FactoryRecord(name="Beta Assembly", country="CN", parent_company="Apex Holdings",
                     brands=["BrandX", "BrandY"], public_buyers=["City of Lyon"], registered=True)  # fmt: skip
GAMMA = FactoryRecord(name="Gamma Components", country="VN", brands=["BrandY"], registered=True)


def summary(
    factory: FactoryRecord,
    status: str,
    state: RemedyState | None = None,
    *,
    days: int | None = None,
    categories: tuple[str, ...] = ("wages",),
    overdue: int = 0,
    full: bool = False,
    case_ref: str | None = None,
    step_done_days: int | None = None,
) -> CaseSummary:
    """One synthetic case first reported in January 2031; ``days``: its outcome was done that many days
    after 1 January; ``step_done_days``: a done step (with an outcome) instead; ``overdue`` steps undone."""
    outcomes = []
    if days is not None:
        outcomes.append(OutcomeRecord(kind=RemedyKind.BACK_PAY, amount="1500", currency="CNY", workers_covered=3,
                                      verified_by=Verification.WORKER, done_on=JAN + timedelta(days=days)))  # fmt: skip
    remedy = [RemedyAction(action="Pay the missing overtime", who="employer", due=LONG_AGO, done=False)] * overdue
    if step_done_days is not None:
        on = JAN + timedelta(days=step_done_days)
        remedy.append(RemedyAction(action="Return the passports", who="employer", due=on, done=True, done_on=on,
                                   outcome=OutcomeRecord(kind=RemedyKind.DOCUMENTS_RETURNED, done_on=on)))  # fmt: skip
    return CaseSummary(
        node_id="synthetic", case_ref=case_ref or ref(), language="en", factory=factory, categories=list(categories),
        severity="normal", first_reported="2031-01", workers_affected="2-9", status=status, remedy=remedy,  # type: ignore[arg-type]
        narrative="synthetic", outcomes=outcomes, remedy_state=state, full_sharing=full,
    )  # fmt: skip


@dataclass
class SyntheticNode:
    name: str
    key: SigningKey = field(default_factory=SigningKey.generate)
    sequence: int = 0


def deliver(partner: Partner, node: SyntheticNode, s: CaseSummary, at: datetime) -> None:
    """Seal ``s`` as ``node`` for the partner, put it in the partner's inbox, open it into partner.db."""
    inbox = partner.home.open_inbox()
    try:
        if node.name not in {n.name for n in inbox.nodes()}:
            inbox.add_node(node.name, node_key_string(node.key.verify_key))
        node.sequence += 1
        data = seal(s.to_bytes(), sender=node.key, recipient=partner.home.keyring().public_key,
                    sequence=node.sequence, created_at=at)  # fmt: skip
        inbox.put(read_header(data), data, via="folder")
    finally:
        inbox.close()
    store = partner.home.open_db(partner.keys)
    try:
        [outcome] = open_pending(partner.home, partner.keys, store)
        assert outcome.ok, outcome
    finally:
        store.close()


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Loaded:
    public_ok: str  # a case whose worker consented to full sharing (Alpha, confirmed)
    public_other: str  # another one (Beta, confirmed)
    consent_one: str  # a case shared with consent 1 only
    nodes: dict[str, SyntheticNode]  # by name: to send updates with the same keys


def load_fixture(partner: Partner) -> Loaded:
    """The hand-computed fixture (22 cases, one of them in three versions) into the partner's store."""
    north, south = SyntheticNode("north"), SyntheticNode("south")
    day = at(date(2031, 6, 1))
    C, U, D, R = (RemedyState.RESOLVED_CONFIRMED, RemedyState.RESOLVED_UNCONFIRMED, RemedyState.DISPUTED,
                  RemedyState.IN_REMEDY)  # fmt: skip
    public_ok, public_other, consent_one = ref(), ref(), ref()
    alpha = [
        summary(ALPHA, "resolved", C, days=10, full=True, case_ref=public_ok),
        summary(ALPHA, "resolved", C, days=20, case_ref=consent_one),
        summary(ALPHA, "resolved", C, days=30, categories=("retaliation",)),
        summary(ALPHA, "resolved", C, days=40),
        summary(ALPHA, "resolved", C, days=50),
        summary(ALPHA, "resolved", C, days=60),
        summary(ALPHA, "resolved", U, days=70),
        summary(ALPHA, "resolved", U, step_done_days=80),
        summary(ALPHA, "resolved", D, categories=("wages", "retaliation")),
        summary(ALPHA, "remedy", D),
        summary(ALPHA, "remedy", R, overdue=1, categories=("retaliation", "health_safety")),
        summary(ALPHA, "remedy", R, overdue=1),
    ]
    for s in alpha:
        deliver(partner, north, s, day)
    beta = [
        summary(BETA, "resolved", C, days=5, full=True, case_ref=public_other),
        summary(BETA, "resolved", C, days=15),
        summary(BETA, "resolved", C, days=25),
        summary(BETA, "resolved", C, days=35),
        summary(BETA, "new"),
        summary(BETA, "new", full=True),
    ]
    for s in beta:
        deliver(partner, south, s, day)
    # One case in three versions, without outcome dates: remedied on the day of the first summary of its
    # last run of "resolved" (11 April 2031, 100 days after 1 January), not of the later confirmation.
    late = ref()
    deliver(partner, south, summary(BETA, "remedy", R, case_ref=late), at(date(2031, 3, 1)))
    deliver(partner, south, summary(BETA, "resolved", U, case_ref=late), at(JAN + timedelta(days=100)))
    deliver(partner, south, summary(BETA, "resolved", C, case_ref=late), at(date(2031, 5, 1)))
    gamma = [
        summary(GAMMA, "remedy", None, overdue=6),  # made before issue 15: no remedy_state, read from status
        summary(GAMMA, "new"),
        summary(GAMMA, "triaged"),
    ]
    for s in gamma:
        deliver(partner, north, s, day)
    return Loaded(public_ok, public_other, consent_one, {"north": north, "south": south})
