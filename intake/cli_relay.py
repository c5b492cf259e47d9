"""``intake relay ...`` (a node sending summaries) and ``intake partner ...`` (an organisation receiving them)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from i18n import d_, dn_
from intake.cli_common import (
    JsonOpt,
    PassEnvOpt,
    PassFileOpt,
    UserOpt,
    _slow,
    _state,
    console,
    err,
    fail,
    read_passphrase,
    unlocked_cases,
)
from intake.settings import default_home

relay_app = typer.Typer(help=d_("Send approved, anonymised case summaries to partners."), no_args_is_help=True)
partners_app = typer.Typer(help=d_("The partners this node relays to."), no_args_is_help=True)
partner_app = typer.Typer(
    help=d_("The receiving end: a monitoring organisation's inbox and cases."), no_args_is_help=True
)
partner_keys_app = typer.Typer(help=d_("The partner's public keys."), no_args_is_help=True)
partner_nodes_app = typer.Typer(help=d_("The labour groups (nodes) this partner accepts."), no_args_is_help=True)
partner_cases_app = typer.Typer(help=d_("Opened case summaries (needs the passphrase)."), no_args_is_help=True)
relay_app.add_typer(partners_app, name="partners")
partner_app.add_typer(partner_keys_app, name="keys")
partner_app.add_typer(partner_nodes_app, name="nodes")
partner_app.add_typer(partner_cases_app, name="cases")

PartnerHomeOpt = Annotated[
    Path | None,
    typer.Option("--home", envvar="INTAKE_PARTNER_HOME", help=d_("Partner folder (default: a per-user data folder).")),
]
_partner_home: dict[str, Path | None] = {"home": None}


def register(app: typer.Typer) -> None:
    app.add_typer(relay_app, name="relay")
    app.add_typer(partner_app, name="partner")


def _relay(store: Any, keys: Any, settings: Any) -> Any:
    from relay.gate import Relay

    return Relay(store, keys, patterns=settings.relay_patterns())


# -- intake relay ---------------------------------------------------------------------------------------


@relay_app.command("key")
def relay_key() -> None:
    """Print this node's public signing key, for a partner's 'intake partner nodes add'."""
    from crypto.envelope import node_key_string
    from intake.node import load_keyring

    ring = load_keyring(_state.node())
    console.print(node_key_string(ring.verify_key))
    console.print(
        d_("Fingerprint (compare it with the partner by phone): {fp}").format(fp=ring.fingerprints()["ed25519"])
    )


@partners_app.command("add")
def partners_add(
    name: Annotated[str, typer.Argument(help=d_("A short name for the partner."))],
    key: Annotated[str, typer.Option("--key", help=d_("The partner's key (intake-partner1:...)."))],
    url: Annotated[
        str, typer.Option("--url", help=d_("The partner's inbox URL (https://...); none for USB only."))
    ] = "",
    token_file: Annotated[
        Path | None, typer.Option("--token-file", help=d_("File holding the token the partner gave you."))
    ] = None,
    token: Annotated[str | None, typer.Option("--token", envvar="INTAKE_RELAY_TOKEN", hidden=True)] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Register a partner; prints its fingerprints: compare them with the partner before relaying."""
    from crypto import fingerprint
    from crypto.envelope import parse_partner_key

    try:
        box, receipts = parse_partner_key(key.strip())
    except ValueError as exc:
        fail(d_("Not a partner key: {reason}").format(reason=exc))
    secret = ""
    if url:
        if token_file is not None:
            try:
                secret = token_file.read_text("utf-8").strip()
            except OSError as exc:
                fail(d_("Cannot read {path}: {reason}").format(path=token_file, reason=exc.strerror))
        else:
            secret = read_passphrase(None, token, prompt=d_("The partner's token for this node"))
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        partner = _relay(store, keys, settings).add_partner(name, key, url=url, token=secret)
    console.print(d_("Partner {name} added.").format(name=escape(partner.name)))
    console.print(d_("Encryption key fingerprint: {fp}").format(fp=fingerprint(bytes(box), kind="x25519")))
    console.print(d_("Receipt key fingerprint:    {fp}").format(fp=fingerprint(bytes(receipts), kind="ed25519")))
    console.print(d_("Compare both with the partner (by phone, not by e-mail) before approving summaries."))


@partners_app.command("list")
def partners_list(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """The registered partners and their outbox."""
    from crypto import fingerprint

    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        relay = _relay(store, keys, settings)
        partners = relay.partners()
        rows = relay.outbox()
    out = []
    for p in partners:
        mine = [r for r in rows if r.partner == p.name]
        out.append({
            "name": p.name, "url": p.url, "fingerprint": fingerprint(p.box_key, kind="x25519"),
            "delivered": sum(1 for r in mine if r.delivered_at),
            "pending": sum(1 for r in mine if not r.delivered_at and not r.cancelled),
        })  # fmt: skip
    if as_json:
        console.print_json(json.dumps(out))
        return
    if not out:
        console.print(d_("No partners yet: 'intake relay partners add NAME --key KEY --url URL'."))
        return
    table = Table(d_("Name"), d_("Inbox"), d_("Fingerprint"), d_("Delivered"), d_("Pending"))
    for p in out:
        table.add_row(p["name"], p["url"] or d_("(USB only)"), p["fingerprint"], str(p["delivered"]), str(p["pending"]))
    console.print(table)


@partners_app.command("remove")
def partners_remove(
    name: str, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Forget a partner; its undelivered envelopes are cancelled."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        cancelled = _relay(store, keys, settings).remove_partner(name)
    console.print(
        dn_(
            "Partner {name} removed; {n} undelivered envelope cancelled.",
            "Partner {name} removed; {n} undelivered envelopes cancelled.",
            cancelled,
        ).format(name=escape(name), n=cancelled)
    )


@relay_app.command("preview")
def relay_preview(
    case_id: int,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Print exactly what would be sealed for each partner, and whether it may leave."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        relay = _relay(store, keys, settings)
        review = relay.review(case_id)
        partners = relay.partners()
        from relay.summary import REF_LABEL

        ref_key = keys.key(REF_LABEL)
        per_partner = [(p.name, review.draft.for_partner(ref_key, p.box_key)) for p in partners]
    doc = {
        "case_id": case_id,
        "state": review.state,
        "reason": review.reason,
        "summary_sha256": review.content_hash,
        "approved_by": review.approved_by,
        "approved_at": review.approved_at,
        "removed": [{"kind": r.kind, "start": r.start, "end": r.end} for r in review.draft.narrative.removals],
        "partners": [{"partner": name, "summary": s.model_dump(mode="json")} for name, s in per_partner],
    }
    if not per_partner:
        doc["partners"] = [{"partner": None, "summary": review.draft.summary.model_dump(mode="json")}]
    if as_json:
        console.print_json(json.dumps(doc, ensure_ascii=False))
        return
    from intake.desk.relay import STATE_LABELS

    console.print(d_("Case {id}: {state}").format(id=case_id, state=d_(STATE_LABELS[review.state])), highlight=False)
    console.print(d_("Summary hash (approve exactly this): {hash}").format(hash=review.content_hash))
    for entry in doc["partners"]:
        console.print(d_("For partner {name}:").format(name=entry["partner"] or d_("(none registered)")))
        console.print_json(json.dumps(entry["summary"], ensure_ascii=False))


@relay_app.command("approve")
def relay_approve(
    case_id: int,
    summary_hash: Annotated[
        str, typer.Option("--hash", help=d_("The summary hash printed by 'intake relay preview'."))
    ],
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Approve a case's summary as previewed (coordinators only) and queue it for every partner."""
    from crypto import Role

    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        if keys.role is not Role.COORDINATOR:
            fail(d_("Only a coordinator can approve what leaves the node."))
        from relay.gate import NotEligible, Stale

        relay = _relay(store, keys, settings)
        try:
            queued = relay.approve(case_id, summary_hash.strip())
        except Stale:
            fail(d_("The summary changed since it was shown; run 'intake relay preview' again and approve its hash."))
        except NotEligible:
            from intake.desk.relay import STATE_LABELS

            fail(d_(STATE_LABELS[relay.review(case_id).state]))
    console.print(
        dn_(
            "Approved; {n} envelope queued. Send it with 'intake relay push' or 'intake relay export'.",
            "Approved; {n} envelopes queued. Send them with 'intake relay push' or 'intake relay export'.",
            queued,
        ).format(n=queued)
    )


@relay_app.command("push")
def relay_push(
    force: Annotated[bool, typer.Option("--force", help=d_("Try now, whatever the back-off says."))] = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Send queued envelopes to the partners' inboxes over HTTPS; retries later what fails."""
    import httpx

    from relay.transport import push

    with (
        unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store),
        httpx.Client(timeout=30.0, follow_redirects=False) as client,
    ):
        report = push(_relay(store, keys, settings), client, force=force)
    console.print(
        d_("{delivered} delivered, {failed} failed (retried later), {cancelled} cancelled, {waiting} waiting.").format(
            delivered=len(report.delivered), failed=len(report.failed), cancelled=len(report.cancelled),
            waiting=report.waiting,
        )
    )  # fmt: skip
    for envelope_id, error in report.failed.items():
        err.print(f"{envelope_id}: {escape(error)}", highlight=False)
    if report.failed:
        raise typer.Exit(2)


@relay_app.command("export")
def relay_export(
    to: Annotated[Path, typer.Option("--to", help=d_("Folder to write the envelopes to (e.g. a USB stick)."))],
    partner: Annotated[str | None, typer.Option("--partner", help=d_("Only this partner's envelopes."))] = None,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Write undelivered envelopes as files (sealed: safe to carry); the partner imports the folder."""
    from relay.transport import export

    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        try:
            written = export(_relay(store, keys, settings), to, partner=partner)
        except OSError as exc:
            fail(d_("Cannot write to {path}: {reason}").format(path=to, reason=exc.strerror))
    console.print(
        dn_("{n} envelope written to {path}.", "{n} envelopes written to {path}.", len(written)).format(
            n=len(written), path=to
        )
    )


@relay_app.command("outbox")
def relay_outbox(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Every envelope queued: to whom, for which case, delivered or why not yet."""
    with unlocked_cases(user, passphrase_file, passphrase) as (settings, keys, store):
        rows = _relay(store, keys, settings).outbox()
    if as_json:
        console.print_json(json.dumps([r.__dict__ for r in rows]))
        return
    table = Table(d_("Sequence"), d_("Partner"), d_("Case"), d_("State"), d_("Attempts"), d_("Last error"))
    for r in rows:
        state = (
            d_("delivered {at}").format(at=r.delivered_at) if r.delivered_at
            else d_("cancelled: {why}").format(why=r.cancelled) if r.cancelled
            else d_("exported {at}").format(at=r.exported_at) if r.exported_at
            else d_("pending")
        )  # fmt: skip
        table.add_row(str(r.sequence), r.partner, str(r.case_id or ""), state, str(r.attempts), escape(r.last_error))
    console.print(table)


# -- intake partner ---------------------------------------------------------------------------------------


@partner_app.callback()
def partner_options(home: PartnerHomeOpt = None) -> None:
    _partner_home["home"] = home


def _home() -> Any:
    from relay.partner import PartnerHome

    home = _partner_home["home"] or default_home(os.environ).with_name("grievance-intake-partner")
    return PartnerHome(Path(home).expanduser())


def _unlock_partner(user: str | None, passphrase_file: Path | None, passphrase: str | None) -> Any:
    from crypto import WrongPassphrase

    home = _home()
    home.keyring()  # no home: say so before asking for a passphrase
    secret = read_passphrase(passphrase_file, passphrase, prompt=d_("Passphrase"))
    try:
        return home, home.unlock(user, secret, sleep=_slow)
    except WrongPassphrase:
        fail(d_("Wrong user or passphrase. Nothing was changed."))


@contextmanager
def _partner_db(
    user: str | None, passphrase_file: Path | None, passphrase: str | None
) -> Iterator[tuple[Any, Any, Any]]:
    """Unlock the partner and open partner.db for the body of a ``with``: (home, keys, store)."""
    home, keys = _unlock_partner(user, passphrase_file, passphrase)
    store = home.open_db(keys)
    try:
        yield home, keys, store
    finally:
        store.close()


def _print_partner_key(home: Any) -> None:
    fps = home.fingerprints()
    console.print(d_("Partner key (give it to each labour group):"))
    console.print(home.key_string())
    console.print(d_("Encryption key fingerprint: {fp}").format(fp=fps["x25519"]))
    console.print(d_("Receipt key fingerprint:    {fp}").format(fp=fps["receipts"]))


@partner_app.command("init")
def partner_init(
    user: Annotated[str, typer.Option("--user", help=d_("Name of the first user."))] = "analyst",
    kdf_profile: Annotated[str, typer.Option("--kdf-profile", help=d_("Argon2id cost."))] = "moderate",
    allow_insecure_kdf: Annotated[bool, typer.Option("--allow-insecure-kdf", hidden=True)] = False,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Create a partner home: keyring, inbox key, encrypted inbox and partner stores."""
    from crypto.kdf import INSECURE_PROFILES, PROFILES
    from relay.partner import init_partner

    if kdf_profile not in PROFILES or (kdf_profile in INSECURE_PROFILES and not allow_insecure_kdf):
        fail(d_("Unknown KDF profile {name}; choose one of: {choices}").format(
            name=kdf_profile, choices=", ".join(p for p in PROFILES if p not in INSECURE_PROFILES)))  # fmt: skip
    home = _home()
    secret = read_passphrase(passphrase_file, passphrase, prompt=d_("New passphrase"), confirm=True)
    init_partner(home.home, user=user, passphrase=secret, profile=kdf_profile)
    console.print(d_("Partner home created in {home}").format(home=home.home))
    _print_partner_key(home)


@partner_keys_app.command("show")
def partner_keys_show() -> None:
    """The partner key and its fingerprints (no passphrase needed)."""
    _print_partner_key(_home())


@partner_nodes_app.command("add")
def partner_nodes_add(
    name: str,
    key: Annotated[str, typer.Option("--key", help=d_("The node's key, from 'intake relay key' there."))],
) -> None:
    """Accept envelopes from a node; prints the token that node needs (shown once)."""
    inbox = _home().open_inbox()
    try:
        node, token = inbox.add_node(name, key)
    finally:
        inbox.close()
    console.print(d_("Node {name} registered. Fingerprint (compare it by phone): {fp}").format(
        name=escape(node.name), fp=node.fingerprint))  # fmt: skip
    console.print(d_("Its token (give it to the node over a safe channel; it is not shown again):"))
    console.print(token, highlight=False)


@partner_nodes_app.command("list")
def partner_nodes_list(as_json: JsonOpt = False) -> None:
    """The registered nodes."""
    inbox = _home().open_inbox()
    try:
        nodes = inbox.nodes()
    finally:
        inbox.close()
    rows = [{"name": n.name, "fingerprint": n.fingerprint, "added_at": n.added_at} for n in nodes]
    if as_json:
        console.print_json(json.dumps(rows))
        return
    table = Table(d_("Name"), d_("Fingerprint"), d_("Added"))
    for r in rows:
        table.add_row(r["name"], r["fingerprint"], r["added_at"])
    console.print(table)


@partner_nodes_app.command("remove")
def partner_nodes_remove(name: str) -> None:
    """Stop accepting a node's envelopes (its token stops working; opened summaries stay)."""
    inbox = _home().open_inbox()
    try:
        inbox.remove_node(name)
    finally:
        inbox.close()
    console.print(d_("Node {name} removed.").format(name=escape(name)))


@partner_app.command("serve")
def partner_serve(
    host: Annotated[str, typer.Option("--host", help=d_("Address to listen on."))] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help=d_("Port to listen on."))] = 8020,
) -> None:
    """Run the partner's inbox (put it behind TLS). Never needs the passphrase."""
    import uvicorn

    from intake.logs import setup_logging, uvicorn_log_config
    from relay.partner_app import create_partner_app

    setup_logging("INFO")
    app = create_partner_app(_home())
    console.print(d_("Partner inbox listening on http://{host}:{port}").format(host=host, port=port))
    uvicorn.run(
        app, host=host, port=port, access_log=False, server_header=False, log_config=uvicorn_log_config()
    )  # fmt: skip


@partner_app.command("import")
def partner_import(folder: Annotated[Path, typer.Argument(help=d_("Folder with .envelope files."))]) -> None:
    """Take envelopes from a folder (a USB stick) into the inbox; open them with 'intake partner open'."""
    from relay.partner import import_folder

    if not folder.is_dir():
        fail(d_("{path} is not a folder.").format(path=folder))
    results = import_folder(_home(), folder)
    taken = [name for name, why in results if not why]
    for name, why in results:
        if why:
            err.print(d_("{file}: refused ({reason})").format(file=name, reason=escape(why)), highlight=False)
    console.print(
        dn_(
            "{n} envelope taken into the inbox; {bad} refused.",
            "{n} envelopes taken into the inbox; {bad} refused.",
            len(taken),
        ).format(n=len(taken), bad=len(results) - len(taken))
    )


@partner_app.command("open")
def partner_open(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Verify and decrypt every envelope in the inbox; refuse replays, unknown senders, bad signatures."""
    from relay.partner import open_pending

    with _partner_db(user, passphrase_file, passphrase) as (home, keys, store):
        outcomes = open_pending(home, keys, store)
    if as_json:
        console.print_json(json.dumps([o.__dict__ for o in outcomes]))
    else:
        for o in outcomes:
            if o.ok:
                console.print(d_("{id}: opened, from {node}, case {ref}, #{seq}").format(
                    id=o.envelope_id, node=escape(o.node), ref=o.case_ref, seq=o.sequence), highlight=False)  # fmt: skip
            else:
                err.print(d_("{id}: refused: {reason} ({message})").format(
                    id=o.envelope_id, reason=o.reason, message=escape(o.message)), highlight=False)  # fmt: skip
        console.print(d_("{ok} opened, {bad} refused.").format(
            ok=sum(o.ok for o in outcomes), bad=sum(not o.ok for o in outcomes)))  # fmt: skip
    if any(not o.ok for o in outcomes):
        raise typer.Exit(2)


@partner_cases_app.command("list")
def partner_cases_list(
    as_json: JsonOpt = False, user: UserOpt = None, passphrase_file: PassFileOpt = None, passphrase: PassEnvOpt = None
) -> None:
    """Every case received (newest version), across all nodes."""
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        latest = store.latest()
    rows = [
        {
            "node": v.node, "case_ref": v.summary.case_ref, "factory": v.summary.factory.name,
            "country": v.summary.factory.country, "categories": v.summary.categories, "severity": v.summary.severity,
            "first_reported": v.summary.first_reported, "status": v.summary.status, "versions": n,
        }
        for v, n in sorted(latest, key=lambda x: (x[0].node, x[0].summary.case_ref))
    ]  # fmt: skip
    if as_json:
        console.print_json(json.dumps(rows, ensure_ascii=False))
        return
    table = Table(d_("Node"), d_("Case"), d_("Factory"), d_("Categories"), d_("Month"), d_("Status"), d_("Versions"))
    for r in rows:
        table.add_row(
            escape(r["node"]), r["case_ref"], escape(r["factory"]), ", ".join(r["categories"]),
            r["first_reported"], r["status"], str(r["versions"]),
        )  # fmt: skip
    console.print(table)


@partner_cases_app.command("show")
def partner_cases_show(
    case_ref: str,
    as_json: JsonOpt = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """One case's summaries, oldest first (each later one is an update)."""
    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        versions = store.history(case_ref.strip().lower())
    if not versions:
        fail(d_("No case {ref}.").format(ref=case_ref))
    doc = [
        {"node": v.node, "sequence": v.sequence, "sent_at": v.created_at.isoformat(), "via": v.via,
         "summary": v.summary.model_dump(mode="json")}
        for v in versions
    ]  # fmt: skip
    if as_json:
        console.print_json(json.dumps(doc, ensure_ascii=False))
        return
    for entry in doc:
        console.print(d_("From {node}, #{seq}, sent {at} ({via}):").format(
            node=escape(entry["node"]), seq=entry["sequence"], at=entry["sent_at"], via=entry["via"]), highlight=False)  # fmt: skip
        console.print_json(json.dumps(entry["summary"], ensure_ascii=False))


@partner_app.command("report")
def partner_report(
    as_json: JsonOpt = False,
    as_csv: Annotated[bool, typer.Option("--csv", help=d_("Print CSV."))] = False,
    user: UserOpt = None,
    passphrase_file: PassFileOpt = None,
    passphrase: PassEnvOpt = None,
) -> None:
    """Cases by factory, category and month across all nodes; counts under 5 shown as <5."""
    from intake.stats import public_csv
    from relay.partner import report

    with _partner_db(user, passphrase_file, passphrase) as (_home, _keys, store):
        doc = report(store)
    if as_csv:
        console.print(public_csv(doc), end="", highlight=False, markup=False)
        return
    if as_json:
        console.print_json(json.dumps(doc, ensure_ascii=False))
        return
    tables = (
        ("factory_by_category", d_("By factory")),
        ("month_by_category", d_("By month")),
        ("factory_by_month", d_("By factory and month")),
    )
    for name, title in tables:
        t = doc[name]
        table = Table(title=title)
        table.add_column("")
        for col in t["columns"]:
            table.add_column(col)
        table.add_column(d_("Total"))
        for row, cells, total in zip(t["rows"], t["cells"], t["row_totals"], strict=True):
            table.add_row(escape(row), *map(str, cells), str(total))
        table.add_row(d_("Total"), *map(str, t["column_totals"]), str(t["total"]))
        console.print(table)
    groups = Table(d_("Factory"), d_("Labour groups reporting it"), title=d_("Groups per factory"))
    for factory, n in doc["groups_per_factory"].items():
        groups.add_row(escape(factory), str(n))
    console.print(groups)
    console.print(escape(doc["note"]))
