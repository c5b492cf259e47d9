"""The relay part of ``intake demo``: a demo partner on loopback, two approved summaries, opened.

Everything a real pairing does happens here, only without the phone call to compare fingerprints:
the partner registers the node's key and gets a token for it; the node registers the partner's key,
URL and token; a coordinator approves two consented cases (bound to the summary's hash); the node
pushes the sealed envelopes over HTTP; the partner verifies, decrypts and lists them; then the partner
asks a question about one case and the node takes it on its next push (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.console import Console
from rich.table import Table
from rich.text import Text

from crypto import NodeKeys
from crypto.envelope import node_key_string
from i18n import d_
from intake.demo.servers import bind_loopback, start_server
from intake.node import load_keyring, open_cases
from intake.settings import Settings
from relay.gate import Relay
from relay.partner.app import create_partner_app
from relay.partner.home import init_partner
from relay.partner.outgoing import compose
from relay.partner.store import open_pending
from relay.transport import push

DEMO_PARTNER_USER = "analyst"
DEMO_QUESTION = "Has the factory answered about the unpaid overtime? We plan to raise it with the brand this month."


@dataclass(frozen=True)
class RelayDemo:
    partner_home: Path
    opened: int
    refs: list[str]
    url: str = ""  # the partner's inbox, as the node registered it


def run_relay_demo(settings: Settings, keys: NodeKeys, passphrase: str, console: Console, count: int = 2) -> RelayDemo:
    partner_home = settings.home.with_name(settings.home.name + "-partner")
    home = init_partner(partner_home, user=DEMO_PARTNER_USER, passphrase=passphrase, profile="interactive")
    inbox = home.open_inbox()
    try:
        _node, token = inbox.add_node("demo-node", node_key_string(load_keyring(settings).verify_key))
    finally:
        inbox.close()
    sock = bind_loopback(0)
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server, thread = start_server(create_partner_app(home), sock)
    try:
        store = open_cases(settings, keys)
        try:
            relay = Relay(store, keys, patterns=settings.relay_patterns())
            relay.add_partner("demo-partner", home.key_string(), url=url, token=token)
            approved = 0
            for case_id, state, _consent, _status in sorted(relay.reviews(), key=lambda r: r[0]):
                if state != "to_review":
                    continue
                relay.approve(case_id, relay.review(case_id).content_hash)
                approved += 1
                if approved == count:
                    break
            with httpx.Client(timeout=10) as client:
                sent = push(relay, client)
                pkeys = home.unlock(DEMO_PARTNER_USER, passphrase)
                pstore = home.open_db(pkeys)
                try:
                    outcomes = open_pending(home, pkeys, pstore)
                    latest = pstore.latest()
                    if latest:  # the partner answers (issue 15): a question the node takes on its next push
                        compose(home, pkeys, pstore, sorted(v.summary.case_ref for v, _ in latest)[0], DEMO_QUESTION)
                finally:
                    pstore.close()
                answered = push(relay, client).messages.outcomes if latest else []
        finally:
            store.close()
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()
    console.print(
        d_("Relayed {n} approved summaries to a demo partner over HTTP ({url}).").format(n=len(sent.delivered), url=url)
    )
    table = Table(d_("Case"), d_("Factory"), d_("Categories"), d_("Month"), d_("Narrative (redacted)"))
    for version, _n in latest:
        s = version.summary
        narrative = s.narrative if len(s.narrative) <= 70 else s.narrative[:70] + "…"
        table.add_row(s.case_ref, Text(s.factory.name), ", ".join(s.categories), s.first_reported, Text(narrative))
    console.print(
        d_("The partner verified and opened {n} envelopes (signed by the demo node):").format(
            n=sum(o.ok for o in outcomes)
        )
    )
    console.print(table)
    for o in answered:
        if o.status == "stored":
            console.print(
                d_("The partner asked a question about case {id}; the node took it on its next push (see the case in the desk).")
                .format(id=o.case_id)
            )  # fmt: skip
    return RelayDemo(partner_home, sum(o.ok for o in outcomes), [v.summary.case_ref for v, _ in latest], url)
