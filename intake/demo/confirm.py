"""``intake demo``, the last link of the loop (issue 15): the worker confirms on the status page, and
the partner's remedy record counts it.

The demo worker answers "yes, it happened" through the status page's plain form (no JavaScript), as a
worker would; the desk's drain takes the answer into the case; the summary has changed, so it leaves
only after a coordinator approves it again through the review gate (bound to the new summary's hash,
never around it); the node pushes it, the demo partner opens it, and its case list and remedy record
show the case as confirmed by the worker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from crypto import NodeKeys
from intake.demo.relay import DEMO_PARTNER_USER, RelayDemo
from intake.demo.servers import bind_loopback, start_server
from intake.drain import drain
from intake.node import open_cases, open_inbox
from intake.settings import Settings
from relay.gate import Relay
from relay.partner.app import create_partner_app
from relay.partner.home import PartnerHome
from relay.partner.remedy import record
from relay.partner.store import open_pending
from relay.partner.supply import factory_key
from relay.transport import push

YES = "1"  # the status page's options: 1 yes, 2 partly, 3 no


@dataclass(frozen=True)
class Confirmed:
    case_ref: str  # the case as the partner knows it
    remedy_state: str  # in the partner's case list
    factory: str
    shown: object  # the remedy record's confirmed_by_workers cell for the factory, as shown (1-4: "<5")
    counted: int  # the same cell before small-cell suppression (the partner's raw figure)


def answer_on_status_page(base: str, receipt: str) -> bool:
    """The worker looks up ``receipt`` on the status page and answers the question waiting there "yes"."""
    with httpx.Client(base_url=base, timeout=10) as client:
        token = re.search(r'name="csrf" value="([^"]+)"', client.get("/status").text)
        if token is None:
            return False
        page = client.post("/status", data={"csrf": token.group(1), "receipt": receipt}).text
        if "/status/answer" not in page:
            return False
        form = page[page.index("/status/answer") :]
        fields = dict(re.findall(r'name="(csrf|receipt|question|lang)" value="([^"]*)"', form))
        answered = client.post("/status/answer", data={**fields, "answer": YES})
        return answered.status_code == 200


def confirm_and_relay(
    settings: Settings, keys: NodeKeys, passphrase: str, partner: RelayDemo, base: str, receipt: str, case_id: int
) -> Confirmed | None:
    """The worker of ``case_id`` confirms; drain; the coordinator approves the changed summary; push;
    the partner opens it. None when the worker's answer did not reach the case or it may not leave."""
    if not answer_on_status_page(base, receipt):
        return None
    inbox, cases = open_inbox(settings), open_cases(settings, keys)
    try:
        drain(inbox, cases, keys)
    finally:
        inbox.close()
        cases.close()
    home = PartnerHome(partner.partner_home)
    # The partner's inbox again, on the port the node knows it by (the demo's partner is not kept running).
    sock = bind_loopback(int(partner.url.rsplit(":", 1)[1]))
    server, thread = start_server(create_partner_app(home), sock)
    try:
        store = open_cases(settings, keys)
        try:
            relay = Relay(store, keys, patterns=settings.relay_patterns())
            review = relay.review(case_id)
            if review.state != "changed" or review.draft.summary.remedy_state is None:
                return None
            # As a coordinator would on the review page: approve exactly the summary shown (its hash).
            relay.approve(case_id, review.content_hash)
            with httpx.Client(timeout=10) as client:
                push(relay, client)
        finally:
            store.close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    pkeys = home.unlock(DEMO_PARTNER_USER, passphrase)
    pstore = home.open_db(pkeys)
    try:
        refs = [o.case_ref for o in open_pending(home, pkeys, pstore) if o.ok]
        latest = [v for v, _n in pstore.latest() if v.summary.case_ref in refs]
        rec = record(pstore)
    finally:
        pstore.close()
    if not latest:
        return None
    s = latest[0].summary
    line = next(
        f
        for f in rec.factories
        if f.key == factory_key(s.factory.name, s.factory.country, s.factory.open_supply_hub_id)
    )
    return Confirmed(
        s.case_ref, s.remedy_state.value if s.remedy_state else "", s.factory.name,
        line.shown["confirmed_by_workers"], line._counts["confirmed_by_workers"],
    )  # fmt: skip


__all__ = ["Confirmed", "answer_on_status_page", "confirm_and_relay"]
